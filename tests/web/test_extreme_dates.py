"""Dates at the ends of the range (and rows stored before it was checked) show in every time zone;
filters with any day answer; forms refuse dates out of range with an inline error."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Activity, Task

ZONES = ["Pacific/Kiritimati", "Etc/GMT-14", "Etc/GMT+12", "UTC", "America/St_Johns", "Asia/Kathmandu"]
EARLIEST, LATEST = "1900-01-01T00:00:00Z", "2200-12-31T23:59:59Z"


@pytest.fixture
def edge_rows(web):
    contact = web.contact("Edge", "Case")
    rows = {
        "early_task": web.task("Early task", due_at=EARLIEST, contact_id=contact),
        "late_task": web.task("Late task", due_at=LATEST, contact_id=contact),
        "early_activity": web.activity(subject="Early call", occurred_at=EARLIEST, contact_id=contact),
        "late_activity": web.activity(subject="Late call", occurred_at=LATEST, contact_id=contact),
        "contact": contact,
    }
    return rows


@pytest.fixture
def legacy_rows(app, web, edge_rows):
    """Rows stored before the range was checked: year 1 and year 9999."""
    contact = edge_rows["contact"]
    ids = {
        "ancient_task": web.task("Ancient task", contact_id=contact),
        "endless_task": web.task("Endless task", contact_id=contact),
        "ancient_activity": web.activity(subject="Ancient call", contact_id=contact),
        "endless_activity": web.activity(subject="Endless call", contact_id=contact),
    }
    with app.app_context():
        db.session.get(Task, ids["ancient_task"]).due_at = datetime(1, 1, 1)
        db.session.get(Task, ids["endless_task"]).due_at = datetime(9999, 12, 31, 23, 59, 59)
        db.session.get(Activity, ids["ancient_activity"]).occurred_at = datetime(1, 1, 1)
        db.session.get(Activity, ids["endless_activity"]).occurred_at = datetime(9999, 12, 31, 23, 59, 59)
        db.session.commit()
    return {**edge_rows, **ids}


def pages_of(rows: dict) -> list[tuple[str, bool]]:
    pages = [("/", False), ("/tasks?view=all", False), ("/tasks?view=overdue", False),
             ("/tasks?view=upcoming", False), ("/tasks?view=today", False), ("/activities", False),
             (f"/contacts/{rows['contact']}", False)]
    for name, row_id in rows.items():
        if name.endswith("_task"):
            pages += [(f"/tasks/{row_id}", False), (f"/tasks/{row_id}/edit", False),
                      (f"/tasks/{row_id}/row", True), (f"/tasks/{row_id}/edit", True)]
        elif name.endswith("_activity"):
            pages += [(f"/activities/{row_id}/edit", False), (f"/activities/{row_id}/entry", True)]
    return pages


def _answers(web, pages) -> list[str]:
    wrong = []
    for path, htmx in pages:
        response = web.get(path, htmx=htmx)
        if response.status_code != 200:
            wrong.append(f"{path} (htmx={htmx}): {response.status_code}")
    return wrong


@pytest.mark.parametrize("zone", ZONES)
def test_pages_show_rows_at_the_ends_of_the_range_in_every_time_zone(web, edge_rows, zone):
    web.set_time_zone(zone)
    assert _answers(web, pages_of(edge_rows)) == []
    page = web.text(web.get("/tasks?view=all"))
    assert "Early task" in page and "Late task" in page


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])  # fixed offsets: +14 and -12
def test_rows_stored_out_of_range_show_at_the_nearest_end(web, legacy_rows, zone):
    web.set_time_zone(zone)
    assert _answers(web, pages_of(legacy_rows)) == []
    ancient = web.text(web.get(f"/tasks/{legacy_rows['ancient_task']}"))
    endless = web.text(web.get(f"/tasks/{legacy_rows['endless_task']}"))
    if zone == "Etc/GMT-14":  # UTC+14: 1900-01-01 14:00 and 2201-01-01 13:59
        assert "1 Jan 1900" in ancient and "1 Jan 2201" in endless
    else:  # UTC-12: 1899-12-31 12:00 and 2200-12-31 11:59
        assert "31 Dec 1899" in ancient and "31 Dec 2200" in endless


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
@pytest.mark.parametrize("query", [
    "due_from=0001-01-01", "due_to=9999-12-31", "due_from=0001-01-01&due_to=9999-12-31",
    "due_from=9999-12-31", "due_to=0001-01-01", "due_from=1899-12-31&due_to=2201-01-01",
    "due_from=2200-12-31&due_to=2200-12-31", "due_from=1900-01-01&due_to=1900-01-01", "due_from=10000-01-01",
])
def test_task_filters_with_any_day_answer(web, legacy_rows, zone, query):
    web.set_time_zone(zone)
    for view in ("all", "my", "upcoming", "done"):
        response = web.get(f"/tasks?view={view}&{query}")
        assert response.status_code == 200, (view, query)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_task_filters_over_the_whole_range_find_every_row(web, legacy_rows, zone):
    web.set_time_zone(zone)
    page = web.text(web.get("/tasks?view=all&due_from=0001-01-01&due_to=9999-12-31"))
    for title in ("Early task", "Late task", "Ancient task", "Endless task"):
        assert title in page
    nothing = web.text(web.get("/tasks?view=all&due_to=1800-01-01"))
    assert "Early task" not in nothing and "Late task" not in nothing


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
@pytest.mark.parametrize("query", [
    "from=0001-01-01", "to=9999-12-31", "from=0001-01-01&to=9999-12-31", "from=9999-12-31", "to=0001-01-01",
    "from=1900-01-01&to=1900-01-01", "from=2200-12-31&to=2201-01-01",
])
def test_activity_filters_with_any_day_answer(web, legacy_rows, zone, query):
    web.set_time_zone(zone)
    response = web.get(f"/activities?{query}")
    assert response.status_code == 200, query
    if query == "from=0001-01-01&to=9999-12-31":
        page = web.text(response)
        for subject in ("Early call", "Late call", "Ancient call", "Endless call"):
            assert subject in page


def _counts(app):
    with app.app_context():
        return tuple(db.session.execute(select(func.count()).select_from(m)).scalar_one() for m in (Task, Activity))


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "UTC"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "1899-12-30T23:59", "2201-01-02T00:00"])
def test_forms_refuse_dates_out_of_range_with_an_inline_error(app, web, zone, value):
    web.set_time_zone(zone)
    before = _counts(app)
    task = web.post("/tasks", {"title": "Out of range", "due_at": value})
    assert task.status_code == 422
    assert "Must be between 1900-01-01T00:00:00Z and 2200-12-31T23:59:59Z." in web.text(task)
    activity = web.post("/activities", {"type": "call", "subject": "Out of range", "occurred_at": value})
    assert activity.status_code == 422
    assert "Must be between 1900-01-01T00:00:00Z and 2200-12-31T23:59:59Z." in web.text(activity)
    assert _counts(app) == before


def test_a_form_date_whose_utc_value_leaves_the_range_is_refused(app, web):
    web.set_time_zone("Etc/GMT-14")  # UTC+14: 1900-01-01 00:00 here is 1899-12-31 10:00 UTC
    task_id = web.task("Edited")
    response = web.post(f"/tasks/{task_id}/edit", {"title": "Edited", "due_at": "1900-01-01T00:00"})
    assert response.status_code == 422
    assert "Must be between" in web.text(response)
    assert web.load_task(task_id).due_at is None
    assert web.post(f"/tasks/{task_id}/edit", {"title": "Edited", "due_at": "1900-01-01T14:00"}).status_code == 303
    assert web.load_task(task_id).due_at == datetime(1900, 1, 1)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_saving_the_edit_form_of_a_row_stored_out_of_range_stores_the_shown_value(web, legacy_rows, zone):
    import re

    web.set_time_zone(zone)
    for name, latest in (("ancient_task", False), ("endless_task", True)):
        form = web.text(web.get(f"/tasks/{legacy_rows[name]}/edit"))
        shown = re.search(r'name="due_at"[^>]*value="([^"]+)"', form) or re.search(
            r'value="([^"]+)"[^>]*name="due_at"', form)
        response = web.post(f"/tasks/{legacy_rows[name]}/edit", {"title": name, "due_at": shown.group(1)})
        assert response.status_code == 303, web.text(response)
        due = web.load_task(legacy_rows[name]).due_at
        # The minute shown (a zone's 1900 offset may have had seconds: Kiritimati's was -10:29:20).
        if latest:
            assert datetime(2200, 12, 31, 23, 58, 59) <= due <= datetime(2200, 12, 31, 23, 59, 59)
        else:
            assert datetime(1900, 1, 1) <= due <= datetime(1900, 1, 1, 0, 1)
