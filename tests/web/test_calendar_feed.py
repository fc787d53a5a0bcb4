"""The calendar feed (SPEC §11): parsed with icalendar and expanded by a real calendar parser
(recurring-ical-events), reached without a session, and its URL regenerable in Settings."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime

import icalendar
import recurring_ical_events

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
FEED_URL = re.compile(r'id="calendar-url"[^>]*value="([^"]+)"')


def feed_path(web) -> str:
    page = web.text(web.get("/settings"))
    url = FEED_URL.search(page).group(1)
    assert url.startswith("http://localhost/calendar/") and url.endswith(".ics")
    return url.removeprefix("http://localhost")


def fetch(app, path: str):
    return app.test_client().get(path)  # a calendar app: no session, no cookies


def events_between(body: bytes, start: date, end: date) -> list:
    cal = icalendar.Calendar.from_ical(body)
    return sorted(recurring_ical_events.of(cal).between(start, end),
                  key=lambda e: (str(e["DTSTART"].dt), str(e["SUMMARY"])))


def test_the_feed_shows_the_users_open_dated_tasks_and_meetings_in_a_calendar_parser(web, teammate, app):
    web.set_time_zone("Europe/Berlin")
    me = web.user_id
    block = web.task("Deep work", due_at="2026-03-23T09:00:00Z", duration=3600)  # 10:00-11:00 in Berlin
    day = web.task("Send the contract", due_at="2026-03-24T23:00:00Z")  # midnight of 25 March in Berlin
    weekly = web.task("Team stand-up", due_at="2026-03-16T08:00:00Z", duration=900,
                      recurrence="FREQ=WEEKLY;BYDAY=MO")
    twice = web.task("Two calls", due_at="2026-03-17T15:00:00Z", recurrence="FREQ=DAILY;COUNT=2")
    web.task("No date")
    web.task("Done already", due_at="2026-03-18T09:00:00Z", status="completed")
    web.task("Called off", due_at="2026-03-18T09:00:00Z", status="cancelled")
    web.task("Mia's task", due_at="2026-03-18T09:00:00Z", owner_id=teammate.user_id)
    meeting = web.activity(type="meeting", status="scheduled", subject="Demo with Initech",
                           occurred_at="2026-03-19T13:00:00Z", duration=1800, owner_id=me)
    web.activity(type="call", status="completed", subject="Logged call", occurred_at="2026-03-19T08:00:00Z")

    r = fetch(app, feed_path(web))
    assert r.status_code == 200
    assert r.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(r.data)
    assert cal["PRODID"] and str(cal["VERSION"]) == "2.0"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    for event in cal.walk("VEVENT"):
        assert event["DTSTAMP"] and event["UID"] and event["SUMMARY"]

    found = [(str(e["SUMMARY"]), e["DTSTART"].dt, e["DTEND"].dt)
             for e in events_between(r.data, date(2026, 3, 16), date(2026, 4, 7))]
    local = lambda *args: datetime(*args, tzinfo=BERLIN)  # noqa: E731
    by_summary: dict[str, list] = {}
    for summary, start, end in found:
        by_summary.setdefault(summary, []).append((start, end))
    assert by_summary["Team stand-up"] == [
        (local(2026, 3, 16, 9, 0), local(2026, 3, 16, 9, 15)),
        (local(2026, 3, 23, 9, 0), local(2026, 3, 23, 9, 15)),
        (local(2026, 3, 30, 9, 0), local(2026, 3, 30, 9, 15)),  # after the change to summer time
        (local(2026, 4, 6, 9, 0), local(2026, 4, 6, 9, 15)),
    ]
    assert by_summary["Two calls"] == [(local(2026, 3, 17, 16, 0), local(2026, 3, 17, 16, 0)),
                                       (local(2026, 3, 18, 16, 0), local(2026, 3, 18, 16, 0))]
    assert by_summary["Deep work"] == [(local(2026, 3, 23, 10, 0), local(2026, 3, 23, 11, 0))]
    assert by_summary["Send the contract"] == [(date(2026, 3, 25), date(2026, 3, 26))]
    assert by_summary["Demo with Initech"] == [(local(2026, 3, 19, 14, 0), local(2026, 3, 19, 14, 30))]
    assert set(by_summary) == {"Team stand-up", "Two calls", "Deep work", "Send the contract", "Demo with Initech"}

    uids = {str(e["SUMMARY"]): (str(e["UID"]), str(e["URL"])) for e in cal.walk("VEVENT")}
    assert uids["Deep work"] == (f"{block}@followup", f"http://localhost/tasks/{block}")
    assert uids["Send the contract"][0] == f"{day}@followup"
    assert uids["Team stand-up"][0] == f"{weekly}@followup"
    assert uids["Two calls"][0] == f"{twice}@followup"
    assert uids["Demo with Initech"] == (f"{meeting}@followup", f"http://localhost/activities/{meeting}")


def test_a_tasks_uid_stays_while_its_sequence_follows_edits(web, app):
    task_id = web.task("Call Ada", due_at="2026-03-23T09:00:00Z")
    path = feed_path(web)
    before = icalendar.Calendar.from_ical(fetch(app, path).data).walk("VEVENT")[0]
    r = web.post(f"/tasks/{task_id}/edit", {"title": "Call Ada back", "due_at": "2026-03-24T10:00"})
    assert r.status_code == 303
    after = icalendar.Calendar.from_ical(fetch(app, path).data).walk("VEVENT")[0]
    assert str(after["UID"]) == str(before["UID"]) == f"{task_id}@followup"
    assert str(after["SUMMARY"]) == "Call Ada back"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_a_wrong_token_is_a_404(web, app):
    path = feed_path(web)
    assert fetch(app, path).status_code == 200
    assert fetch(app, path[:-5] + "x.ics").status_code == 404
    assert fetch(app, "/calendar/nothing.ics").status_code == 404
    assert fetch(app, "/calendar/" + "a" * 300 + ".ics").status_code == 404


def test_the_feed_of_a_deactivated_user_is_gone(web, teammate, app):
    path = feed_path(teammate)
    assert fetch(app, path).status_code == 200
    assert web.post(f"/settings/users/{teammate.user_id}/deactivate").status_code == 303
    assert fetch(app, path).status_code == 404


def test_regenerating_makes_a_new_url_and_the_old_one_stops_working(web, app):
    old = feed_path(web)
    r = web.post("/settings/calendar-token")
    assert r.status_code == 303 and r.headers["Location"].endswith("/settings#calendar-head")
    new = feed_path(web)
    assert new != old
    assert fetch(app, old).status_code == 404
    assert fetch(app, new).status_code == 200


def test_regenerating_needs_the_csrf_token(web, app):
    old = feed_path(web)
    assert web.post("/settings/calendar-token", csrf=False).status_code == 400
    assert feed_path(web) == old


def test_settings_show_the_feed_url_with_copy_and_regenerate_buttons(web):
    page = web.text(web.get("/settings"))
    assert 'data-copy="#calendar-url"' in page and ">Copy</button>" in page
    assert 'action="/settings/calendar-token"' in page and ">Regenerate</button>" in page
    assert "<script>" not in page  # CSP: the copy button is driven by static/app.js
