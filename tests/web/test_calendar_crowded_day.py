"""A crowded day on the calendar: the week grid and the list by day show its first items and link
to the rest, so a day of hundreds of due tasks stays a page of kilobytes, not megabytes."""

from __future__ import annotations

import re

from crm.web.calendar import DAY_ITEMS, MONTH_CELL_ITEMS
from tests.web.test_calendar_page import agenda, calendar, items_of


def test_a_crowded_day_shows_its_first_items_and_links_to_that_days_tasks(web):
    total = DAY_ITEMS + 6
    ids = [web.task(f"Call {n:02}", due_at=f"2026-12-08T{6 + n // 2:02d}:{n % 2 * 30:02d}:00Z") for n in range(total)]
    page = calendar(web, "view=week&date=2026-12-08")
    shown = [i["href"] for i in items_of(page) if i["day"] == "2026-12-08"]
    assert shown == [f"/tasks/{t}" for t in ids[:DAY_ITEMS]]  # the first ones, in time order
    more = r'href="/tasks\?view=all&amp;owner=me&amp;due_from=2026-12-08&amp;due_to=2026-12-08">6 more'
    assert re.search(more, page)
    listed = agenda(page)
    assert listed.count('class="row cal-row') == DAY_ITEMS and re.search(more, listed)
    # ...and the link lists exactly that day's tasks
    rows = re.findall(r'<li id="task-(task_\w+)"', web.text(web.get(
        "/tasks?view=all&owner=me&due_from=2026-12-08&due_to=2026-12-08")))
    assert set(rows) == set(ids)


def test_a_crowded_day_reads_only_the_tasks_it_shows(web):
    """The days are cut in the database: the statement that reads a week or a month of tasks
    returns each day's first ones only, and the pages still count them all."""
    from sqlalchemy import event

    from crm.extensions import db

    for n in range(DAY_ITEMS * 3):
        web.task(f"Call {n:02}", due_at=f"2026-12-08T{6 + n // 6:02d}:{n % 6 * 10:02d}:00Z")
    web.task("Quiet day", due_at="2026-12-10T09:00:00Z")
    seen = []

    def capture(conn, cursor, statement, parameters, *args):
        if "row_number() OVER" in statement and "FROM tasks" in statement:
            seen.append((statement, parameters))

    with web.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        week = calendar(web, "view=week&date=2026-12-08")
        month = calendar(web, "view=month&date=2026-12-08")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) == 2
    with web.app.app_context():
        returned = [len(db.session.connection().exec_driver_sql(statement, parameters).all())
                    for statement, parameters in seen]
    assert returned == [DAY_ITEMS + 1, MONTH_CELL_ITEMS + 1]  # of 73 tasks
    assert f"{DAY_ITEMS * 2} more" in week and f"{DAY_ITEMS * 3 - MONTH_CELL_ITEMS} more" in month
    # the month's list by day shows what its cells show, and links to the rest of each day
    listed = agenda(month)
    assert listed.count('class="row cal-row') == MONTH_CELL_ITEMS + 1
    assert f"{DAY_ITEMS * 3 - MONTH_CELL_ITEMS} more on Tue 8 Dec 2026" in listed
    assert len([i for i in items_of(week) if i["day"] == "2026-12-10"]) == 1
