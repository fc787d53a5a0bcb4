"""The calendar page (/calendar): what sits in which day and half-hour in the user's zone, the
month grid, recurring tasks' next occurrences, scheduled activities, the list by day without
JavaScript, and moving a task (drag and drop's endpoint, the Move form, Undo)."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Items(HTMLParser):
    """The items of a calendar page: for each `.cal-item`, the day it sits in, its classes, its link."""

    def __init__(self):
        super().__init__()
        self.stack: list[dict] = []
        self.items: list[dict] = []
        self.noscript = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "noscript":
            self.noscript += 1
        if tag in VOID:
            return
        classes = (attrs.get("class") or "").split()
        if "cal-item" in classes and not self.noscript:
            day = next((a.get("data-drop-date") or a.get("data-day") for a in reversed(self.stack)
                        if a.get("data-drop-date") or a.get("data-day")), None)
            where = next((c for a in reversed(self.stack) for c in a["classes"]
                          if c in ("cal-allday", "cal-col", "cal-cell")), None)
            self.items.append({"day": day, "where": where, "classes": classes, "id": attrs.get("id"),
                               "draggable": attrs.get("draggable") == "true", "href": None, "text": ""})
        if tag == "a" and self.stack and self.items and self.stack[-1]["classes"] and "cal-item" in self.stack[-1]["classes"]:
            self.items[-1]["href"] = attrs.get("href")
            self.items[-1]["reading"] = True
        self.stack.append({"tag": tag, "classes": classes, **attrs})

    def handle_endtag(self, tag):
        if tag == "noscript":
            self.noscript -= 1
        if tag in VOID:
            return
        while self.stack:
            top = self.stack.pop()
            if top["tag"] == tag:
                break
        if tag == "a" and self.items:
            self.items[-1].pop("reading", None)

    def handle_data(self, data):
        if self.items and self.items[-1].get("reading"):
            self.items[-1]["text"] += data


def items_of(page: str) -> list[dict]:
    parser = Items()
    parser.feed(page)
    return parser.items


def item_for(page: str, task_id: str, kind: str = "task") -> dict:
    found = [i for i in items_of(page) if i["href"] == f"/tasks/{task_id}" and f"kind-{kind}" in i["classes"]]
    assert len(found) == 1, found
    return found[0]


def slot(item: dict) -> tuple[int, int]:
    row = next(int(c[5:]) for c in item["classes"] if c.startswith("row-s"))
    span = next(int(c[5:]) for c in item["classes"] if c.startswith("span-"))
    return row, span


def agenda(page: str) -> str:
    return page[page.index("<noscript>"):page.index("</noscript>")]


def calendar(web, query: str) -> str:
    response = web.get(f"/calendar?{query}")
    assert response.status_code == 200
    return web.text(response)


# --- Where things are --------------------------------------------------------------------------

def test_the_week_shows_tasks_in_the_users_zone_by_day_and_half_hour(web):
    web.set_time_zone("Pacific/Auckland")  # UTC+13 in December: the UTC day is often the wrong one
    call = web.task("Call Ada", due_at="2026-12-07T20:00:00Z")  # Tue 8 Dec 09:00 local
    block = web.task("Write the proposal", due_at="2026-12-08T21:30:00Z", duration=5400)  # Wed 10:30–12:00
    all_day = web.task("Quarter planning", due_at="2026-12-09T11:00:00Z")  # local midnight, Thu 10 Dec
    late = web.task("Late call", due_at="2026-12-13T10:45:00Z")  # Sun 13 Dec 23:45, the week's last slot
    next_week = web.task("Next week", due_at="2026-12-13T11:00:00Z")  # Mon 14 Dec 00:00: not this week
    page = calendar(web, "view=week&date=2026-12-09")

    assert "<h1>7 – 13 Dec 2026</h1>" in page
    assert item_for(page, call)["day"] == "2026-12-08" and slot(item_for(page, call)) == (18, 1)
    assert item_for(page, block)["day"] == "2026-12-09" and slot(item_for(page, block)) == (21, 3)
    assert "10:30–12:00" in item_for(page, block)["text"]
    assert item_for(page, all_day)["where"] == "cal-allday" and item_for(page, all_day)["day"] == "2026-12-10"
    assert item_for(page, late)["day"] == "2026-12-13" and slot(item_for(page, late)) == (47, 1)
    assert f"/tasks/{next_week}" not in page
    assert all(i["draggable"] for i in items_of(page))


def test_a_time_block_past_midnight_goes_on_into_the_next_day(web):
    night = web.task("Migrate the database", due_at="2026-12-08T22:00:00Z", duration=4 * 3600)  # Tue 22:00–02:00
    page = calendar(web, "view=week&date=2026-12-08")
    first, carried = [i for i in items_of(page) if i["href"] == f"/tasks/{night}"]
    assert first["day"] == "2026-12-08" and slot(first) == (44, 4) and first["draggable"]
    assert carried["day"] == "2026-12-09" and slot(carried) == (0, 4)  # Wed 00:00–02:00
    assert not carried["draggable"] and carried["id"] is None  # moved from its first day only
    assert "is-continued" in carried["classes"] and "(continued from Tuesday)" in carried["text"]
    # ...and a block ending exactly at midnight stays on its day
    web.task("Evening", due_at="2026-12-10T22:00:00Z", duration=7200)
    assert "is-continued" not in " ".join(" ".join(i["classes"]) for i in items_of(calendar(
        web, "view=week&date=2026-12-08")) if i["day"] == "2026-12-11")


def test_across_a_daylight_saving_change_local_times_stay_put(web):
    web.set_time_zone("Europe/Berlin")  # clocks go forward on Sunday 29 March 2026
    before = web.task("Before the change", due_at="2026-03-28T08:00:00Z")  # Sat 09:00 CET
    after = web.task("After the change", due_at="2026-03-29T07:00:00Z")  # Sun 09:00 CEST
    weekly = web.task("Team sync", due_at="2026-03-23T08:00:00Z", recurrence="FREQ=WEEKLY")  # Mondays 09:00
    page = calendar(web, "view=week&date=2026-03-25")
    assert slot(item_for(page, before)) == (18, 1) and item_for(page, before)["day"] == "2026-03-28"
    assert slot(item_for(page, after)) == (18, 1) and item_for(page, after)["day"] == "2026-03-29"
    assert item_for(page, weekly)["day"] == "2026-03-23"

    next_week = calendar(web, "view=week&date=2026-03-30")
    ghost = item_for(next_week, weekly, "repeat")
    assert ghost["day"] == "2026-03-30" and slot(ghost) == (18, 1)  # 07:00 UTC now, still 09:00 local


def test_overlapping_items_sit_side_by_side(web):
    first = web.task("First", due_at="2026-12-08T09:00:00Z", duration=3600)
    second = web.task("Second", due_at="2026-12-08T09:30:00Z", duration=3600)
    third = web.task("Third", due_at="2026-12-08T11:00:00Z")
    page = calendar(web, "view=week&date=2026-12-08")
    lanes = {t: next(c for c in item_for(page, t)["classes"] if c.startswith("lane-")) for t in (first, second, third)}
    assert lanes == {first: "lane-0", second: "lane-1", third: "lane-0"}
    assert re.search(r'class="cal-col lanes-2"[^>]*data-day="2026-12-08"', page)


def test_the_month_grid_runs_monday_to_sunday_across_month_boundaries(web):
    web.set_time_zone("America/Los_Angeles")
    new_year = web.task("New year's eve call", due_at="2027-01-01T07:30:00Z")  # Thu 31 Dec 23:30 local
    january = web.task("January kickoff", due_at="2027-01-02T17:00:00Z")  # Sat 2 Jan, in the grid's last week
    november = web.task("Last of November", due_at="2026-11-30T17:00:00Z")  # Mon 30 Nov, the grid's first day
    outside = web.task("Before the grid", due_at="2026-11-29T17:00:00Z")
    page = calendar(web, "view=month&date=2026-12-15")

    assert "<h1>December 2026</h1>" in page
    days = re.findall(r'class="cal-cell[^"]*"[^>]*data-drop-date="([0-9-]+)"', page)
    assert days[0] == "2026-11-30" and days[-1] == "2027-01-03" and len(days) == 35
    assert item_for(page, new_year)["day"] == "2026-12-31"
    assert item_for(page, january)["day"] == "2027-01-02"
    assert item_for(page, november)["day"] == "2026-11-30"
    assert f"/tasks/{outside}" not in page
    assert re.search(r'class="cal-cell is-outside"[^>]*data-drop-date="2027-01-02"', page)
    assert 'href="/calendar?view=month&amp;date=2026-11-01" rel="prev"' in page
    assert 'href="/calendar?view=month&amp;date=2027-01-01" rel="next"' in page


def test_a_busy_month_day_shows_four_items_and_links_to_the_rest(web):
    ids = [web.task(f"Call {n}", due_at=f"2026-12-08T{9 + n:02d}:00:00Z") for n in range(6)]
    page = calendar(web, "view=month&date=2026-12-01")
    shown = [i for i in items_of(page) if i["day"] == "2026-12-08"]
    assert [i["href"] for i in shown] == [f"/tasks/{t}" for t in ids[:4]]
    assert re.search(r'<a class="cal-more" href="/calendar\?view=week&amp;date=2026-12-08">2 more', page)


def test_recurring_tasks_show_their_next_occurrences_as_repeats_that_cannot_be_dragged(web):
    daily = web.task("Check the inbox", due_at="2026-12-08T08:00:00Z", recurrence="FREQ=DAILY;COUNT=4")
    page = calendar(web, "view=week&date=2026-12-07")
    assert item_for(page, daily)["day"] == "2026-12-08" and item_for(page, daily)["draggable"]
    ghosts = [i for i in items_of(page) if "kind-repeat" in i["classes"]]
    assert [g["day"] for g in ghosts] == ["2026-12-09", "2026-12-10", "2026-12-11"]  # COUNT=4: three more
    assert not any(g["draggable"] or g["id"] for g in ghosts)
    assert all(g["href"] == f"/tasks/{daily}" for g in ghosts)


def test_a_completed_occurrence_is_shown_with_the_next_one_made_and_no_duplicate(web):
    weekly = web.task("Weekly report", due_at="2026-12-07T09:00:00Z", recurrence="FREQ=WEEKLY")
    web.post(f"/tasks/{weekly}/complete", {})
    following = web.load_task(weekly).next_task_id
    page = calendar(web, "view=month&date=2026-12-01")
    assert "is-done" in item_for(page, weekly)["classes"]
    assert item_for(page, following)["day"] == "2026-12-14"
    repeats = [i["day"] for i in items_of(page) if "kind-repeat" in i["classes"]]
    assert repeats == ["2026-12-21", "2026-12-28", "2027-01-04"][:len(repeats)] and "2026-12-14" not in repeats


def test_scheduled_activities_of_the_user_are_shown_and_not_draggable(web, teammate):
    meeting = web.activity(type="meeting", status="scheduled", subject="Demo with Globex",
                           occurred_at="2026-12-09T14:00:00Z", duration=3600)
    web.activity(type="call", subject="A call that happened", occurred_at="2026-12-09T10:00:00Z")
    theirs = teammate.activity(type="meeting", status="scheduled", subject="Mia's demo",
                               occurred_at="2026-12-09T15:00:00Z")
    page = calendar(web, "view=week&date=2026-12-07")
    shown = [i for i in items_of(page) if "kind-activity" in i["classes"]]
    assert [i["href"] for i in shown] == [f"/activities/{meeting}"]
    assert not shown[0]["draggable"] and slot(shown[0]) == (28, 2) and "Demo with Globex" in shown[0]["text"]
    assert "A call that happened" not in page

    everyone = calendar(web, "view=week&date=2026-12-07&owner=any")
    assert f"/activities/{theirs}" in everyone
    only_mia = calendar(web, f"view=week&date=2026-12-07&owner={teammate.user_id}")
    assert f"/activities/{theirs}" in only_mia and f"/activities/{meeting}" not in only_mia


def test_the_calendar_shows_the_users_own_tasks_by_default(web, teammate, other_web):
    mine = web.task("Mine", due_at="2026-12-08T09:00:00Z")
    theirs = teammate.task("Theirs", due_at="2026-12-08T10:00:00Z")
    cancelled = web.task("Called off", due_at="2026-12-08T11:00:00Z", status="cancelled")
    foreign = other_web.task("Another workspace", due_at="2026-12-08T12:00:00Z")
    page = calendar(web, "view=week&date=2026-12-08")
    assert f"/tasks/{mine}" in page and f"/tasks/{theirs}" not in page and f"/tasks/{cancelled}" not in page
    everyone = calendar(web, "view=week&date=2026-12-08&owner=any")
    assert f"/tasks/{theirs}" in everyone and f"/tasks/{foreign}" not in everyone
    assert f"/tasks/{foreign}" not in calendar(web, f"view=week&date=2026-12-08&owner={other_web.user_id}")


def test_bad_view_and_date_fall_back_and_the_nav_links_the_page(web):
    page = calendar(web, "view=year&date=not-a-date")
    assert "cal-week" in page
    assert calendar(web, "view=week&date=0001-01-01")  # far dates are clamped, not a 500
    assert calendar(web, "view=month&date=9999-12-31")
    assert re.search(r'<a href="/calendar"\s+aria-current="page">Calendar</a>', page)
    assert web.get("/calendar", htmx=True).get_data(as_text=True).startswith('<div id="calendar"')


def test_the_calendar_needs_a_signed_in_user(client):
    response = client.get("/calendar")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- Without JavaScript: the list by day -------------------------------------------------------

def test_without_javascript_a_list_by_day_has_a_date_field_per_task(web):
    web.set_time_zone("Asia/Tokyo")
    timed = web.task("Call Ada", due_at="2026-12-08T00:30:00Z")  # Tue 09:30 local
    all_day = web.task("Offsite", due_at="2026-12-09T15:00:00Z")  # Thu 10 Dec, midnight local
    web.task("Weekly", due_at="2026-12-07T01:00:00Z", recurrence="FREQ=WEEKLY;BYDAY=MO,FR")
    page = calendar(web, "view=week&date=2026-12-07")
    listing = agenda(page)
    assert "html:not(.js) .cal-grid { display: none; }" in open("static/calendar.css").read()
    heads = re.findall(r'<h3 class="day-head"[^>]*>([^<]+)</h3>', listing)
    assert heads == ["Mon 7 Dec 2026", "Tue 8 Dec 2026", "Thu 10 Dec 2026", "Fri 11 Dec 2026"]
    assert re.search(rf'id="l-due-{timed}" type="datetime-local" name="due" value="2026-12-08T09:30"', listing)
    assert re.search(rf'id="l-due-{all_day}" type="date" name="due" value="2026-12-10"', listing)
    assert f'<label for="l-due-{timed}">Due<span class="visually-hidden">: Call Ada</span></label>' in listing
    assert listing.count('name="due"') == 3  # the repeat on Friday has none: it is not a task yet


def test_the_date_field_posts_and_comes_back_to_the_calendar(web):
    web.set_time_zone("Asia/Tokyo")
    task = web.task("Call Ada", due_at="2026-12-08T00:30:00Z")
    page = calendar(web, "view=week&date=2026-12-07")
    form = re.search(rf'<form class="cal-move-form" method="post" action="([^"]+)">(?:(?!</form>).)*id="l-due-{task}"',
                     agenda(page), re.S)
    assert form.group(1) == f"/calendar/tasks/{task}/move"  # where the list's form and a drop post
    assert item_for(page, task)["id"] == f"cal-{task}" and f'data-move-url="/calendar/tasks/{task}/move"' in page
    response = web.post(form.group(1),
                        {"due": "2026-12-11T14:00", "next": "/calendar?view=week&date=2026-12-07"})
    assert response.status_code == 303 and response.headers["Location"] == "/calendar?view=week&date=2026-12-07"
    assert web.load_task(task).due_at == datetime(2026, 12, 11, 5, 0)
    page = web.text(web.get(response.headers["Location"]))
    assert "Moved “Call Ada” to Fri 11 Dec 2026, 14:00." in html.unescape(page)
    undo = re.search(r'<div class="flash".*?<form method="post" action="([^"]+)"', page, re.S).group(1)
    back = web.post(html.unescape(undo), {})
    assert back.status_code == 303 and back.headers["Location"] == "/calendar?view=week&date=2026-12-07"
    assert web.load_task(task).due_at == datetime(2026, 12, 8, 0, 30)


def test_an_all_day_date_field_keeps_the_task_all_day(web):
    web.set_time_zone("Asia/Tokyo")
    task = web.task("Offsite", due_at="2026-12-09T15:00:00Z")
    web.post(f"/calendar/tasks/{task}/move", {"due": "2026-12-12"})
    assert web.load_task(task).due_at == datetime(2026, 12, 11, 15, 0)  # midnight in Tokyo


def test_a_bad_date_is_a_form_error_on_the_page_and_changes_nothing(web):
    task = web.task("Call Ada", due_at="2026-12-08T09:00:00Z")
    response = web.post(f"/calendar/tasks/{task}/move",
                        {"due": "2026-13-45T10:00", "next": "/calendar?view=week&date=2026-12-07"})
    assert response.status_code == 422
    page = web.text(response)
    assert f'id="l-due-{task}" type="datetime-local" name="due" value="2026-12-08T09:00" required aria-invalid="true"' in page
    assert re.search(rf'<span class="field-error" id="l-due-{task}-err">[^<]+</span>', page)
    assert web.load_task(task).due_at == datetime(2026, 12, 8, 9, 0)
    far = web.post(f"/calendar/tasks/{task}/move", {"date": "9999-12-31"})
    assert far.status_code == 422 and web.load_task(task).due_at == datetime(2026, 12, 8, 9, 0)


# --- Moving with JavaScript (what drag and drop posts) and Undo ----------------------------------

CURRENT = {"HX-Current-URL": "http://localhost/calendar?view=week&date=2026-12-07"}


def toast_of(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["followup:toast"]


def test_dropping_on_a_week_slot_sets_day_and_time_and_undo_restores_it_exactly(web):
    web.set_time_zone("Europe/Berlin")
    task = web.task("Call Ada", due_at="2026-12-08T08:15:42Z", duration=1800)  # 09:15:42 local
    version = web.load_task(task).etag
    response = web.post(f"/calendar/tasks/{task}/move", {"date": "2026-12-10", "time": "14:30", "version": version},
                        htmx=True, headers=CURRENT)
    assert response.status_code == 200
    fragment = web.text(response)
    assert fragment.startswith('<div id="calendar"') and "<html" not in fragment
    assert "<noscript>" not in fragment  # the list by day is for pages without scripts
    moved = item_for(fragment, task)
    assert moved["day"] == "2026-12-10" and slot(moved) == (29, 1)
    assert web.load_task(task).due_at == datetime(2026, 12, 10, 13, 30)
    assert web.load_task(task).duration == 1800
    event = toast_of(response)
    assert event["message"] == "Moved “Call Ada” to Thu 10 Dec 2026, 14:30."
    assert event["undo_target"] == "#calendar"

    undo = web.post(event["undo_url"], htmx=True, headers=CURRENT)
    assert undo.status_code == 200 and item_for(web.text(undo), task)["day"] == "2026-12-08"
    assert web.load_task(task).due_at == datetime(2026, 12, 8, 8, 15, 42)
    assert toast_of(undo) == {"message": "Moved “Call Ada” back to Tue 8 Dec 2026, 09:15.", "undo_url": None,
                              "undo_target": None, "link_url": None}


def test_dropping_on_a_month_day_keeps_the_time_of_day_across_a_dst_change(web):
    web.set_time_zone("Europe/Berlin")
    task = web.task("Morning call", due_at="2026-03-27T08:00:00Z")  # Fri 09:00 CET
    response = web.post(f"/calendar/tasks/{task}/move", {"date": "2026-03-30"}, htmx=True,
                        headers={"HX-Current-URL": "http://localhost/calendar?view=month&date=2026-03-01"})
    assert response.status_code == 200 and "cal-month" in web.text(response)
    assert web.load_task(task).due_at == datetime(2026, 3, 30, 7, 0)  # Mon 09:00 CEST


def test_an_all_day_task_dropped_on_another_day_stays_all_day(web):
    web.set_time_zone("Pacific/Auckland")
    task = web.task("Offsite", due_at="2026-12-08T11:00:00Z")  # Wed 9 Dec, all day
    web.post(f"/calendar/tasks/{task}/move", {"date": "2026-12-11"}, htmx=True, headers=CURRENT)
    assert web.load_task(task).due_at == datetime(2026, 12, 10, 11, 0)
    page = calendar(web, "view=week&date=2026-12-07")
    assert item_for(page, task)["where"] == "cal-allday" and item_for(page, task)["day"] == "2026-12-11"


def test_a_task_changed_meanwhile_is_not_moved(web):
    task = web.task("Call Ada", due_at="2026-12-08T09:00:00Z")
    shown_version = web.load_task(task).etag
    web.post(f"/calendar/tasks/{task}/move", {"due": "2026-12-09T09:00"})  # someone else moved it
    response = web.post(f"/calendar/tasks/{task}/move", {"date": "2026-12-11", "version": shown_version},
                        htmx=True, headers=CURRENT)
    assert response.status_code == 200
    assert "changed meanwhile" in toast_of(response)["message"]
    assert web.load_task(task).due_at == datetime(2026, 12, 9, 9, 0)
    assert item_for(web.text(response), task)["day"] == "2026-12-09"


def test_undo_does_not_overwrite_a_later_change(web):
    task = web.task("Call Ada", due_at="2026-12-08T09:00:00Z")
    event = toast_of(web.post(f"/calendar/tasks/{task}/move", {"date": "2026-12-09"}, htmx=True, headers=CURRENT))
    web.post(f"/calendar/tasks/{task}/move", {"date": "2026-12-11"}, htmx=True, headers=CURRENT)
    undo = web.post(event["undo_url"], htmx=True, headers=CURRENT)
    assert "changed meanwhile" in toast_of(undo)["message"]
    assert web.load_task(task).due_at == datetime(2026, 12, 11, 9, 0)


def test_a_bad_drop_answers_422_with_the_calendar_and_says_why(web):
    task = web.task("Call Ada", due_at="2026-12-08T09:00:00Z")
    response = web.post(f"/calendar/tasks/{task}/move", {"date": "2026-12-10", "time": "25:99"}, htmx=True,
                        headers=CURRENT)
    assert response.status_code == 422 and web.text(response).startswith('<div id="calendar"')
    assert toast_of(response)["message"] == "“Call Ada” was not moved: Give the time as HH:MM."
    assert web.load_task(task).due_at == datetime(2026, 12, 8, 9, 0)


def test_another_workspaces_task_is_not_found(web, other_web):
    foreign = other_web.task("Theirs", due_at="2026-12-08T09:00:00Z")
    assert web.post(f"/calendar/tasks/{foreign}/move", {"date": "2026-12-10"}).status_code == 404
    assert web.post(f"/calendar/tasks/{foreign}/move", {"date": "2026-12-10"}, htmx=True).status_code == 404
    assert web.post("/calendar/tasks/task_nope/move", {"date": "2026-12-10"}).status_code == 404
    assert other_web.load_task(foreign).due_at == datetime(2026, 12, 8, 9, 0)


@pytest.mark.parametrize("htmx", [False, True])
def test_moving_needs_the_csrf_token(web, htmx):
    task = web.task("Call Ada", due_at="2026-12-08T09:00:00Z")
    response = web.post(f"/calendar/tasks/{task}/move", {"date": "2026-12-10"}, csrf=False, htmx=htmx)
    assert response.status_code == 400
    assert web.load_task(task).due_at == datetime(2026, 12, 8, 9, 0)


def test_a_get_never_moves(web):
    task = web.task("Call Ada", due_at="2026-12-08T09:00:00Z")
    assert web.get(f"/calendar/tasks/{task}/move?date=2026-12-10").status_code == 405
    assert web.load_task(task).due_at == datetime(2026, 12, 8, 9, 0)


# --- Cost ----------------------------------------------------------------------------------------

def test_the_week_and_month_read_a_fixed_number_of_statements(web, teammate, count_queries):
    def fill(n: int, offset: int) -> None:
        for i in range(n):
            day = 7 + (i + offset) % 7
            web.task(f"Task {offset + i}", due_at=f"2026-12-{day:02d}T{8 + i % 9:02d}:00:00Z", duration=1800 * (i % 3))
            web.task(f"Done {offset + i}", due_at=f"2026-12-{day:02d}T10:00:00Z", status="completed")
            web.task(f"Series {offset + i}", due_at=f"2026-11-{1 + i % 28:02d}T09:00:00Z", recurrence="FREQ=WEEKLY")
            web.activity(type="meeting", status="scheduled", occurred_at=f"2026-12-{day:02d}T15:00:00Z")
            teammate.task(f"Theirs {offset + i}", due_at=f"2026-12-{day:02d}T11:00:00Z")

    def counts() -> dict[str, int]:
        found = {}
        for query in ("view=week&date=2026-12-07", "view=month&date=2026-12-07",
                      "view=week&date=2026-12-07&owner=any"):
            web.get(f"/calendar?{query}")
            with count_queries() as statements:
                assert web.get(f"/calendar?{query}").status_code == 200
            found[query] = len(statements)
            # The calendar's own reads: the tasks of the range, the open recurring ones, the activities.
            assert len([s for s in statements if re.match(r"\s*SELECT (tasks|activities)\.id", s)]) == 3
        return found

    fill(2, 0)
    small = counts()
    fill(20, 2)
    large = counts()
    assert large == small
    assert max(small.values()) <= 7  # with the session, the owner choices and the bell of every page
    page = calendar(web, "view=month&date=2026-12-07")
    assert len([i for i in items_of(page) if "kind-repeat" in i["classes"]]) > 20


def test_open_recurring_tasks_are_found_by_their_own_index_on_sqlite(sqlite_api):
    """However many tasks an owner has, the calendar reads only their open recurring ones to
    draw repeats (the partial index of migration d5e3b1f8c6a2; SQLite uses it only when the
    query states its condition with the same literals)."""
    import zoneinfo

    from sqlalchemy import event

    from crm.extensions import db
    from crm.services import calendar as calendar_service

    app, api = sqlite_api
    api.create("/tasks", {"title": "Standup", "due_at": "2026-12-01T09:00:00Z", "recurrence": "FREQ=DAILY"})
    api.create("/tasks", {"title": "Once", "due_at": "2026-12-08T09:00:00Z"})
    seen = []

    def capture(conn, cursor, statement, parameters, *args):
        if "recurrence IS NOT NULL" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", capture)
        try:
            bounds = [datetime(2026, 12, 7) + timedelta(days=n) for n in range(8)]
            found = calendar_service.calendar_range(api.workspace_id, api.user_id, bounds, zoneinfo.ZoneInfo("UTC"), 24)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        assert [(i.kind, i.start.day) for day in found.days for i in day if i.title == "Standup"] == [
            ("repeat", day) for day in range(7, 14)]
        (statement, parameters), = seen
        plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    assert any("ix_tasks_ws_owner_recurring" in row[-1] for row in plan), plan
