"""The /v1 API answers in JSON with clear errors, as the CLI expects."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from paas.platform import Platform
from paas.scheduler.fake import FakeBackend
from tests.conftest import Deploy


def create(client: TestClient, name: str = "shop") -> None:
    assert client.post("/v1/apps", json={"name": name}).status_code == 201


def wait_for(check: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("Timed out waiting")
        time.sleep(0.02)


def error(response: object) -> tuple[int, dict[str, str]]:
    return response.status_code, response.json()  # type: ignore[attr-defined]


def test_version_names_the_api_and_release(client: TestClient) -> None:
    response = client.get("/v1/version")
    assert response.json() == {"api_version": 1, "version": "0.1.0"}


def test_every_answer_carries_the_api_version(client: TestClient) -> None:
    response = client.get("/v1/apps/nope")
    assert response.headers["x-paas-api-version"] == "1"


def test_created_app_is_described(client: TestClient) -> None:
    response = client.post("/v1/apps", json={"name": "shop"})
    body = response.json()
    del body["created_at"]
    assert (response.status_code, body) == (
        201,
        {
            "name": "shop",
            "buildpack": None,
            "web_url": "http://shop.localhost:8080/",
            "git_url": "http://127.0.0.1:7070/shop.git",
            "release": None,
            "domains": ["shop.localhost"],
        },
    )


def test_apps_are_listed_by_name(client: TestClient) -> None:
    create(client, "zoo")
    create(client, "abc")
    assert [app["name"] for app in client.get("/v1/apps").json()] == ["abc", "zoo"]


def test_app_info_shows_the_current_release(client: TestClient, deploy: Deploy) -> None:
    deploy("shop")
    assert client.get("/v1/apps/shop").json()["release"] == 1


def test_bad_app_name_is_422_with_the_rule(client: TestClient) -> None:
    response = client.post("/v1/apps", json={"name": "My_App"})
    assert error(response) == (
        422,
        {
            "id": "InvalidInput",
            "error": "App name 'My_App' is invalid: use 3 to 30 lowercase "
            "letters, digits and dashes, starting with a letter and ending "
            "with a letter or digit.",
        },
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Give the app a name: {'name': 'my-app'}."),
        ({"name": 12}, "Give the app a name: {'name': 'my-app'}."),
        (["shop"], "The request body must be a JSON object."),
    ],
    ids=["no-name", "number", "list"],
)
def test_app_creation_needs_a_name(
    client: TestClient, body: object, message: str
) -> None:
    response = client.post("/v1/apps", json=body)
    assert error(response) == (422, {"id": "InvalidInput", "error": message})


def test_body_that_is_not_json_is_422(client: TestClient) -> None:
    response = client.post("/v1/apps", content=b"name=shop")
    assert response.status_code == 422
    assert response.json()["error"].startswith("The request body is not JSON: ")


def test_taken_app_name_is_409(client: TestClient) -> None:
    create(client)
    response = client.post("/v1/apps", json={"name": "shop"})
    assert error(response) == (
        409,
        {"id": "Conflict", "error": "Name 'shop' is already taken."},
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/apps/nope"),
        ("DELETE", "/v1/apps/nope"),
        ("GET", "/v1/apps/nope/config-vars"),
        ("GET", "/v1/apps/nope/releases"),
        ("GET", "/v1/apps/nope/formation"),
        ("GET", "/v1/apps/nope/dynos"),
        ("GET", "/v1/apps/nope/logs"),
    ],
    ids=["info", "destroy", "config", "releases", "formation", "dynos", "logs"],
)
def test_unknown_app_is_404_with_a_hint(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert error(response) == (
        404,
        {
            "id": "AppNotFound",
            "error": "No app named 'nope'. Run 'paas apps' to list apps.",
        },
    )


def test_destroyed_app_is_gone(client: TestClient) -> None:
    create(client)
    response = client.delete("/v1/apps/shop")
    assert response.json() == {"name": "shop", "destroyed": True}
    assert client.get("/v1/apps/shop").status_code == 404


def test_config_vars_round_trip_byte_exact(client: TestClient) -> None:
    create(client)
    values = {
        "SPACES": "  a  b  ",
        "QUOTES": 'it\'s "quoted"',
        "EQUALS": "a=b==c",
        "DOLLAR": "$HOME ${PATH} `id`",
        "NEWLINES": "line1\nline2\r\n",
        "UNICODE": "żółć ✓ 日本",
        "EMPTY": "",
    }
    client.patch("/v1/apps/shop/config-vars", json=values)
    assert client.get("/v1/apps/shop/config-vars").json() == values


def test_config_change_answers_with_the_new_release(client: TestClient) -> None:
    create(client)
    response = client.patch("/v1/apps/shop/config-vars", json={"FOO": "bar"})
    assert response.json() == {"release": 1, "config_vars": {"FOO": "bar"}}


def test_null_unsets_a_config_var(client: TestClient) -> None:
    create(client)
    client.patch("/v1/apps/shop/config-vars", json={"FOO": "1", "BAR": "2"})
    client.patch("/v1/apps/shop/config-vars", json={"FOO": None})
    assert client.get("/v1/apps/shop/config-vars").json() == {"BAR": "2"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"1BAD": "x"},
            "Config var key '1BAD' is invalid: use letters, digits and "
            "underscores, not starting with a digit.",
        ),
        (
            {"MY-KEY": "x"},
            "Config var key 'MY-KEY' is invalid: use letters, digits and "
            "underscores, not starting with a digit.",
        ),
        ({"PORT": "80"}, "Config var 'PORT' is set by the platform."),
        ({"DYNO": "web.1"}, "Config var 'DYNO' is set by the platform."),
        ({"FOO": 12}, "Config var 'FOO' must be a string or null."),
        ({}, "No config vars given. Use KEY=value."),
        (
            {"BIG": "x" * (32 * 1024)},
            "Config vars would take 32771 bytes, over the limit of 32768 bytes. "
            "Unset some or store large values elsewhere.",
        ),
    ],
    ids=["leading-digit", "dash", "port", "dyno", "number", "empty", "too-big"],
)
def test_bad_config_change_is_422_with_the_rule(
    client: TestClient, changes: dict[str, object], message: str
) -> None:
    create(client)
    response = client.patch("/v1/apps/shop/config-vars", json=changes)
    assert error(response) == (422, {"id": "InvalidInput", "error": message})


def test_refused_config_change_changes_nothing(client: TestClient) -> None:
    create(client)
    client.patch("/v1/apps/shop/config-vars", json={"OK": "1", "PORT": "80"})
    assert client.get("/v1/apps/shop/config-vars").json() == {}
    assert client.get("/v1/apps/shop/releases").json() == []


def test_releases_are_listed_newest_first_with_current(
    client: TestClient, deploy: Deploy
) -> None:
    deploy("shop")
    client.patch("/v1/apps/shop/config-vars", json={"FOO": "secret"})
    listed = client.get("/v1/apps/shop/releases").json()
    summary = [
        (r["version"], r["description"], r["config_keys"], r["current"]) for r in listed
    ]
    assert summary == [
        (2, "Set FOO config vars", ["FOO"], True),
        (1, "Deploy c0ffee1", [], False),
    ]


def test_release_list_never_shows_config_values(
    client: TestClient, deploy: Deploy
) -> None:
    deploy("shop")
    client.patch("/v1/apps/shop/config-vars", json={"FOO": "hunter2"})
    assert "hunter2" not in client.get("/v1/apps/shop/releases").text


def test_release_list_limit_must_be_a_number(client: TestClient) -> None:
    create(client)
    response = client.get("/v1/apps/shop/releases?limit=ten")
    assert error(response) == (
        422,
        {"id": "InvalidInput", "error": "limit must be a whole number."},
    )


def test_missing_release_is_404(client: TestClient) -> None:
    create(client)
    response = client.get("/v1/apps/shop/releases/9")
    assert error(response) == (
        404,
        {
            "id": "ReleaseNotFound",
            "error": "No release v9 of 'shop'. Run 'paas releases'.",
        },
    )


def test_rollback_without_earlier_release_is_409(
    client: TestClient, deploy: Deploy
) -> None:
    deploy("shop")
    response = client.post("/v1/apps/shop/releases", json={"rollback": None})
    assert error(response) == (
        409,
        {
            "id": "Conflict",
            "error": "No eligible release found for 'shop' to roll back to.",
        },
    )


def test_rollback_answers_with_the_new_release(
    client: TestClient, deploy: Deploy
) -> None:
    deploy("shop")
    deploy("shop")
    response = client.post("/v1/apps/shop/releases", json={"rollback": None})
    body = response.json()
    assert (response.status_code, body["version"], body["description"]) == (
        201,
        3,
        "Rollback to v1",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Only rollbacks are made here: {'rollback': N}."),
        ({"rollback": "v1"}, "rollback must be a release number or null."),
        ({"rollback": True}, "rollback must be a release number or null."),
    ],
    ids=["no-rollback", "string", "boolean"],
)
def test_bad_release_request_is_422(
    client: TestClient, body: dict[str, object], message: str
) -> None:
    create(client)
    response = client.post("/v1/apps/shop/releases", json=body)
    assert error(response) == (422, {"id": "InvalidInput", "error": message})


def test_formation_lists_each_process_type(client: TestClient, deploy: Deploy) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    assert client.get("/v1/apps/shop/formation").json() == [
        {"process_type": "web", "quantity": 1, "size": "standard-1x"},
        {"process_type": "worker", "quantity": 0, "size": "standard-1x"},
    ]


def test_scaling_answers_with_the_new_formation(
    client: TestClient, deploy: Deploy
) -> None:
    deploy("shop", {"web": "app", "worker": "work"})
    response = client.patch(
        "/v1/apps/shop/formation", json={"updates": ["worker=2:standard-2x"]}
    )
    assert response.json() == [
        {"process_type": "web", "quantity": 1, "size": "standard-1x"},
        {"process_type": "worker", "quantity": 2, "size": "standard-2x"},
    ]


def test_scaling_an_unknown_type_lists_known_ones(
    client: TestClient, deploy: Deploy, backend: FakeBackend
) -> None:
    backend.exit_codes["release"] = 0
    deploy("shop", {"web": "app", "release": "migrate", "clock": "tick"})
    response = client.patch("/v1/apps/shop/formation", json={"updates": ["worker=1"]})
    assert error(response) == (
        422,
        {
            "id": "InvalidInput",
            "error": "No 'worker' process type. Known types: clock, web.",
        },
    )


def test_scaling_before_a_push_says_to_push(client: TestClient) -> None:
    create(client)
    response = client.patch("/v1/apps/shop/formation", json={"updates": ["web=1"]})
    assert response.json()["error"] == (
        "No 'web' process type. Known types: none (push a Procfile first)."
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"updates": []}, "Give scale changes: {'updates': ['web=2']}."),
        ({"updates": "web=2"}, "Give scale changes: {'updates': ['web=2']}."),
        (
            {"updates": ["web=two"]},
            "Scale argument 'web=two' is invalid: use TYPE=N, TYPE+N or TYPE-N, "
            "optionally followed by :SIZE (web=2, worker+1:standard-2x).",
        ),
        (
            {"updates": ["web=1:huge"]},
            "Dyno size 'huge' is unknown. Sizes: basic, standard-1x, "
            "standard-2x, performance-m, performance-l.",
        ),
    ],
    ids=["empty", "not-a-list", "bad-arg", "bad-size"],
)
def test_bad_scale_request_is_422(
    client: TestClient, deploy: Deploy, body: dict[str, object], message: str
) -> None:
    deploy("shop")
    response = client.patch("/v1/apps/shop/formation", json=body)
    assert error(response) == (422, {"id": "InvalidInput", "error": message})


def test_dynos_are_listed_with_their_state(client: TestClient, deploy: Deploy) -> None:
    deploy("shop", {"web": "python app.py"})
    [dyno] = client.get("/v1/apps/shop/dynos").json()
    summary = {k: dyno[k] for k in ("name", "type", "state", "command", "release")}
    assert summary == {
        "name": "web.1",
        "type": "web",
        "state": "up",
        "command": "python app.py",
        "release": 1,
    }


def test_restarting_a_missing_dyno_is_404(client: TestClient, deploy: Deploy) -> None:
    deploy("shop")
    response = client.delete("/v1/apps/shop/dynos?dyno=web.9")
    assert error(response) == (
        404,
        {"id": "NotFound", "error": "No dyno 'web.9' on 'shop'. Run 'paas ps'."},
    )


def test_one_off_dyno_needs_a_release(client: TestClient) -> None:
    create(client)
    response = client.post("/v1/apps/shop/dynos", json={"command": "bash"})
    assert error(response) == (
        409,
        {"id": "Conflict", "error": "App 'shop' has no release yet. Push code first."},
    )


def test_attached_one_off_streams_output_and_exit_code(
    client: TestClient, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    run = client.post("/v1/apps/shop/dynos", json={"command": "echo hi"}).json()
    backend.say(run["name"], "hi", "there")
    backend.crash(run["id"], 3)
    response = client.get(f"/v1/apps/shop/dynos/{run['name']}/attach")
    assert response.text == "hi\nthere\n\x00paas-exit 3\n"


def test_logs_show_platform_events(client: TestClient) -> None:
    create(client)
    client.patch("/v1/apps/shop/config-vars", json={"FOO": "1"})
    lines = client.get("/v1/apps/shop/logs?lines=1").text.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "paas[api]: Release v1 created: Set FOO config vars"
    ]


def test_log_line_count_must_be_a_number(client: TestClient) -> None:
    create(client)
    response = client.get("/v1/apps/shop/logs?lines=many")
    assert error(response) == (
        422,
        {"id": "InvalidInput", "error": "lines must be a whole number."},
    )


def test_one_off_dyno_is_stopped_by_name(
    client: TestClient, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    run = client.post("/v1/apps/shop/dynos", json={"command": "sleep 99"}).json()
    response = client.delete("/v1/apps/shop/dynos", params={"dyno": run["name"]})
    assert response.json() == {"restarted": [run["name"]]}
    assert backend.get_dyno(run["id"]) is None


def test_stopped_one_off_dyno_logs_complete(
    client: TestClient, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    run = client.post("/v1/apps/shop/dynos", json={"command": "sleep 99"}).json()
    client.delete("/v1/apps/shop/dynos", params={"dyno": run["name"]})
    logs = client.get("/v1/apps/shop/logs", params={"dyno": run["name"]}).text
    assert [line.split(" ", 1)[1] for line in logs.splitlines()] == [
        f"paas[{run['name']}]: Starting process with command `sleep 99`",
        f"paas[{run['name']}]: Stopping all processes with SIGTERM",
        f"paas[{run['name']}]: Process exited with status 143",
        f"paas[{run['name']}]: State changed from up to complete",
    ]


def test_attached_one_off_is_removed_with_its_exit_status(
    client: TestClient, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    run = client.post("/v1/apps/shop/dynos", json={"command": "exit 5"}).json()
    backend.crash(run["id"], 5)
    client.get(f"/v1/apps/shop/dynos/{run['name']}/attach")
    wait_for(lambda: backend.get_dyno(run["id"]) is None)
    last = client.get("/v1/apps/shop/logs", params={"dyno": run["name"]}).text
    assert last.splitlines()[-2].split(" ", 1)[1] == (
        f"paas[{run['name']}]: Process exited with status 5"
    )


def test_negative_log_line_count_is_refused(client: TestClient) -> None:
    create(client)
    response = client.get("/v1/apps/shop/logs?lines=-5")
    assert error(response) == (
        422,
        {"id": "InvalidInput", "error": "lines -5 is invalid: give 0 to 1500."},
    )


def test_destroy_again_removes_what_a_half_destroy_left(
    client: TestClient, platform: Platform, deploy: Deploy, backend: FakeBackend
) -> None:
    deploy("shop")
    platform.store.delete_app("shop")
    response = client.delete("/v1/apps/shop")
    assert response.json() == {"name": "shop", "destroyed": True}
    assert backend.list_dynos("shop") == []
