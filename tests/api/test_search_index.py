"""`q` on tasks and activities: the SQLite trigram index gives exactly the LIKE search's rows."""

import re

import pytest
from sqlalchemy import event, text

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
    ("Søren Łukasiewicz", "Đorđe and Æsa, 北京烤鸭"),
]
QUERIES = [
    "100%", "0% d", "f_w", "half_way", "_", "%", "creme", "BRÛLÉE", "zoë", "angstrom", '"this"', 'e "t',
    "a\\b", "\\", "renewal", "RENEWAL OF", "strasse", "two spaces", "ab", "sh", "nothing here", "ore_",
    "percent%", "percent", "t", "call\nrenewal",
    "soren", "ŁUKASIEWICZ", "dorde and aesa", "ø", "北京烤鸭", "烤鸭",
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
    """The titles found, in the list's order (newest first)."""
    body = api.get(path, query_string={"q": q, "limit": 200}).get_json()
    field = "title" if path == "/tasks" else "subject"
    return [item[field] for item in body["data"]]


@pytest.mark.parametrize("path", ["/tasks", "/activities"])
def test_index_and_like_find_the_same_rows(api, tasks_and_activities, path, monkeypatch):
    """Each way of answering `q` (a rare trigram's rows; the phrase's rows, read whole or with the
    page picked first; the plain LIKE) gives the LIKE's rows in the list's order."""
    for q in QUERIES:
        expected = sorted(title for (title, description), text_ in zip(TITLES, tasks_and_activities, strict=True)
                          if normalize(q) in text_)
        found = {}
        ways = (("rare trigram", 10_000, 10_000, 10_000), ("phrase", -1, 10_000, 10_000),
                ("phrase, page first", -1, 10_000, -1), ("like", -1, -1, -1))
        for way, rare, selective, page_first in ways:
            monkeypatch.setattr(search, "TRIGRAM_RARE_ROWS", rare)
            monkeypatch.setattr(search, "TRIGRAM_SELECTIVE_MATCHES", selective)
            monkeypatch.setattr(search, "PAGE_FIRST_MATCHES", page_first)
            found[way] = _found(api, path, q)
        assert sorted(found["like"]) == expected, q
        assert found == {way[0]: found["like"] for way in ways}, q


def test_sqlite_walks_for_a_word_its_sample_finds_common(sqlite_api, monkeypatch):
    """A word a random sample of rows shows to be common is searched by walking the list in its
    own order, without asking the trigram index how many rows hold it; a rarer one still asks."""
    app, api = sqlite_api
    for i in range(30):
        api.create("/tasks", {"title": f"Renewal call {i}" if i % 15 else f"Quarterly zanzibar review {i}"})
    # At this size no estimate exceeds the real bound: lower it, and the hits needed.
    monkeypatch.setattr(search, "TRIGRAM_SELECTIVE_MATCHES", 5)
    monkeypatch.setattr(search, "COMMON_HITS", 3)
    search.forget_statistics()
    seen = []

    def capture(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        common = api.get("/tasks", query_string={"q": "renewal", "limit": 100}).get_json()["data"]
        asked_for_common = [s for s in seen if "MATCH" in s]
        seen.clear()
        rare = api.get("/tasks", query_string={"q": "zanzibar", "limit": 100}).get_json()["data"]
        asked_for_rare = [s for s in seen if "MATCH" in s]
    finally:
        event.remove(engine, "before_cursor_execute", capture)
        search.forget_statistics()
    assert len(common) == 28 and all("Renewal" in t["title"] for t in common)
    assert len(rare) == 2 and all("zanzibar" in t["title"] for t in rare)
    assert asked_for_common == [] and asked_for_rare != []


@pytest.mark.parametrize("path", ["/tasks", "/activities"])
def test_giving_the_index_a_rare_part_finds_the_same_rows(api, tasks_and_activities, path, monkeypatch):
    """PostgreSQL: when the trigram index is given one word of the needle (the rest being common),
    the result is still exactly the LIKE's. Here each needle's last word counts as rare and
    everything else as common, so every needle of several words takes that path."""
    narrowed = 0
    for q in QUERIES:
        needle = normalize(q)
        expected = sorted(title for (title, description), text_ in zip(TITLES, tasks_and_activities, strict=True)
                          if needle in text_)
        parts = [needle[max(m.start() - 1, 0):m.end() + 1] for m in search._WORD.finditer(needle)]
        rare = search.like_trigrams(parts[-1]) if parts else set()
        shares = search.TrigramShares({t: 0.5 for t in search.like_trigrams(needle) - rare})
        monkeypatch.setattr(search, "trigram_shares", lambda table, shares=shares: shares)
        narrowed += search.rare_part(needle, shares) is not None
        assert sorted(_found(api, path, q)) == expected, q
    assert narrowed >= 5


def test_postgresql_gives_the_trigram_index_only_the_rare_word(scratch_pg_url):
    """`about` is in every task, `zanzibar` in three: the index is asked for `zanzibar ` only (its
    row lists, not those of `about`'s common trigrams) and the rows are the phrase's."""
    from crm import create_app
    from tests.conftest import BASE_CONFIG, Api, make_account

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": scratch_pg_url})
    ws_id, user_id, secret = make_account(app)
    api = Api(app.test_client(), secret, ws_id, user_id)
    words = ["renewal", "invoice", "meeting", "contract", "proposal", "onboarding", "pricing", "follow",
             "quarterly", "demo", "budget", "signature", "kickoff", "review", "training", "support"]
    try:
        for i in range(96):
            api.create("/tasks", {"title": f"{words[i % 16]} about {words[(i * 7) % 16]}"})
        api.create("/tasks", {"title": "Zanzibar about the lease"})
        api.create("/tasks", {"title": "zanzibar about"})
        api.create("/tasks", {"title": "zanzibar, not a match"})
        with app.app_context():
            # A small table has few distinct trigrams: a low target keeps the list to the common ones.
            db.session.execute(text("ALTER STATISTICS tasks_search_trigrams SET STATISTICS 10"))
            db.session.execute(text("ANALYZE tasks"))
            db.session.commit()
            search.forget_statistics()
        seen = []

        def capture(conn, cursor, statement, parameters, *args):
            if statement.lstrip().startswith("SELECT tasks.id") and "LIKE" in statement:
                seen.append((statement, parameters))

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", capture)
        try:
            body = api.get("/tasks", query_string={"q": "Zanzibar about"}).get_json()
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        assert sorted(t["title"] for t in body["data"]) == ["Zanzibar about the lease", "zanzibar about"]
        (statement, parameters), = seen
        with app.app_context():
            plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql(
                "EXPLAIN " + statement, parameters))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        search.forget_statistics()
    # Only a plain `search_text LIKE` can use the trigram index (at this size the planner reads
    # the workspace's index instead, which is why the conditions are read, not the scan).
    assert re.findall(r"\(search_text ~~ '([^']*)'", plan) == ["%zanzibar %"], plan
    assert re.findall(r"\(search_text \|\| ''::text\) ~~ '([^']*)'", plan) == ["%zanzibar about%"], plan


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
    assert api.get(f"{path}?q=timbuktu").get_json()["data"] == []
    # In the trash the row (and its index entry) stays, for a restore; erasing it removes both.
    from datetime import timedelta

    from crm import clock
    from crm.services import trash

    clock.travel(timedelta(days=31))
    try:
        with app.app_context():
            assert trash.purge() == 1
    finally:
        clock.set_offset(timedelta(0))
    assert indexed("timbuktu") == []
