"""Lists: keyset pagination, sorting with nulls last, filters, totals, and a fixed query count."""

from datetime import UTC, datetime, timedelta

import pytest


def page_through(api, query, limit=3):
    items, cursor = [], None
    while True:
        sep = "&" if "?" in query else "?"
        url = f"{query}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url).get_json()
        items += body["data"]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return items
        cursor = body["next_cursor"]


def test_list_envelope_and_total(api):
    for i in range(3):
        api.create("/tasks", {"title": f"t{i}"})
    body = api.get("/tasks?limit=2").get_json()
    assert set(body) == {"data", "has_more", "next_cursor"}
    assert body["has_more"] is True and isinstance(body["next_cursor"], str)
    assert api.get("/tasks?include_total=true&limit=1").get_json()["total"] == 3


def test_due_at_sort_puts_nulls_last_both_ways(api):
    api.create("/tasks", {"title": "none1"})
    api.create("/tasks", {"title": "late", "due_at": "2026-05-01"})
    api.create("/tasks", {"title": "none2"})
    api.create("/tasks", {"title": "early", "due_at": "2026-04-01"})
    asc = [t["title"] for t in page_through(api, "/tasks?sort=due_at", limit=1)]
    desc = [t["title"] for t in page_through(api, "/tasks?sort=-due_at", limit=1)]
    assert asc[:2] == ["early", "late"] and set(asc[2:]) == {"none1", "none2"}
    assert desc[:2] == ["late", "early"] and set(desc[2:]) == {"none1", "none2"}


def test_priority_sorts_by_rank_not_alphabet(api):
    for p in ("normal", "urgent", "low", "high"):
        api.create("/tasks", {"title": p, "priority": p})
    assert [t["priority"] for t in api.get("/tasks?sort=priority").get_json()["data"]] == ["low", "normal", "high", "urgent"]
    assert [t["priority"] for t in api.get("/tasks?sort=-priority").get_json()["data"]] == ["urgent", "high", "normal", "low"]


@pytest.mark.parametrize("sort", ["due_at", "-due_at", "priority", "-priority", "title", "-title", "created_at", "-created_at"])
def test_every_row_exactly_once_with_ties(api, sort):
    # Many ties: same due date, same priority, same created_at second.
    for i in range(11):
        api.create("/tasks", {"title": f"t{i % 3}", "priority": ["low", "high"][i % 2],
                              "due_at": None if i % 4 == 0 else "2026-06-01"})
    ids = [t["id"] for t in page_through(api, f"/tasks?sort={sort}", limit=2)]
    assert len(ids) == 11 and len(set(ids)) == 11


def test_inserts_and_deletes_while_paging_never_repeat_or_skip(api):
    created = [api.create("/tasks", {"title": f"t{i}"})["id"] for i in range(10)]
    first = api.get("/tasks?limit=4").get_json()
    seen = [t["id"] for t in first["data"]]
    # Meanwhile: new rows arrive (they sort first under -created_at) and one unseen row goes away.
    for i in range(3):
        api.create("/tasks", {"title": f"new{i}"})
    unseen = [i for i in created if i not in seen]
    api.delete(f"/tasks/{unseen[0]}")
    cursor = first["next_cursor"]
    while cursor:
        body = api.get(f"/tasks?limit=4&cursor={cursor}").get_json()
        seen += [t["id"] for t in body["data"]]
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen))
    assert set(created) - {unseen[0]} <= set(seen)


def test_cursor_is_tamper_proof_and_bound_to_sort(api):
    for i in range(3):
        api.create("/tasks", {"title": f"t{i}"})
    cursor = api.get("/tasks?limit=1").get_json()["next_cursor"]
    flipped = cursor[:3] + ("A" if cursor[3] != "A" else "B") + cursor[4:]  # payload edited, signature kept
    for bad in (flipped, "garbage", cursor + "A", cursor.split(".")[0]):
        r = api.get(f"/tasks?cursor={bad}")
        assert r.status_code == 400
        assert "cursor" in r.get_json()["error"]["details"]
    r = api.get(f"/tasks?cursor={cursor}&sort=title")
    assert r.status_code == 400 and "cursor" in r.get_json()["error"]["details"]


def test_cursor_is_bound_to_its_filters(api):
    for i in range(3):
        api.create("/tasks", {"title": f"t{i}", "priority": "high"})
    first = api.get("/tasks?limit=1&priority=high&status=pending,in_progress").get_json()
    cursor = first["next_cursor"]
    # The same filters, even written in another order or repeated, continue the list...
    same = api.get(f"/tasks?limit=1&cursor={cursor}&status=in_progress&status=pending&priority=high")
    assert same.status_code == 200 and same.get_json()["data"][0]["id"] != first["data"][0]["id"]
    # ...other filters (or none) are refused rather than skipping or repeating rows.
    for other in ("priority=high", "priority=low&status=pending,in_progress", "status=pending,in_progress&priority=high&q=t"):
        r = api.get(f"/tasks?limit=1&cursor={cursor}&{other}")
        assert r.status_code == 400, other
        assert "other filters" in r.get_json()["error"]["details"]["cursor"][0]
    feed = api.get("/activities/feed?limit=1").get_json()["next_cursor"]
    r = api.get(f"/activities/feed?limit=1&cursor={feed}&owner_id={api.user_id}")
    assert r.status_code == 400 and "cursor" in r.get_json()["error"]["details"]


@pytest.mark.parametrize("query, param", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"),
    ("sort=color", "sort"), ("status=done", "status"), ("status=pending,nope", "status"),
    ("overdue=yes", "overdue"), ("due_before=soon", "due_before"), ("colour=red", "colour"),
    ("include_total=1", "include_total"),
])
def test_bad_query_parameters_are_validation_errors(api, query, param):
    r = api.get(f"/tasks?{query}")
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "validation_error"
    assert param in r.get_json()["error"]["details"]


def test_repeated_list_parameter_means_the_same_as_commas(api):
    for title, status in (("open", "pending"), ("going", "in_progress"), ("done", "completed")):
        api.create("/tasks", {"title": title, "status": status})
    def titles(query):
        r = api.get(f"/tasks?{query}&sort=title")
        assert r.status_code == 200, r.get_json()
        return [t["title"] for t in r.get_json()["data"]]
    assert titles("status=pending&status=in_progress") == titles("status=pending,in_progress") == ["going", "open"]
    assert titles("status=pending,completed&status=in_progress") == ["done", "going", "open"]
    assert api.get("/tasks?status=pending&status=nope").status_code == 400


def test_repeated_single_value_parameter_is_an_error(api):
    r = api.get("/tasks?sort=title&sort=-title")
    assert r.status_code == 400 and r.get_json()["error"]["details"]["sort"] == ["Given more than once."]


def test_task_filters(api):
    ada = api.create("/contacts", {"first_name": "Ada"})
    now = datetime.now(UTC).replace(microsecond=0)
    past = (now - timedelta(days=2)).isoformat()
    future = (now + timedelta(days=2)).isoformat()
    overdue = api.create("/tasks", {"title": "Overdue call", "due_at": past, "contact_id": ada["id"], "tags": ["vip"]})
    api.create("/tasks", {"title": "Done late", "due_at": past, "status": "completed"})
    upcoming = api.create("/tasks", {"title": "Upcoming", "due_at": future, "priority": "urgent", "type": "email"})
    nodue = api.create("/tasks", {"title": "Ünïcode description", "description": "Crème brûlée"})

    def titles(query):
        return sorted(t["title"] for t in api.get(f"/tasks?{query}").get_json()["data"])

    assert titles("overdue=true") == ["Overdue call"]
    assert "Overdue call" not in titles("overdue=false")
    assert titles(f"contact_id={ada['id']}") == ["Overdue call"]
    assert titles("tag=vip") == ["Overdue call"]
    assert titles("priority=urgent,high") == ["Upcoming"]
    assert titles("type=email") == ["Upcoming"]
    assert titles("status=completed") == ["Done late"]
    assert titles(f"due_after={now.isoformat().replace('+00:00', 'Z')}") == ["Upcoming"]
    assert titles(f"due_before={now.isoformat().replace('+00:00', 'Z')}") == ["Done late", "Overdue call"]
    assert titles("q=CREME") == [nodue["title"]]
    assert titles("q=overdue") == ["Overdue call"]
    assert titles("q=100%25") == []
    assert titles(f"owner_id={api.user_id}&created_by={api.user_id}&status=pending") == sorted(
        [overdue["title"], upcoming["title"], nodue["title"]])


def test_list_query_count_is_fixed_whatever_the_page_size(api, count_queries):
    company = api.create("/companies", {"name": "Acme"})
    deal = api.create("/deals", {"name": "Pilot"})

    def make(n):
        for i in range(n):
            contact = api.create("/contacts", {"first_name": f"C{i}"})
            api.create("/tasks", {"title": f"t{i}", "contact_id": contact["id"], "company_id": company["id"],
                                  "deal_id": deal["id"], "tags": ["a"]})
            api.create("/activities", {"type": "meeting", "contact_id": contact["id"], "attendees": [contact["id"]]})

    make(2)
    counts = {}
    for path in ("/tasks", "/activities", "/activities/feed", "/contacts", "/companies", "/deals", "/users"):
        with count_queries() as small:
            assert api.get(f"{path}?limit=200").status_code == 200
        counts[path] = len(small)
    make(25)
    for path, before in counts.items():
        with count_queries() as big:
            body = api.get(f"{path}?limit=200").get_json()
        assert len(big) == before, (path, big)
        assert len(body["data"]) >= 1
    assert counts["/tasks"] <= 3


def test_records_filters_and_search(api):
    acme = api.create("/companies", {"name": "Acme Robotics", "domain": "ACME.com"})
    api.create("/companies", {"name": "Globex", "domain": "globex.io"})
    assert acme["domain"] == "acme.com"
    assert [c["name"] for c in api.get("/companies?q=acme.c").get_json()["data"]] == ["Acme Robotics"]
    ada = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.com",
                                   "company_id": acme["id"]})
    api.create("/contacts", {"first_name": "Zoë", "last_name": "Okafor"})
    assert [c["id"] for c in api.get(f"/contacts?company_id={acme['id']}").get_json()["data"]] == [ada["id"]]
    assert [c["name"] for c in api.get("/contacts?q=zoe").get_json()["data"]] == ["Zoë Okafor"]
    assert [c["name"] for c in api.get("/contacts?q=ADA@").get_json()["data"]] == ["Ada Lovelace"]
    assert [c["name"] for c in api.get("/contacts?sort=name").get_json()["data"]] == ["Ada Lovelace", "Zoë Okafor"]
    deal = api.create("/deals", {"name": "Pilot", "contact_id": ada["id"], "stage": "demo"})
    assert [d["id"] for d in api.get(f"/deals?contact_id={ada['id']}&stage=demo").get_json()["data"]] == [deal["id"]]


def test_users_list_shows_only_own_workspace(api, other_api):
    emails = [u["email"] for u in api.get("/users").get_json()["data"]]
    assert emails == ["owner@acme.test"]
    user = api.get(f"/users/{api.user_id}").get_json()["data"]
    assert set(user) == {"id", "name", "email", "role", "time_zone", "created_at", "updated_at"}
    assert api.get(f"/users/{other_api.user_id}").status_code == 404


def test_overdue_does_not_count_tasks_due_later(api):
    api.create("/tasks", {"title": "later", "due_at": "2099-01-01"})
    assert api.get("/tasks?overdue=true").get_json()["data"] == []


@pytest.mark.parametrize("status", ["pending,in_progress", "in_progress,pending"])
@pytest.mark.parametrize("owner", [True, False], ids=["my", "every_owner"])
def test_open_tasks_by_due_date_read_only_open_tasks_on_sqlite(sqlite_api, status, owner):
    """SQLite uses the partial index of open tasks only when the query states its condition with
    the same literals; otherwise it walks every closed task first (3 ms at 1,000,000 tasks
    instead of 0.4 for one owner; without an owner 879 ms, docs/performance.md). Whatever order
    the statuses are given in, with or without an owner."""
    from sqlalchemy import event

    from crm.extensions import db

    app, api = sqlite_api
    for i in range(3):
        api.create("/tasks", {"title": f"t{i}", "due_at": f"2026-05-0{i + 1}T09:00:00Z"})
    seen = []

    def capture(conn, cursor, statement, parameters, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM tasks" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        owner_filter = f"owner_id={api.user_id}&" if owner else ""
        body = api.get(f"/tasks?{owner_filter}status={status}&sort=due_at").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert [t["title"] for t in body["data"]] == ["t0", "t1", "t2"]
    (statement, parameters), = seen
    with app.app_context():
        plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    index = "ix_tasks_ws_owner_open_due" if owner else "ix_tasks_ws_open_due"
    assert any(index in row[-1] for row in plan), plan
    assert not any("TEMP B-TREE" in row[-1] for row in plan), plan  # read in order, not sorted


def test_postgresql_keeps_the_list_query_prepared_across_requests(scratch_pg_url):
    """Each request's read transaction ends with COMMIT, not ROLLBACK (after which psycopg drops
    its prepared statements), and LIMIT is a literal (with a parameter PostgreSQL cannot cost a
    generic plan): so a repeated list is prepared once per connection and PostgreSQL may stop
    planning it (planning cost more than running it at 1,000,000 tasks, docs/performance.md)."""
    from sqlalchemy import text

    from crm import create_app
    from crm.extensions import db
    from tests.conftest import BASE_CONFIG, Api, make_account

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": scratch_pg_url})
    ws_id, user_id, secret = make_account(app)
    api = Api(app.test_client(), secret, ws_id, user_id)
    api.create("/tasks", {"title": "t"})
    try:
        for _ in range(8):
            assert api.get("/tasks?limit=50").status_code == 200
            assert api.client.get("/healthz").status_code == 200  # as a load balancer polls it
        with app.app_context():  # the same pooled connection the requests used
            prepared = db.session.execute(text(
                "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE 'SELECT tasks.id%'")).all()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    (statement, executions), = prepared
    assert executions >= 3  # prepared at the 5th request and still there at the 8th
    assert "LIMIT 51" in statement
