"""Build plans read a source tree: versions, install commands, processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paas.buildpacks import find_buildpack
from paas.buildplans import BuildPlan, make_plan
from paas.buildplans.dockerfile import base_images, web_command, wrap_command
from paas.buildplans.golang import main_binaries, required_modules
from paas.errors import BuildFailed


def plan_for(name: str, source: Path) -> tuple[BuildPlan, list[str]]:
    lines: list[str] = []
    return make_plan(find_buildpack(name), source, lines.append), lines


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def package(**fields: object) -> str:
    return json.dumps({"name": "shop", **fields})


# Node.js


def test_node_lockfile_means_npm_ci(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": package(), "package-lock.json": "{}"})
    plan, _ = plan_for("nodejs", tmp_path)
    assert plan.variables["install_command"] == "npm ci"
    assert plan.variables["dependency_files"] == ["package.json", "package-lock.json"]


def test_node_without_lockfile_means_npm_install(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": package(), "yarn.lock": ""})
    plan, lines = plan_for("nodejs", tmp_path)
    assert plan.variables["install_command"] == "npm install"
    assert " !     Found yarn.lock: this platform installs with npm" in lines


def test_node_engines_outside_the_stack_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": package(engines={"node": ">=22"})})
    with pytest.raises(BuildFailed) as refused:
        plan_for("nodejs", tmp_path)
    assert refused.value.message == (
        "engines.node in package.json asks for '>=22', which this platform "
        "cannot meet. Available: Node.js 20.19.2. Allow it, for example with "
        "'20.x'."
    )


def test_node_engines_in_range_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": package(engines={"node": "^20.10"})})
    _, lines = plan_for("nodejs", tmp_path)
    assert lines[0] == "-----> Using Node.js 20.19.2 (engines.node '^20.10')"


def test_node_invalid_package_json_names_the_spot(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": '{"name": "shop",\n}'})
    with pytest.raises(BuildFailed, match=r"^package.json is not valid JSON \("):
        plan_for("nodejs", tmp_path)


@pytest.mark.parametrize(
    ("scripts", "expected"),
    [
        ({"build": "tsc", "heroku-postbuild": "make"}, "heroku-postbuild"),
        ({"build": "tsc"}, "build"),
        ({"test": "jest"}, None),
    ],
    ids=["postbuild-wins", "build", "none"],
)
def test_node_build_script_choice(
    tmp_path: Path, scripts: dict[str, str], expected: str | None
) -> None:
    write(tmp_path, {"package.json": package(scripts=scripts)})
    plan, _ = plan_for("nodejs", tmp_path)
    assert plan.variables["build_script"] == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"package.json": package(scripts={"start": "node app.js"})}, "npm start"),
        ({"package.json": package(), "server.js": ""}, "npm start"),
        ({"package.json": package()}, None),
    ],
    ids=["start-script", "server-js", "neither"],
)
def test_node_default_web_process(
    tmp_path: Path, files: dict[str, str], expected: str | None
) -> None:
    plan, _ = plan_for("nodejs", write(tmp_path, files))
    assert plan.process_types.get("web") == expected


def test_node_without_start_says_what_to_add(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": package()})
    _, lines = plan_for("nodejs", tmp_path)
    assert lines[-3:] == [
        " !     package.json has no 'start' script and there is no server.js,",
        "       so there is no default web process: add a 'start' script to",
        "       package.json or a 'web:' line to the Procfile.",
    ]


def test_node_dockerfile_installs_before_copying_code(tmp_path: Path) -> None:
    from paas.buildpacks import render_dockerfile

    write(tmp_path, {"package.json": package(), "package-lock.json": "{}"})
    buildpack = find_buildpack("nodejs")
    plan, _ = plan_for("nodejs", tmp_path)
    text = render_dockerfile(
        buildpack, tmp_path, app="shop", stack="s", base="rt", variables=plan.variables
    ).splitlines()
    install = next(i for i, line in enumerate(text) if line.endswith(" npm ci"))
    copy_deps = text.index(
        "COPY --chown=1000:1000 package.json package-lock.json /app/"
    )
    assert copy_deps < install < text.index("COPY --chown=1000:1000 . /app")


def test_node_image_that_runs_holds_no_build_env(tmp_path: Path) -> None:
    from paas.buildpacks import render_dockerfile

    scripts = {"build": "webpack"}
    write(tmp_path, {"package.json": package(scripts=scripts)})
    plan, _ = plan_for("nodejs", tmp_path)
    text = render_dockerfile(
        find_buildpack("nodejs"),
        tmp_path,
        app="a",
        stack="s",
        base="rt",
        variables=plan.variables,
    )
    build, runs = text.split("\nFROM rt\n")
    assert "FROM rt AS build" in build
    assert ".paas/app.env" in build
    assert "COPY --from=build --chown=1000:1000 /app /app" in runs
    assert ".env" not in runs


# Go


GO_MOD = "module example.com/shop\n\ngo 1.22\n"


def test_go_web_is_the_one_main_package(tmp_path: Path) -> None:
    write(tmp_path, {"go.mod": GO_MOD, "main.go": "package main\n"})
    plan, _ = plan_for("go", tmp_path)
    assert plan.process_types == {"web": "bin/shop"}


def test_go_binary_names_follow_go_build(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.go": "// doc\npackage main\n",
            "cmd/worker/main.go": "package main\n",
            "cmd/tool/v2/main.go": "package main\n",
            "internal/lib/lib.go": "package lib\n",
            "vendor/x/main.go": "package main\n",
            "testdata/main.go": "package main\n",
            "other/main_test.go": "package main\n",
        },
    )
    names = main_binaries(tmp_path, "example.com/shop/v3")
    assert names == ["shop", "tool", "worker"]


def test_go_several_mains_leave_web_to_the_procfile(tmp_path: Path) -> None:
    files = {"go.mod": GO_MOD, "a/main.go": "package main\n", "b/m.go": "package main"}
    plan, lines = plan_for("go", write(tmp_path, files))
    assert plan.process_types == {}
    assert "       More than one main package: declare web in the Procfile." in lines


def test_go_requirements_without_vendor_are_refused(tmp_path: Path) -> None:
    go_mod = GO_MOD + "require (\n\tgithub.com/a/b v1.0.0 // indirect\n)\n"
    write(tmp_path, {"go.mod": go_mod, "main.go": "package main\n"})
    with pytest.raises(BuildFailed) as refused:
        plan_for("go", tmp_path)
    assert refused.value.message == (
        "go.mod requires 1 module(s) (github.com/a/b) and the Go module proxy "
        "is out of reach from this platform, so they cannot be downloaded. "
        "Run 'go mod vendor' and commit the vendor folder."
    )


def test_go_vendored_requirements_build(tmp_path: Path) -> None:
    go_mod = GO_MOD + "require github.com/a/b v1.0.0\n"
    files = {"go.mod": go_mod, "main.go": "package main", "vendor/modules.txt": ""}
    plan, _ = plan_for("go", write(tmp_path, files))
    assert plan.variables == {"binaries": ["shop"]}


def test_go_required_modules_from_lines_and_blocks() -> None:
    go_mod = (
        GO_MOD + "require a.io/x v1\nrequire (\n  b.io/y v2 // c\n\n  c.io/z v3\n)\n"
    )
    assert required_modules(go_mod) == ["a.io/x", "b.io/y", "c.io/z"]


def test_go_newer_than_the_stack_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"go.mod": "module m\n\ngo 1.26\n", "main.go": "package main"})
    with pytest.raises(BuildFailed) as refused:
        plan_for("go", tmp_path)
    assert refused.value.message == (
        "go.mod asks for Go 1.26, which this platform does not offer. "
        "Available: Go 1.24.4. Change the 'go' line of go.mod to 'go 1.24' or lower."
    )


def test_go_without_main_package_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"go.mod": GO_MOD, "lib.go": "package shop\n"})
    with pytest.raises(BuildFailed, match="no Go file of the module is in 'package"):
        plan_for("go", tmp_path)


# Static sites


def test_static_serves_the_root_with_nginx(tmp_path: Path) -> None:
    write(tmp_path, {"index.html": "hi"})
    plan, lines = plan_for("static", tmp_path)
    config = plan.files["nginx.conf"]
    assert "        root /app;" in config.splitlines()
    assert "        listen @PORT@;" in config.splitlines()
    assert lines == ["-----> Serving the repo root with nginx on $PORT"]
    assert plan.process_types == {"web": "paas-static-boot"}


def test_static_json_root_clean_urls_and_error_page(tmp_path: Path) -> None:
    settings = {"root": "public", "clean_urls": True, "error_page": "404.html"}
    files = {"static.json": json.dumps(settings), "public/404.html": "gone"}
    plan, _ = plan_for("static", write(tmp_path, files))
    lines = plan.files["nginx.conf"].splitlines()
    assert "        root /app/public;" in lines
    assert "        error_page 404 /404.html;" in lines
    assert "            try_files $uri $uri.html $uri/ =404;" in lines


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"root": "../etc"},
            "static.json 'root' is '../etc', which is not a folder of the repo: "
            "name one that is committed, such as 'public'.",
        ),
        (
            {"error_page": "missing.html"},
            "static.json 'error_page' is 'missing.html', which is not a file in "
            "the root folder '.': name a committed page such as '404.html'.",
        ),
        ({"clean_urls": "yes"}, "static.json 'clean_urls' must be true or false."),
    ],
    ids=["root-outside", "missing-error-page", "clean-urls-not-bool"],
)
def test_static_json_mistakes_are_refused(
    tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    write(tmp_path, {"static.json": json.dumps(settings), "index.html": ""})
    with pytest.raises(BuildFailed) as refused:
        plan_for("static", tmp_path)
    assert refused.value.message == message


def test_static_json_unknown_keys_are_named(tmp_path: Path) -> None:
    write(tmp_path, {"static.json": '{"https_only": true, "routes": {}}'})
    _, lines = plan_for("static", tmp_path)
    assert (
        lines[0] == " !     static.json: ignoring unsupported keys https_only, routes"
    )


# Dockerfile apps


def test_dockerfile_bases_skip_stages_and_scratch() -> None:
    dockerfile = (
        "# syntax comment\n"
        "FROM --platform=linux/amd64 paas/runtime-go:1.24.4-trixie AS build\n"
        "RUN go build \\\n  ./...\n"
        "from scratch\n"
        "FROM build\n"
        "FROM paas/stack:trixie\n"
    )
    assert base_images(dockerfile) == [
        "paas/runtime-go:1.24.4-trixie",
        "paas/stack:trixie",
    ]


def test_dockerfile_without_from_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "RUN true\n"})
    with pytest.raises(BuildFailed, match="^The Dockerfile has no FROM line"):
        plan_for("dockerfile", tmp_path)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"Cmd": ["python3", "app.py"]}, "exec python3 app.py"),
        (
            {"Entrypoint": ["/e.sh"], "Cmd": ["node", "a b.js"]},
            "exec /e.sh node 'a b.js'",
        ),
        ({"Cmd": ["/bin/sh", "-c", "node x.js"]}, "exec /bin/sh -c 'node x.js'"),
        ({"Cmd": None, "Entrypoint": None}, None),
        ({"Cmd": ["/bin/bash"]}, None),
    ],
    ids=["cmd", "entrypoint-and-cmd", "shell-form", "none", "stack-shell"],
)
def test_dockerfile_web_is_what_docker_would_run(
    config: dict[str, object], expected: str | None
) -> None:
    assert web_command(config) == expected


def test_procfile_command_runs_through_the_entrypoint() -> None:
    wrapped = wrap_command(["/e.sh"], "node worker.js --queue 'a b'")
    assert (
        wrapped == "exec /e.sh /bin/bash -c 'node worker.js --queue '\"'\"'a b'\"'\"''"
    )
