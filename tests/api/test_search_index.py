"""`q` on tasks and activities: the SQLite trigram index gives exactly the LIKE search's rows."""

import pytest
from sqlalchemy import text

from crm.extensions import db
from crm.services import search
from crm.services.text import normalize, search_text

TITLES = [
    ("100% done", "half_way there"),
    ("Crème brûlée tasting", "with ZOË and Ångström"),
    ("Quote \"this\" please", "a\\b back slash"),
    ("Renewal call", "renewal of the ACME contract"),
    ("Under_score and percent%", None),
    ("Straße meeting", "two  spaces"),
    ("short", "ab"),
    ("100 percent", "halfXway"),
]
QUERIES = [
    "100%", "0% d", "f_w", "half_way", "_", "%", "creme", "BRÛLÉE", "zoë", "angstrom", '"this"', 'e "t',
    "a\\b", "\\", "renewal", "RENEWAL OF", "strasse", "two spaces", "ab", "sh", "nothing here", "ore_",
    "percent%", "percent", "t", "call\nrenewal",
]


def make_records(api):
    contact = api.create("/contacts", {"first_name": "Ada"})
    made = []
    for title, description in TITLES:
        api.create("/tasks", {"title": title, "description": description, "contact_id": contact["id"]})
        api.create("/activities", {"type": "note", "subject": title, "body": description,
                                   "contact_id": contact["id"]})
        made.append(search_text(title, description))
    return made


@pytest.fixture
def tasks_and_activities(api):
    return make_records(api)


def _found(api, path, q):
    body = api.get(path, query_string={"q": q, "limit": 200}).get_json()
    field = "title" if path == "/tasks" else "subject"
    return sorted(item[field] for item in body["data"])


@pytest.mark.parametrize("path", ["/tasks", "/activities"])
def test_index_and_like_find_the_same_rows(api, tasks_and_activities, path, monkeypatch):
    for q in QUERIES:
        expected = sorted(title for (title, description), text_ in zip(TITLES, tasks_and_activities, strict=True)
                          if normalize(q) in text_)
        found = {}
        ways = (("rare trigram", 10_000, 10_000, 10_000), ("rowids", -1, 10_000, 10_000),
                ("subquery", -1, 0, 10_000), ("like", -1, -1, -1))
        for way, rare, few, selective in ways:
            monkeypatch.setattr(search, "TRIGRAM_RARE_ROWS", rare)
            monkeypatch.setattr(search, "TRIGRAM_FEW_MATCHES", few)
            monkeypatch.setattr(search, "TRIGRAM_SELECTIVE_MATCHES", selective)
            found[way] = _found(api, path, q)
        assert found == {way[0]: expected for way in ways}, q


@pytest.mark.parametrize("table, path, field", [("tasks", "/tasks", "title"), ("activities", "/activities", "subject")])
def test_trigram_index_follows_inserts_updates_and_deletes(sqlite_api, table, path, field):
    app, api = sqlite_api
    make_records(api)

    def indexed(needle):
        with app.app_context():
            rows = db.session.execute(
                text(f"SELECT t.id FROM {table}_fts f JOIN {table} t ON t.rowid = f.rowid "
                     f"WHERE {table}_fts MATCH :p"), {"p": f'"{needle}"'}).scalars().all()
            db.session.remove()
        return sorted(rows)

    contact = api.create("/contacts", {"first_name": "Bo"})
    payload = {field: "Quarterly zanzibar review"} if table == "tasks" else {"type": "note", field: "Quarterly zanzibar review"}
    record = api.create(path, {**payload, "contact_id": contact["id"]})
    assert indexed("zanzibar") == [record["id"]]
    assert [r[field] for r in api.get(f"{path}?q=Zanzibar").get_json()["data"]] == ["Quarterly zanzibar review"]

    patched = api.patch(f"{path}/{record['id']}", {field: "Quarterly timbuktu review"})
    assert patched.status_code == 200, patched.get_json()
    assert indexed("zanzibar") == []
    assert indexed("timbuktu") == [record["id"]]
    assert api.get(f"{path}?q=zanzibar").get_json()["data"] == []

    assert api.delete(f"{path}/{record['id']}").status_code == 204
    assert indexed("timbuktu") == []
    assert api.get(f"{path}?q=timbuktu").get_json()["data"] == []
