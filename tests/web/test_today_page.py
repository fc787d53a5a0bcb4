"""The Today page (`/`): counts in the user's time zone, each linking to the view that lists
exactly those tasks; the agenda, overdue and undated sections; the charts' numbers; a fixed
number of SQL statements whatever the data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from crm import clock

# Wednesday 4 March 2026, 12:00 on Kiritimati (UTC+14): still Tuesday 22:00 in UTC.
KIRITIMATI = "Pacific/Kiritimati"
NOW = datetime(2026, 3, 3, 22, 0, 0)


def local(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall time on Kiritimati in March 2026, as naive UTC."""
    return datetime(2026, 3, day, hour, minute, second) - timedelta(hours=14)


@pytest.fixture
def at_now():
    """The clock at NOW (it runs on from there) for the test."""
    clock.set_offset(NOW - datetime.now(UTC).replace(tzinfo=None))
    yield NOW
    clock.set_offset(timedelta(0))


def count_of(html: str, name: str) -> int:
    match = re.search(rf'id="count-{name}"><span class="count-number">(\d+)</span>', html)
    assert match, f"no count {name}"
    return int(match.group(1))


def count_link(html: str, name: str) -> str:
    return re.search(rf'<a class="count[^"]*" href="([^"]+)" id="count-{name}"', html).group(1).replace("&amp;", "&")


def row_ids(html: str) -> list[str]:
    return re.findall(r'<li id="task-(task_\w+)"', html)


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<(ol|ul) class="[^"]*" id="{element_id}">(.*?)</\1>\s*(?=<p|</section|$)', html, re.S)
    return match.group(2) if match else ""


class Tables(HTMLParser):
    """Every <table id=...>: its rows as lists of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


@pytest.fixture
def kiritimati_week(web, teammate, at_now):
    """Tasks at the edges of the user's day and week on Kiritimati."""
    web.set_time_zone(KIRITIMATI)
    ids = {
        "last_week_sunday": web.task("Last week's Sunday", due_at=local(1, 23)),
        "monday_morning": web.task("Monday morning", due_at=local(2)),
        "late_yesterday": web.task("Late yesterday", due_at=local(3, 23, 59, 59)),
        "first_second_today": web.task("First second of today", due_at=local(4)),
        "last_second_today": web.task("Last second of today", due_at=local(4, 23, 59, 59)),
        "tomorrow": web.task("Tomorrow", due_at=local(5)),
        "sunday": web.task("Sunday night", due_at=local(8, 23, 59, 59)),
        "next_monday": web.task("Next Monday", due_at=local(9)),
        "undated": web.task("Someday"),
        "done_monday": web.task("Done on Monday", status="completed", completed_at=local(2)),
        "done_last_week": web.task("Done last Sunday", status="completed", completed_at=local(1, 23, 59, 59)),
        "done_due_today": web.task("Done, was due today", due_at=local(4, 9), status="completed",
                                   completed_at=local(3, 9)),
    }
    teammate.task("Mia's task due today", due_at=local(4, 10))
    return ids


def test_counts_follow_the_users_day_and_week_in_a_far_time_zone(web, kiritimati_week):
    html = web.text(web.get("/"))
    assert (count_of(html, "overdue"), count_of(html, "today"), count_of(html, "week"),
            count_of(html, "done-week")) == (3, 2, 6, 2)
    assert "Wed 4 Mar 2026 · your own tasks" in html

    web.set_time_zone("UTC")  # the same moment is still Tuesday in UTC: other days, other counts
    html = web.text(web.get("/"))
    # In UTC it is Tuesday 3 March: due that day are "late yesterday" (09:59:59 UTC) and "first
    # second of today" (10:00 UTC); overdue are the two tasks due on Sunday 1 March (UTC).
    assert count_of(html, "today") == 2
    assert count_of(html, "overdue") == 2


def test_a_change_made_on_the_page_refreshes_the_counts(web, kiritimati_week):
    """Every successful htmx POST says followup:changed; the counts section listens and asks
    for itself again, so ticking, snoozing or deleting a task on Today updates them."""
    import json

    page = web.text(web.get("/"))
    counts = re.search(r'<section id="today-counts"[^>]*>', page).group(0)
    assert 'data-hx-get="/today/counts"' in counts and 'data-hx-trigger="followup:changed from:body"' in counts
    done = web.post(f"/tasks/{kiritimati_week['monday_morning']}/complete", htmx=True)
    assert "followup:changed" in json.loads(done.headers["HX-Trigger"])
    fresh = web.text(web.get("/today/counts", htmx=True))
    assert fresh.count('<section id="today-counts"') == 1 and "<html" not in fresh
    # it was due on Monday this week: one fewer overdue and due this week, one more done
    assert (count_of(fresh, "overdue"), count_of(fresh, "week"), count_of(fresh, "done-week")) == (2, 5, 3)
    refused = web.post(f"/tasks/{kiritimati_week['undated']}/edit", {"title": " "}, htmx=True)
    assert refused.status_code == 422 and "followup:changed" not in refused.headers.get("HX-Trigger", "")


def test_each_count_links_to_the_view_of_exactly_those_tasks(web, kiritimati_week):
    ids = kiritimati_week
    html = web.text(web.get("/"))
    expected = {
        "overdue": {"last_week_sunday", "monday_morning", "late_yesterday"},
        "today": {"first_second_today", "last_second_today"},
        "week": {"monday_morning", "late_yesterday", "first_second_today", "last_second_today", "tomorrow",
                 "sunday"},
        "done-week": {"done_monday", "done_due_today"},
    }
    for name, keys in expected.items():
        link = count_link(html, name)
        assert link.startswith("/tasks?")
        listed = set(row_ids(web.text(web.get(link))))
        assert listed == {ids[k] for k in keys}, name
        assert count_of(html, name) == len(keys)


def test_sections_agenda_in_time_order_overdue_and_undated(web, teammate, kiritimati_week):
    ids = kiritimati_week
    block = web.task("Focus block", due_at=local(4, 14), duration=5400)
    meeting = web.activity(type="meeting", status="scheduled", subject="Demo with Ada", occurred_at=local(4, 11).isoformat() + "Z")
    web.activity(type="call", subject="Logged call this morning", occurred_at=local(4, 8).isoformat() + "Z")
    teammate.activity(type="meeting", status="scheduled", subject="Mia's meeting", occurred_at=local(4, 12).isoformat() + "Z")
    web.activity(type="meeting", status="scheduled", subject="Tomorrow's meeting", occurred_at=local(5, 11).isoformat() + "Z")
    html = web.text(web.get("/"))

    agenda = section(html, "agenda")
    order = re.findall(r'id="(?:task|agenda-activity)-(\w+)"', agenda)
    assert order == [ids["first_second_today"], meeting, block, ids["last_second_today"]]
    assert "All day" in agenda
    assert "14:00</time>–<time" in agenda and "15:30</time>" in agenda  # the block's 90 minutes, local
    assert "Mia" not in agenda and "Tomorrow's meeting" not in agenda and "Logged call" not in agenda
    assert ids["done_due_today"] not in agenda

    overdue = row_ids(section(html, "overdue-tasks"))
    assert overdue == [ids["last_week_sunday"], ids["monday_morning"], ids["late_yesterday"]]  # oldest first
    assert row_ids(section(html, "undated-tasks")) == [ids["undated"]]
    assert "owner: you" in html


def test_overdue_and_undated_sections_show_a_limited_list_and_say_so(web, at_now):
    for n in range(23):
        web.task(f"Late {n}", due_at=NOW - timedelta(days=30 - n))
        web.task(f"Undated {n}")
    html = web.text(web.get("/"))
    assert len(row_ids(section(html, "overdue-tasks"))) == 20
    assert "All 23 overdue tasks" in html
    assert len(row_ids(section(html, "undated-tasks"))) == 20
    assert "The 20 newest of 23" in html


def test_a_crowded_day_shows_its_first_forty_agenda_items_and_links_to_the_rest(web, at_now):
    for n in range(45):  # due later today, a minute apart, in UTC (the user's zone here)
        web.task(f"Today {n:02}", due_at=NOW + timedelta(minutes=10 + n))
    html = web.text(web.get("/"))
    shown = re.findall(r'>Today (\d\d)</a>', section(html, "agenda"))
    assert shown == [f"{n:02}" for n in range(40)]  # the first forty, in time order
    assert "All 45 tasks due today" in html


def test_chart_tables_hold_the_weekly_and_bucket_numbers(web, at_now):
    web.set_time_zone(KIRITIMATI)
    # This week started Monday 2 March (local); eleven weeks before it, Monday 15 December 2025.
    for when in (local(2), local(3, 12), local(4, 11)):
        web.task("Done this week", status="completed", completed_at=when)
    web.task("Done last week", status="completed", completed_at=local(1, 23, 59, 59))
    first_monday = local(2) - timedelta(weeks=11)
    web.task("Done in the first week shown", status="completed", completed_at=first_monday)
    web.task("Done just before the weeks shown", status="completed", completed_at=first_monday - timedelta(seconds=1))
    for kind, when in (("call", local(2, 9)), ("call", local(3, 9)), ("email", local(3, 10)),
                       ("meeting", local(1, 9)), ("note", first_monday)):
        web.activity(type=kind, occurred_at=when.isoformat() + "Z")
    web.activity(type="meeting", status="scheduled", occurred_at=local(4, 15).isoformat() + "Z")  # not logged
    web.task("Due next week", due_at=local(10, 9))
    web.task("Due later", due_at=local(30, 9))
    html = web.text(web.get("/"))
    tables = tables_of(html)

    completed = tables["chart-completed-table"]
    assert completed[0] == ["Week of", "Completed"]
    assert len(completed) == 13
    assert completed[1] == ["15 Dec", "1"]
    assert completed[-2] == ["23 Feb", "1"]
    assert completed[-1] == ["2 Mar", "3"]
    assert sum(int(row[1]) for row in completed[1:]) == 5
    assert count_of(html, "done-week") == 3

    activities = tables["chart-activities-table"]
    assert activities[0] == ["Week of", "Call", "Email", "Meeting", "Note", "Total"]
    assert activities[1] == ["15 Dec", "0", "0", "0", "1", "1"]
    assert activities[-2] == ["23 Feb", "0", "0", "1", "0", "1"]
    assert activities[-1] == ["2 Mar", "2", "1", "0", "0", "3"]

    buckets = tables["chart-buckets-table"]
    assert buckets == [["Due", "Open tasks"], ["Overdue", "0"], ["Today", "0"], ["Rest of week", "0"],
                       ["Next week", "1"], ["Later", "1"], ["No date", "0"]]

    # The SVG draws the same numbers on its bars, and the legend names the types.
    svg = re.search(r'<svg[^>]*id="chart-activities".*?</svg>', html, re.S).group(0)
    assert re.findall(r'class="value">(\d+)</text>', svg).count("2") == 1
    for name in ("Call", "Email", "Meeting", "Note"):
        assert f">{name}</text>" in svg
    completed_svg = re.search(r'<svg[^>]*id="chart-completed".*?</svg>', html, re.S).group(0)
    assert sorted(re.findall(r'class="value">(\d+)</text>', completed_svg)) == ["1", "1", "3"]


def test_the_page_obeys_the_content_security_policy(web, kiritimati_week):
    web.activity(type="call", subject="A call")
    html = web.text(web.get("/"))
    assert "<style" not in html and " style=" not in html
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))
    assert len(re.findall(r'<svg[^>]*class="pygal-chart chart-svg"', html)) == 3
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "ids repeat"


def test_today_is_the_home_page_and_first_in_the_nav(web):
    html = web.text(web.get("/"))
    assert "<h1>Today</h1>" in html
    nav = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r">(\w+)</a>", nav)[:2] == ["Today", "Tasks"]
    assert 'href="/" aria-current="page">Today' in nav
    assert '<h1 id="task-heading">My open tasks</h1>' in web.text(web.get("/tasks"))


def test_an_empty_workspace_has_a_calm_today(web):
    html = web.text(web.get("/"))
    assert "Nothing due or scheduled today." in html and "Nothing overdue." in html
    assert count_of(html, "overdue") == 0
    assert "None logged in these weeks." in html  # no activities: no chart to draw


def test_statements_per_page_do_not_grow_with_the_data(web, count_queries, at_now):
    def fill(n: int) -> None:
        for i in range(n):
            web.task(f"Due today {i}", due_at=NOW + timedelta(minutes=10 + i))
            web.task(f"Late {i}", due_at=NOW - timedelta(days=2, minutes=i))
            web.task(f"Undated {i}")
            web.task(f"Done {i}", status="completed", completed_at=NOW - timedelta(days=7 * (i % 12)))
            web.activity(type=("call", "email", "meeting")[i % 3], occurred_at=(NOW - timedelta(days=i)).isoformat() + "Z")
            web.activity(type="meeting", status="scheduled", occurred_at=(NOW + timedelta(minutes=30 + i)).isoformat() + "Z")

    fill(2)
    web.get("/")  # warm caches (the bell, the session)
    with count_queries() as small:
        assert web.get("/").status_code == 200
    fill(25)
    with count_queries() as big:
        html = web.text(web.get("/"))
    assert len(row_ids(section(html, "overdue-tasks"))) == 20
    assert len(big) == len(small), "\n".join(big)
    assert len(big) <= 10, "\n".join(big)  # the session, the bell's 2, the page's 7


def test_the_counts_read_the_open_tasks_index(sqlite_api):
    """SQLite, without statistics, would count the open tasks on the index of all the owner's
    tasks (most of them done, each status checked); the counts name the open tasks' index."""
    from sqlalchemy import event

    from crm.extensions import db
    from crm.models import User
    from crm.services import today

    app, api = sqlite_api
    api.create("/tasks", {"title": "Late", "due_at": "2026-01-05T09:00:00Z"})
    api.create("/tasks", {"title": "Undated"})
    seen = []

    def capture(conn, cursor, statement, parameters, *args):
        if "count(*)" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        user = db.session.get(User, api.user_id)
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            found = today.open_buckets(user, today.user_day(user))
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        (statement, parameters), = seen
        plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    assert (found["overdue"], found["no_date"]) == (1, 1)
    assert statement.count("FROM tasks INDEXED BY ix_tasks_ws_owner_open_due") == 7
    searches = [row[-1] for row in plan if row[-1].startswith("SEARCH")]
    assert len(searches) == 7 and all("ix_tasks_ws_owner_open_due" in s for s in searches), plan
