"""The builder unpacks a push, finds its processes and relays Docker's output."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from paas.builder import (
    Builder,
    BuildRelay,
    discover_process_types,
    extract_source,
    read_healthcheck,
    step_banners,
)
from paas.buildpacks import Buildpack, find_buildpack, render_dockerfile
from paas.buildplans import make_plan
from paas.errors import BuildFailed
from paas.healthcheck import HealthCheck

BANNERS = {
    "RUN python3 -m venv /opt/venv": "-----> Using Python from the stack",
    "RUN pip install -r requirements.txt": "-----> Installing dependencies",
}


def relay(stream: list[dict[str, Any]]) -> tuple[list[str], int]:
    lines: list[str] = []
    reused = BuildRelay(lines.append, BANNERS).relay(stream)
    return lines, reused


def chunks(*lines: str) -> list[dict[str, Any]]:
    return [{"stream": line + "\n"} for line in lines]


def test_step_banners_map_instructions_to_the_comment_above() -> None:
    dockerfile = (
        "FROM stack\n"
        "# -----> Installing dependencies\n"
        "# (cached unless requirements change)\n"
        "\n"
        "RUN  pip   install -r requirements.txt\n"
        "COPY . /app\n"
    )
    assert step_banners(dockerfile) == {
        "RUN pip install -r requirements.txt": "-----> Installing dependencies"
    }


def test_rendered_template_has_banners_for_its_steps(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("")
    python = find_buildpack("python")
    variables = make_plan(python, tmp_path, lambda line: None).variables
    dockerfile = render_dockerfile(
        python, tmp_path, app="shop", stack="stack", variables=variables
    )
    banners = step_banners(dockerfile)
    assert sorted(banners.values()) == [
        "-----> Installing dependencies using 'pip install -r requirements.txt'",
        "-----> Using Python from the stack",
    ]


def test_relay_prints_banners_and_indents_output() -> None:
    lines, _ = relay(
        chunks(
            "Step 1/3 : FROM stack",
            "Step 2/3 : RUN pip install -r requirements.txt",
            " ---> Running in 0123abcd",
            "Collecting flask",
            "  Downloading flask-3.0.whl",
        )
    )
    assert lines == [
        "-----> Installing dependencies",
        "       Collecting flask",
        "       Downloading flask-3.0.whl",
    ]


def test_relay_counts_layers_reused_from_the_cache() -> None:
    lines, reused = relay(
        chunks(
            "Step 1/3 : RUN python3 -m venv /opt/venv",
            " ---> Using cache",
            "Step 2/3 : COPY . /app",
            " ---> Using cache",
            "Step 3/3 : RUN pip install -r requirements.txt",
            " ---> Running in 0123abcd",
        )
    )
    assert reused == 2
    assert lines == [
        "-----> Using Python from the stack",
        "       Reused from the cache: nothing changed",
        "-----> Installing dependencies",
    ]


def test_relay_drops_docker_noise() -> None:
    lines, _ = relay(
        chunks(
            "Step 1/1 : COPY . /app",
            " ---> 4d5e6f7a8b9c",
            "",
            "Removing intermediate container 0123abcd",
            "Successfully built 4d5e6f7a8b9c",
            "Successfully tagged paas/shop:b1",
        )
        + [{"aux": {"ID": "sha256:4d5e"}}]
    )
    assert lines == []


def test_relay_splits_a_chunk_of_several_lines() -> None:
    lines, _ = relay([{"stream": "one\ntwo\r\n"}])
    assert lines == ["       one", "       two"]


def test_build_error_names_the_step_by_its_banner() -> None:
    stream = chunks("Step 1/1 : RUN python manage.py collectstatic --noinput") + [
        {"error": "The command '/bin/sh -c python manage.py' returned a code: 1\n"}
    ]
    banners = {
        "RUN python manage.py collectstatic --noinput": (
            "-----> $ python manage.py collectstatic --noinput"
        )
    }
    with pytest.raises(BuildFailed) as failed:
        BuildRelay(lambda line: None, banners).relay(stream)
    assert failed.value.message == (
        "The build failed at '$ python manage.py collectstatic --noinput': "
        "The command '/bin/sh -c python manage.py' returned a code: 1"
    )


def test_relay_turns_a_build_error_into_build_failed() -> None:
    stream = chunks("Step 1/1 : RUN false") + [
        {
            "errorDetail": {"code": 1},
            "error": "The command '/bin/sh -c false' returned a non-zero code: 1\n",
        }
    ]
    message = (
        r"^The build failed: The command '/bin/sh -c false' "
        r"returned a non-zero code: 1$"
    )
    with pytest.raises(BuildFailed, match=message):
        relay(stream)


class EngineStandIn:
    """Answers ``client.api.build`` with a scripted Docker build stream."""

    def __init__(self, stream: list[dict[str, Any]]) -> None:
        self.api = self
        self.stream = stream
        self.calls: list[dict[str, Any]] = []

    def build(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append(kwargs)
        return self.stream


def python_source(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    (source / "requirements.txt").write_text("flask\n")
    (source / "Procfile").write_text("web: python app.py\n")
    return source


def test_build_reports_image_processes_and_reuse(tmp_path: Path) -> None:
    engine = EngineStandIn(chunks("Step 1/2 : COPY . /app", " ---> Using cache"))
    builder = Builder(engine, "test", "paas/stack:trixie")
    result = builder.build("shop", "b1", python_source(tmp_path), lambda line: None)
    assert (result.image, result.buildpack, result.reused_layers) == (
        "paas/shop:b1",
        "python",
        1,
    )
    assert result.process_types == {"web": "python app.py"}


def test_build_output_follows_heroku_shape(tmp_path: Path) -> None:
    engine = EngineStandIn(chunks("Step 1/2 : COPY . /app", " ---> Using cache"))
    lines: list[str] = []
    Builder(engine, "test", "paas/stack:trixie").build(
        "shop", "b1", python_source(tmp_path), lines.append
    )
    assert lines == [
        "-----> Determining which buildpack to use for this app",
        "       Found requirements.txt",
        "-----> Python app detected",
        "       No Python version was specified. Using Python 3.13 from the stack",
        "       Installing from requirements.txt",
        "-----> Discovering process types",
        "       Procfile declares types -> web",
        "-----> Building image paas/shop:b1 on the paas/stack:trixie stack",
        "       Reused 1 cached layer(s)",
    ]


def test_build_labels_the_image_and_keeps_git_out(tmp_path: Path) -> None:
    engine = EngineStandIn([])
    source = python_source(tmp_path)
    Builder(engine, "p1", "stack").build("shop", "b1", source, lambda line: None)
    labels = {"paas.platform": "p1", "paas.app": "shop", "paas.build": "b1"}
    assert [
        (call["tag"], call["target"], call["dockerfile"], call["labels"])
        for call in engine.calls
    ] == [
        ("paas-cache/shop:build", "build", ".paas/Dockerfile", labels),
        ("paas/shop:b1", None, ".paas/Dockerfile", labels),
    ]
    assert ".git" in (source / ".dockerignore").read_text().split("\n")


def test_pinned_buildpack_skips_detection(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "requirements.txt").write_text("")
    lines: list[str] = []
    builder = Builder(EngineStandIn([]), "test", "stack")
    builder.build("shop", "b1", source, lines.append, pinned_buildpack="python")
    assert lines[:2] == ["-----> Using buildpack: python", "-----> Python app detected"]


def python_with(defaults: dict[str, str]) -> Buildpack:
    return Buildpack("python", "Python", 1, "t", [], default_process_types=defaults)


def test_procfile_types_win_over_buildpack_defaults(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text("web: gunicorn app:app\n")
    defaults = {"web": "python app.py", "clock": "python clock.py"}
    found = discover_process_types(tmp_path, python_with(defaults), lambda line: None)
    assert found == {"web": "gunicorn app:app", "clock": "python clock.py"}


def test_bad_procfile_fails_the_build(tmp_path: Path) -> None:
    (tmp_path / "Procfile").write_text("web: app\n<<<<<<< HEAD\n")
    with pytest.raises(BuildFailed, match=r"^Procfile line 2 is not 'type: command'"):
        discover_process_types(tmp_path, python_with({}), lambda line: None)


def test_mis_cased_procfile_is_reported_and_ignored(tmp_path: Path) -> None:
    (tmp_path / "procfile").write_text("web: app\n")
    lines: list[str] = []
    found = discover_process_types(tmp_path, python_with({}), lines.append)
    assert found == {}
    assert lines == [
        "-----> Discovering process types",
        "       Mis-cased procfile detected; ignoring.",
        "       Rename it to Procfile to have it honored.",
        "       Procfile declares types -> (none)",
    ]


def test_healthcheck_is_read_from_paas_yaml(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text("healthcheck:\n  path: /health\n")
    lines: list[str] = []
    check = read_healthcheck(tmp_path, lines.append)
    assert check == HealthCheck(path="/health")
    assert lines == ["-----> Health check: GET /health must answer 200"]


def test_bad_healthcheck_fails_the_build(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text("healthcheck:\n  path: health\n")
    message = r"^healthcheck path 'health' must start with '/'\.$"
    with pytest.raises(BuildFailed, match=message):
        read_healthcheck(tmp_path, lambda line: None)


def make_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_pushed_archive_is_unpacked(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "push.tar", {"app/main.py": b"print('hi')\n"})
    extract_source(archive, tmp_path / "src")
    assert (tmp_path / "src" / "app" / "main.py").read_bytes() == b"print('hi')\n"


def test_archive_path_leaving_the_tree_fails_the_build(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "push.tar", {"../evil.py": b"x"})
    with pytest.raises(BuildFailed, match=r"^Could not unpack the pushed source: "):
        extract_source(archive, tmp_path / "src")
    assert not (tmp_path / "evil.py").exists()


def test_archive_that_is_not_a_tar_fails_the_build(tmp_path: Path) -> None:
    archive = tmp_path / "push.tar"
    archive.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(BuildFailed, match=r"^Could not unpack the pushed source: "):
        extract_source(archive, tmp_path / "src")


def test_relay_strips_the_colour_of_step_stderr() -> None:
    lines, _ = relay([{"stream": "\x1b[91mnpm warn deprecated x\n\x1b[0m"}])
    assert lines == ["       npm warn deprecated x"]


def test_relay_shows_steps_of_a_dockerfile_without_banners() -> None:
    lines: list[str] = []
    stream = chunks(
        "Step 1/2 : FROM paas/stack:trixie",
        "Step 2/2 : COPY  server.py /srv/",
        " ---> Using cache",
    )
    BuildRelay(lines.append, {}, show_steps=True).relay(stream)
    assert lines == [
        "-----> FROM paas/stack:trixie",
        "-----> COPY server.py /srv/",
        "       Reused from the cache: nothing changed",
    ]


def git_archive_of_empty_commit(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "HOME": str(tmp_path)}
    env |= {"GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    commit = ["git", "commit", "-q", "--allow-empty", "-m", "empty"]
    subprocess.run(commit, cwd=repo, check=True, env=env)
    archive = tmp_path / "push.tar"
    with archive.open("wb") as handle:
        git = ["git", "archive", "--format=tar", "HEAD"]
        subprocess.run(git, cwd=repo, check=True, stdout=handle, env=env)
    return archive


NO_FILES = r"^The pushed commit has no files: add your app's code and push again\.$"


def test_commit_without_files_fails_the_build_clearly(tmp_path: Path) -> None:
    archive = git_archive_of_empty_commit(tmp_path)
    with pytest.raises(BuildFailed, match=NO_FILES):
        extract_source(archive, tmp_path / "src")


def test_tar_without_members_fails_the_build_clearly(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "push.tar", {})
    with pytest.raises(BuildFailed, match=NO_FILES):
        extract_source(archive, tmp_path / "src")


def test_pinned_buildpack_without_its_files_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "requirements.txt").write_text("")
    builder = Builder(EngineStandIn([]), "test", "stack")
    with pytest.raises(BuildFailed) as refused:
        builder.build("shop", "b1", source, lambda line: None, pinned_buildpack="go")
    assert refused.value.message == (
        "This app builds with the go buildpack (set by 'paas buildpacks:set' or "
        "its first push), but this push has none of its files: go.mod. Add one, "
        "or run 'paas buildpacks:clear' to detect the buildpack again."
    )
