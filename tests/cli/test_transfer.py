"""`flask crm export` / `flask crm import`: formats, round trips, bad rows, idempotence, batching."""

from __future__ import annotations

import csv
import io
import json

import orjson
import pytest
from sqlalchemy import delete, event, func, select

from crm.extensions import db
from crm.models import Activity, Task, Workspace
from crm.services import accounts
from tests.conftest import make_account


@pytest.fixture
def filled(api):
    """A workspace with linked records, tasks (open, completed, with reminder, tags, metadata)
    and activities (attendees, dedup keys, AI fields), some owned by a second user."""
    from crm.services import accounts as acc

    with api.client.application.app_context():
        ws = db.session.get(Workspace, api.workspace_id)
        second = acc.create_user(ws, email="second@acme.test", name="Sam Second")
        second_id = second.id
    company = api.create("/companies", {"name": "Zoë's Café", "domain": "zoe.example", "metadata": {"tier": 2}})
    ada = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@zoe.example",
                                   "company_id": company["id"]})
    hans = api.create("/contacts", {"first_name": "Hans", "last_name": "Müller", "company_id": company["id"]})
    deal = api.create("/deals", {"name": "Pilot", "amount": "1500.00", "currency": "EUR", "close_date": "2026-12-01",
                                 "company_id": company["id"], "contact_id": ada["id"]})
    api.create("/tasks", {"title": "Send the contract, \"signed\"", "description": "Line 1\nLine 2, with comma",
                          "contact_id": ada["id"], "deal_id": deal["id"], "priority": "urgent",
                          "due_at": "2026-03-20", "tags": ["vip", "q3"], "metadata": {"nested": {"a": [1, 2]}},
                          "reminder": {"type": "email", "before_minutes": 30}})
    api.create("/tasks", {"title": "Call Hans 📞", "status": "completed", "completed_at": "2026-01-02T03:04:05Z",
                          "completion_note": "done", "owner_id": second_id, "company_id": company["id"]})
    demo = api.create("/activities", {"type": "meeting", "subject": "Demo", "body": "**went well**",
                                      "attendees": [ada["id"], hans["id"]], "duration": 3600, "direction": "na",
                                      "outcome": "completed", "occurred_at": "2026-02-01T10:00:00Z"})
    api.create("/tasks", {"title": "Personal to-do", "owner_id": None, "due_at": "2026-03-16T09:00:00Z",
                          "recurrence": "FREQ=WEEKLY;BYDAY=MO", "duration": 1800, "activity_id": demo["id"]})
    api.create("/activities", {"type": "email", "source": "gmail", "external_id": "msg-1", "subject": "Re: pilot",
                               "contact_id": ada["id"], "generated_by": "notetaker", "model": "m-1",
                               "confidence_score": 0.75, "owner_id": second_id})
    return api


def export(runner, *args) -> str:
    result = runner.invoke(args=["crm", "export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def run_import(runner, path, *args):
    return runner.invoke(args=["crm", "import", str(path), *args])


def empty_the_workspace_and_recreate_users(app, api) -> str:
    """Drop the workspace (everything in it cascades) and make a new, empty one with users of the
    same emails: what a fresh installation looks like before an import."""
    with app.app_context():
        db.session.execute(delete(Workspace).where(Workspace.id == api.workspace_id))
        db.session.commit()
        ws = accounts.create_workspace("Fresh")
        accounts.create_user(ws, email="owner@acme.test", name="Olive Owner", role="admin")
        accounts.create_user(ws, email="second@acme.test", name="Sam Second")
        return ws.id


def counts(app, workspace_id):
    with app.app_context():
        return tuple(
            db.session.execute(select(func.count()).select_from(m).where(m.workspace_id == workspace_id)).scalar_one()
            for m in (Task, Activity)
        )


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_round_trip_into_an_empty_workspace_gives_the_same_data(app, runner, filled, tmp_path, fmt):
    path = tmp_path / f"export.{fmt}"
    export(runner, "-o", str(path))
    first = path.read_text(encoding="utf-8")
    records = list(csv.DictReader(io.StringIO(first))) if fmt == "csv" else first.splitlines()
    assert len(records) == 9  # 1 company, 2 contacts, 1 deal, 3 tasks, 2 activities

    target = empty_the_workspace_and_recreate_users(app, filled)
    result = run_import(runner, path, "--workspace", "Fresh")
    assert result.exit_code == 0, result.output
    assert "9 imported, 0 already present, 0 rejected" in result.stdout

    again = tmp_path / f"again.{fmt}"
    export(runner, "--workspace", target, "-o", str(again))
    assert again.read_text(encoding="utf-8") == first
    assert counts(app, target) == (3, 2)


def test_export_rows_carry_links_and_owner_email(runner, filled):
    rows = [json.loads(line) for line in export(runner).splitlines()]
    assert [r["kind"] for r in rows] == ["company", "contact", "contact", "deal", "activity", "activity",
                                         "task", "task", "task"]
    contract = next(r for r in rows if r["kind"] == "task" and r["title"].startswith("Send"))
    contact_ids = {r["id"] for r in rows if r["kind"] == "contact"}
    assert contract["contact_id"] in contact_ids
    assert contract["deal_id"] == rows[3]["id"]
    assert contract["owner_email"] == "owner@acme.test"
    assert contract["reminder"] == {"type": "email", "before_minutes": 30}
    personal = next(r for r in rows if r.get("title") == "Personal to-do")
    assert personal["owner_email"] is None
    meeting = next(r for r in rows if r["kind"] == "activity" and r["type"] == "meeting")
    assert sorted(meeting["attendees"]) == sorted(contact_ids)
    assert (personal["recurrence"], personal["duration"], personal["activity_id"]) == (
        "FREQ=WEEKLY;BYDAY=MO", 1800, meeting["id"])
    assert not any("created_by" in r or "updated_at" in r for r in rows)


def test_export_of_one_kind_to_stdout(runner, filled):
    rows = [json.loads(line) for line in export(runner, "--kind", "task").splitlines()]
    assert len(rows) == 3 and {r["kind"] for r in rows} == {"task"}


def test_importing_the_same_file_twice_creates_nothing_new(app, runner, filled, tmp_path):
    path = tmp_path / "rows.jsonl"
    export(runner, "-o", str(path))
    target = empty_the_workspace_and_recreate_users(app, filled)
    assert run_import(runner, path).exit_code == 0
    before = counts(app, target)
    second = run_import(runner, path)
    assert second.exit_code == 0, second.output
    assert "0 imported, 9 already present, 0 rejected" in second.stdout
    assert counts(app, target) == before


def test_activities_without_ids_are_deduplicated_by_source_and_external_id(app, runner, api, tmp_path):
    path = tmp_path / "mail.jsonl"
    path.write_text("\n".join(json.dumps({"kind": "activity", "type": "email", "source": "gmail",
                                          "external_id": f"m-{i % 3}", "subject": f"Mail {i}"}) for i in range(5)))
    first = run_import(runner, path)
    assert "3 imported, 2 already present" in first.stdout
    second = run_import(runner, path)
    assert "0 imported, 5 already present" in second.stdout
    assert counts(app, api.workspace_id) == (0, 3)


def test_bad_rows_are_reported_by_line_and_the_good_ones_imported(app, runner, api, tmp_path):
    contact = api.create("/contacts", {"first_name": "Ada", "last_name": "One"})
    api.create("/contacts", {"first_name": "Ada", "last_name": "Two"})
    lines = [
        json.dumps({"kind": "task", "title": "good one", "contact_id": contact["id"]}),
        json.dumps({"kind": "task", "title": "   "}),
        "{not json",
        json.dumps({"kind": "task", "title": "x", "priority": "HIGH"}),
        json.dumps({"kind": "task", "title": "x", "colour": "red"}),
        json.dumps({"kind": "task", "title": "x", "contact_id": "cont_01JD3K0000000000000000000Z"}),
        json.dumps({"kind": "task", "title": "x", "contact_name": "ada"}),
        json.dumps({"kind": "task", "title": "x", "owner_email": "nobody@nowhere.test"}),
        json.dumps({"kind": "lunch", "title": "x"}),
        json.dumps({"kind": "task", "title": "x", "id": "act_01JD3K0000000000000000000Z"}),
        "",
        json.dumps({"kind": "activity", "type": "call", "duration": "long"}),
        json.dumps(["a", "list"]),
        json.dumps({"kind": "task", "title": "good two", "contact_name": "ada one"}),
    ]
    path = tmp_path / "rows.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n" + b'{"kind": "task", "title": "bad \xff utf-8"}\n')
    result = run_import(runner, path)
    assert result.exit_code == 1
    err = result.stderr
    assert "line 2: title: Must not be blank." in err
    assert "line 3: Not valid JSON" in err
    assert "line 4: priority: Must be one of" in err
    assert "line 5: colour: Unknown field." in err
    assert "line 6: contact_id: No contact with id" in err
    assert "line 7: contact_name:" in err and "Candidates:" in err
    assert "line 8: owner_email: No user with this email" in err
    assert "line 9: kind: Must be one of" in err
    assert "line 10: id: Not a task id" in err
    assert "line 12: duration: Not a valid integer." in err
    assert "line 13: A row must be a JSON object." in err
    assert "line 15: Not valid JSON" in err
    assert "line 1:" not in err and "line 14:" not in err
    assert "2 imported, 0 already present, 12 rejected" in result.stdout
    assert counts(app, api.workspace_id) == (2, 0)


def test_import_rejects_what_the_api_rejects_with_the_same_message(runner, api, tmp_path):
    payload = {"title": "x" * 256, "tags": ["x"] * 21}
    api_details = api.post("/tasks", payload).get_json()["error"]["details"]
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"kind": "task", **payload}) + "\n")
    err = run_import(runner, path).stderr
    for field, messages in api_details.items():
        assert f"{field}: {' '.join(messages)}" in err


def test_csv_import_with_a_kind_option_and_spreadsheet_conventions(app, runner, api, tmp_path):
    path = tmp_path / "tasks.csv"
    path.write_bytes(
        "\ufefftitle,due_at,tags,priority,description\n"
        'Ring Zoë,2026-05-01,"[""a"",""b""]",high,\n'
        '"Multi\nline",,,,"with ""quotes"""\n'
        ",,,,\n"
        "Bad tags,,not json,,\n".encode()
    )
    result = run_import(runner, path, "--kind", "task")
    assert "line 5: title:" in result.stderr  # the quoted cell before it spans lines 3 and 4
    assert "line 6: tags:" in result.stderr
    assert result.exit_code == 1
    tasks = {t["title"]: t for t in api.get("/tasks").get_json()["data"]}
    assert set(tasks) == {"Ring Zoë", "Multi\nline"}
    assert tasks["Ring Zoë"]["tags"] == ["a", "b"] and tasks["Ring Zoë"]["due_at"] == "2026-05-01T00:00:00Z"
    assert tasks["Ring Zoë"]["description"] is None
    assert tasks["Multi\nline"]["description"] == 'with "quotes"'
    assert tasks["Multi\nline"]["created_by"] == api.user_id  # the workspace's first admin by default


def test_ids_of_another_workspace_are_refused(app, runner, filled, other_api, tmp_path):
    path = tmp_path / "rows.jsonl"
    export(runner, "-o", str(path))
    result = run_import(runner, path, "--workspace", "Globex")
    assert result.exit_code == 1
    assert "Already used by another workspace" in result.stderr
    assert counts(app, other_api.workspace_id) == (0, 0)


def test_import_commits_per_batch_not_per_row(app, runner, api, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"kind": "task", "title": f"t{i}"}) + "\n" for i in range(250)))
    commits = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        result = run_import(runner, path, "--batch-size", "100")
    finally:
        event.remove(engine, "commit", listener)
    assert result.exit_code == 0, result.output
    assert counts(app, api.workspace_id) == (250, 0)
    assert len(commits) <= 4  # three batches (and nothing per row)


def test_import_shows_counts_and_rate(runner, api, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"kind": "task", "title": "t"}) + "\n")
    result = run_import(runner, path)
    assert "Importing" in result.stderr
    assert "1 rows: 1 imported" in result.stdout and "rows/s" in result.stdout


def test_import_from_stdin_and_unknown_workspace(runner, api):
    result = runner.invoke(args=["crm", "import", "-"], input=orjson.dumps({"kind": "task", "title": "piped"}))
    assert result.exit_code == 0, result.output
    assert api.get("/tasks").get_json()["data"][0]["title"] == "piped"
    missing = runner.invoke(args=["crm", "import", "-", "--workspace", "Nope"], input=b"")
    assert missing.exit_code == 1 and "No workspace" in missing.stderr


def test_import_as_a_named_user(app, runner, api, tmp_path):
    make_account(app, email="second@acme.test", name="Second", role="member")
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"kind": "task", "title": "t"}) + "\n")
    assert run_import(runner, path, "--user", "second@acme.test").exit_code == 0
    task = api.get("/tasks").get_json()["data"][0]
    with app.app_context():
        assert task["created_by"] == accounts.find_user_by_email("second@acme.test").id
    wrong = run_import(runner, path, "--user", "nobody@acme.test")
    assert wrong.exit_code == 1 and "No user with email" in wrong.stderr
