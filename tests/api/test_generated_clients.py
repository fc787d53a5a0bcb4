"""Clients generated from the OpenAPI document work, and the document passes the linters.

- openapi-python-client writes a Python client with no warning and every operation; that client
  then runs a round trip against a real server (create, list with filters and cursors, complete
  with If-Match, log an activity twice, read the feed, typed errors).
- openapi-typescript writes TypeScript that `tsc --strict` (no skipLibCheck) accepts, together
  with a small program that uses the types.
- Redocly (`recommended`) and Spectral (`spectral:oas`) report no error and no warning.

Each generator runs once per session (the document does not depend on the data).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from crm import create_app
from tests.conftest import BASE_CONFIG, make_account

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "node_modules" / ".bin"
PACKAGE = "followup_client"
SPECTRAL_RULESET = ROOT / "tests" / "api" / "spectral.yaml"


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `npm ci` (package.json pins the tools)")
    return str(path)


def _env() -> dict:
    return {**os.environ, "REDOCLY_TELEMETRY": "off", "NO_COLOR": "1",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="session")
def document_file(tmp_path_factory) -> Path:
    """The document as the server serves it, in a file."""
    folder = tmp_path_factory.mktemp("openapi")
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'doc.sqlite3'}",
                      "CRM_AUTO_MIGRATE": False})
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    path = folder / "openapi.json"
    path.write_bytes(response.get_data())
    return path


def _operations(document: dict) -> list[tuple[str, str]]:
    return [(op["tags"][0], op["operationId"]) for item in document["paths"].values()
            for method, op in item.items() if method != "parameters"]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.fixture(scope="session")
def python_client(document_file, tmp_path_factory):
    """(the generator's output, the imported package)."""
    folder = tmp_path_factory.mktemp("python_client")
    config = folder / "config.json"
    # No post hooks: the generated code is judged as written, not after a formatter.
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document_file),
         "--output-path", str(folder / PACKAGE), "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, env=_env(), timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    sys.path.insert(0, str(folder))
    try:
        package = importlib.import_module(PACKAGE)
        yield output, package, folder / PACKAGE
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_python_client_has_every_operation_and_no_warning(python_client, document_file):
    output, _package, folder = python_client
    # The generator says "Generating <dir>" and nothing else when it understood everything (it
    # lists each schema or operation it had to leave out as a warning otherwise).
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines == [f"Generating {folder}"], output
    document = json.loads(document_file.read_text())
    operations = _operations(document)
    assert len(operations) >= 31
    missing = []
    for tag, op_id in operations:
        try:
            module = importlib.import_module(f"{PACKAGE}.api.{tag}.{_snake(op_id)}")
        except ImportError:
            missing.append(op_id)
            continue
        if not hasattr(module, "sync_detailed"):
            missing.append(op_id)
    assert missing == []


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_round_trip_through_the_generated_python_client(python_client, app, live_server):
    _output, package, _folder = python_client
    _ws, _user, secret = make_account(app)
    models = _module("models")
    create_contact = _module("api.contacts.create_contact")
    create_task = _module("api.tasks.create_task")
    list_tasks = _module("api.tasks.list_tasks")
    get_task = _module("api.tasks.get_task")
    complete_task = _module("api.tasks.complete_task")
    create_activity = _module("api.activities.create_activity")
    activity_feed = _module("api.activities.activity_feed")

    client = package.AuthenticatedClient(base_url=f"{live_server}/api/v1", token=secret)

    # A contact, with free-form metadata (nested values, as the document allows).
    contact_body = models.ContactInput(first_name="Ada", last_name="Lovelace",
                                       metadata=models.ContactInputMetadata.from_dict(
                                           {"tier": "gold", "scores": [1, 2.5], "seen": {"web": True}}))
    made = create_contact.sync_detailed(client=client, body=contact_body)
    assert made.status_code == 201
    contact = made.parsed.data
    assert contact.name == "Ada Lovelace"
    assert contact.metadata.to_dict() == {"tier": "gold", "scores": [1, 2.5], "seen": {"web": True}}

    # Tasks linked to it: three pending, two in progress, one cancelled.
    statuses = ["pending", "in_progress", "pending", "cancelled", "in_progress", "pending"]
    created = {}
    for i, status in enumerate(statuses):
        body = models.TaskInput(title=f"Call Ada #{i}", contact_id=contact.id,
                                status=models.TaskInputStatus(status))
        answer = create_task.sync_detailed(client=client, body=body)
        assert answer.status_code == 201, answer.content
        assert answer.parsed.data.contact_id == contact.id
        assert answer.headers["Location"].endswith(f"/tasks/{answer.parsed.data.id}")
        created[answer.parsed.data.id] = status

    # Two statuses, two per page: follow next_cursor to the end.
    wanted = [models.ListTasksStatusItem.PENDING, models.ListTasksStatusItem.IN_PROGRESS]
    seen, pages, cursor = [], 0, package.types.UNSET
    while True:
        page = list_tasks.sync(client=client, status=wanted, limit=2, cursor=cursor)
        assert isinstance(page, models.TaskList), page
        pages += 1
        seen += [task.id for task in page.data]
        if not page.has_more:
            assert page.next_cursor is None
            break
        cursor = page.next_cursor
    assert pages == 3
    assert sorted(seen) == sorted(i for i, s in created.items() if s in ("pending", "in_progress"))
    assert len(seen) == len(set(seen)) == 5

    # Complete one with If-Match: the ETag of a read.
    task_id = seen[0]
    read = get_task.sync_detailed(task_id, client=client)
    etag = read.headers["ETag"]
    done = complete_task.sync_detailed(task_id, client=client, if_match=etag,
                                       body=models.TaskCompletion(completion_note="Spoke to her"))
    assert done.status_code == 200
    assert done.parsed.data.status == models.TaskOutStatus.COMPLETED
    assert done.parsed.data.completion_note == "Spoke to her"

    # 412: the old ETag is stale now.
    stale = complete_task.sync_detailed(seen[1], client=client, if_match=etag)
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Error)
    assert stale.parsed.error.code == models.ErrorBodyCode.PRECONDITION_FAILED

    # An activity, logged twice with the same (source, external_id): the second is the first.
    activity_body = models.ActivityInput(type_=models.ActivityInputType.CALL, contact_id=contact.id,
                                         subject="Intro call", source="phone-system", external_id="call-1")
    first = create_activity.sync_detailed(client=client, body=activity_body)
    assert first.status_code == 201
    again = create_activity.sync_detailed(client=client, body=activity_body)
    assert again.status_code == 200
    assert again.parsed.data.id == first.parsed.data.id

    # The feed: the activity and the tasks on one timeline, each as its own type.
    feed = activity_feed.sync(client=client, contact_id=contact.id)
    assert isinstance(feed, models.Feed)
    kinds = {(type(item).__name__, item.data.id) for item in feed.data}
    assert ("FeedActivityItem", first.parsed.data.id) in kinds
    assert ("FeedTaskItem", task_id) in kinds
    assert len(feed.data) == 1 + len(statuses)

    # 404 and 400, as typed errors.
    missing = get_task.sync_detailed("task_" + "0" * 26, client=client)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Error)
    assert missing.parsed.error.code == models.ErrorBodyCode.NOT_FOUND
    invalid = create_task.sync_detailed(client=client, body=models.TaskInput(title="   "))
    assert invalid.status_code == 400
    assert isinstance(invalid.parsed, models.Error)
    assert invalid.parsed.error.code == models.ErrorBodyCode.VALIDATION_ERROR
    assert "title" in invalid.parsed.error.details.to_dict()


USES_THE_TYPES = """\
import type { components, paths } from "./api";

type Task = components["schemas"]["TaskOut"];
type NewTask = components["schemas"]["TaskInput"];
type Page = paths["/tasks"]["get"]["responses"]["200"]["content"]["application/json"];
type Failure = components["schemas"]["Error"];

const draft: NewTask = {
  title: "Call Ada",
  status: "pending",
  metadata: { tier: "gold", scores: [1, 2.5], seen: { web: true } },
};

export function titles(page: Page): string[] {
  return page.data.map((task: Task) => task.title + (task.due_at === null ? "" : ` (${task.due_at})`));
}

export function describe(failure: Failure): string {
  const code: string = failure.error.code;
  return `${code}: ${failure.error.message}`;
}

export const body: string = JSON.stringify(draft);
"""


def test_typescript_types_compile_strictly(document_file, tmp_path):
    types = tmp_path / "api.d.ts"
    generated = subprocess.run([_tool("openapi-typescript"), str(document_file), "-o", str(types)],
                               capture_output=True, text=True, env=_env(), timeout=300)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    program = tmp_path / "use.ts"
    program.write_text(USES_THE_TYPES)
    checked = subprocess.run([_tool("tsc"), "--strict", "--noEmit", "--target", "es2020", str(types), str(program)],
                             capture_output=True, text=True, env=_env(), timeout=300, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The checker does judge the types: a program that misuses them is refused.
    wrong = tmp_path / "wrong.ts"
    wrong.write_text('import type { components } from "./api";\n'
                     'export const t: components["schemas"]["TaskInput"] = { title: 1 };\n')
    refused = subprocess.run([_tool("tsc"), "--strict", "--noEmit", str(types), str(wrong)],
                             capture_output=True, text=True, env=_env(), timeout=300, cwd=tmp_path)
    assert refused.returncode != 0 and "TS2322" in refused.stdout


def test_redocly_recommended_reports_nothing(document_file):
    done = subprocess.run([_tool("redocly"), "lint", "--extends", "recommended", "--format", "json",
                           str(document_file)], capture_output=True, text=True, env=_env(), timeout=300)
    report = json.loads(done.stdout)
    problems = [(p["ruleId"], p["severity"], p["message"], [loc.get("pointer") for loc in p["location"]])
                for p in report["problems"]]
    assert problems == []
    assert done.returncode == 0


def test_spectral_oas_reports_nothing(document_file, tmp_path):
    output = tmp_path / "spectral.json"
    done = subprocess.run([_tool("spectral"), "lint", "--ruleset", str(SPECTRAL_RULESET), "--format", "json",
                           "--output", str(output), "--fail-severity", "hint", str(document_file)],
                          capture_output=True, text=True, env=_env(), timeout=300)
    report = json.loads(output.read_text())
    assert [(p["code"], p["severity"], p["message"], p["path"]) for p in report] == []
    assert done.returncode == 0, done.stdout + done.stderr
