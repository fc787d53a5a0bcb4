"""`flask crm import` folds what it stores and resolves names by the same rule as the API."""

from __future__ import annotations

import json


def test_imported_rows_are_found_and_linked_by_transliteration(app, runner, api, tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in [
        {"kind": "company", "name": "Ærø Shipping"},
        {"kind": "contact", "first_name": "Søren", "last_name": "Kierkegaard"},
        {"kind": "deal", "name": "Øresund Bridge"},
        {"kind": "task", "title": "Call Đorđe", "contact_name": "soren", "company_name": "aero"},
        {"kind": "activity", "type": "note", "subject": "Æsa", "body": "Met Łukasiewicz"},
    ]) + "\n", encoding="utf-8")
    result = runner.invoke(args=["crm", "import", str(path)])
    assert result.exit_code == 0, result.output
    [contact] = api.get("/contacts", query_string={"q": "soren"}).get_json()["data"]
    [company] = api.get("/companies", query_string={"q": "aero"}).get_json()["data"]
    [deal] = api.get("/deals", query_string={"q": "oresund"}).get_json()["data"]
    [task] = api.get("/tasks", query_string={"q": "dorde"}).get_json()["data"]
    [activity] = api.get("/activities", query_string={"q": "lukasiewicz"}).get_json()["data"]
    assert (task["contact_id"], task["company_id"]) == (contact["id"], company["id"])
    assert (deal["name"], activity["subject"]) == ("Øresund Bridge", "Æsa")
