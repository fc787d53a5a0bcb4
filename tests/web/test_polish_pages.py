"""The defects of the UI review, each fixed and kept fixed; toasts, accounts, and lean fragments."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta

from crm.extensions import db
from crm.models import ApiKey, utcnow
from tests.product_pages import PAGES, seed_product_pages
from tests.web.conftest import signed_in_client


def _h1(text: str) -> str:
    return html.unescape(re.search(r"<h1[^>]*>([^<]*)</h1>", text).group(1))


def _toast(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["followup:toast"]


# --- whose tasks the heading names ----------------------------------------------------------

def test_heading_names_whose_open_tasks_are_shown(web, teammate):
    assert _h1(web.text(web.get("/tasks"))) == "My open tasks"
    assert _h1(web.text(web.get("/tasks?owner=any"))) == "Everyone’s open tasks"
    assert _h1(web.text(web.get(f"/tasks?owner={teammate.user_id}"))) == "Mia Member’s open tasks"
    assert _h1(web.text(web.get("/tasks?view=done&owner=any"))) == "Done: everyone’s tasks"


def test_filtering_with_htmx_updates_the_heading_out_of_band(web, teammate):
    response = web.get(f"/tasks?view=my&owner={teammate.user_id}", htmx=True)
    text = web.text(response)
    assert '<h1 id="task-heading" data-hx-swap-oob="true">Mia Member’s open tasks</h1>' in text
    assert 'id="task-views"' in text and ">Open</a>" in text  # the tab no longer says "My"


# --- Done: newest completion first -----------------------------------------------------------

def test_done_view_lists_the_latest_completed_first(web, app):
    from crm.services import tasks

    ids = {title: web.task(title) for title in ("First done", "Second done", "Third done")}
    with app.app_context():
        for n, title in enumerate(["First done", "Third done", "Second done"]):
            task = tasks.get_task(web.workspace_id, ids[title])
            tasks.complete_task(task, actor_id=web.user_id, completed_at=utcnow() - timedelta(hours=10 - n))
        # Touched after it was completed: by last update it would come first.
        tasks.update_task(tasks.get_task(web.workspace_id, ids["First done"]), {"description": "note"},
                          actor_id=web.user_id)
    text = web.text(web.get("/tasks?view=done"))
    order = [t for t in re.findall(r'class="row-title" href="[^"]+">([^<]+)<', text)]
    assert order == ["Second done", "Third done", "First done"]


# --- a new task: feedback and a link to it ------------------------------------------------

def test_new_task_with_details_confirms_with_a_link_to_the_task(web):
    response = web.post("/tasks", {"title": "No due date", "description": "Details", "next": "/tasks"})
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks")
    page = web.text(web.get("/tasks"))
    task_id = re.search(r'Added “No due date”\. <a href="/tasks/(task_\w+)">Open it</a>', page).group(1)
    assert web.load_task(task_id).description == "Details"


def test_quick_add_with_htmx_toasts_a_link_to_the_new_task(web):
    response = web.post("/tasks", {"title": "Quick one", "target": "#task-list"}, htmx=True)
    toast = _toast(response)
    assert toast["message"] == "Added “Quick one”." and re.fullmatch(r"/tasks/task_\w+", toast["link_url"])


def test_new_task_link_on_the_list_brings_the_user_back(web):
    page = web.text(web.get("/tasks?view=all"))
    assert 'href="/tasks/new?next=/tasks?view%3Dall"' in page


# --- API keys: post/redirect/get, shown once, Copy, monospace --------------------------------

def _key_count(app, user_id: str) -> int:
    from sqlalchemy import func, select

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user_id))


def test_reloading_after_creating_an_api_key_makes_no_second_key(web, app):
    before = _key_count(app, web.user_id)
    response = web.post("/settings/api-keys", {"label": "Sync", "scopes": ["tasks:read"]})
    assert (response.status_code, response.headers["Location"]) == (303, "/settings/api-keys/new")
    shown = web.text(web.get("/settings/api-keys/new"))
    secret = re.search(r'<input id="new-key-secret" class="secret-value" readonly value="(fu_[^"]+)"', shown).group(1)
    assert '<button type="button" class="small" data-copy="#new-key-secret" hidden>Copy</button>' in shown
    assert "Set-Cookie" in response.headers and secret not in response.headers["Set-Cookie"]  # encrypted there
    reload = web.get("/settings/api-keys/new")  # the browser's reload of the one-time view
    assert (reload.status_code, reload.headers["Location"]) == (303, "/settings")
    assert secret not in web.text(web.get("/settings"))
    assert _key_count(app, web.user_id) == before + 1


def test_secret_field_is_monospace_with_room_for_underscores(web):
    css = web.text(web.client.get("/static/app.css"))
    rule = re.search(r"\.secret-value \{([^}]*)\}", css).group(1)
    assert "font-family: var(--mono)" in rule and "line-height: 1.6" in rule and "height: auto" in rule


# --- activities: a blank entry is refused -----------------------------------------------------

def test_a_blank_activity_is_refused_with_a_clear_message(web, app):
    from sqlalchemy import func, select

    from crm.models import Activity

    blank = {"type": "call", "subject": " ", "body": "", "occurred_at": "", "contact_query": ""}
    page = web.post("/activities", blank)
    assert page.status_code == 422 and "Say what happened: give a subject or some notes" in web.text(page)
    fragment = web.post("/activities", blank, htmx=True)
    assert fragment.status_code == 422 and 'role="alert"' in web.text(fragment)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Activity)) == 0
    assert web.post("/activities", {**blank, "body": "Left a voicemail"}).status_code == 303


def test_logging_an_activity_toasts(web):
    response = web.post("/activities", {"type": "call", "subject": "Rang Ada"}, htmx=True)
    assert _toast(response)["message"] == "Logged “Rang Ada”."


# --- one date format -------------------------------------------------------------------------

WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
ANY_DATE = re.compile(rf"(?:Today \d\d:\d\d|(?:[A-Z][a-z]+day |{WEEKDAY} )?\d{{1,2}} {MONTH}(?: \d{{4}})?(?:, \d\d:\d\d)?)")
ONE_FORMAT = re.compile(rf"{WEEKDAY} \d{{1,2}} {MONTH} \d{{4}}(?:, \d\d:\d\d)?")


def test_dates_on_a_screen_share_one_format(web):
    now = utcnow().replace(microsecond=0)
    contact = web.contact("Ada", "Lovelace")
    web.task("Due today", due_at=now + timedelta(minutes=5), contact_id=contact)
    web.task("Due next year", due_at=datetime(now.year + 1, 3, 5, 9, 0))
    web.activity(subject="Call today", contact_id=contact)
    web.activity(subject="Call last year", occurred_at=f"{now.year - 1}-02-01T10:00:00Z", contact_id=contact)
    for path in ("/tasks?view=all", "/activities", f"/contacts/{contact}"):
        visible = re.sub(r"<[^>]+>", " ", web.text(web.get(path)))
        found = ANY_DATE.findall(visible)
        assert found, path
        assert [d for d in found if not ONE_FORMAT.fullmatch(d)] == [], path


# --- no inline styles or scripts on any page ------------------------------------------------

def test_no_page_carries_inline_styles_or_scripts(app, web):
    ids = seed_product_pages(app, web.workspace_id, web.user_id)
    for page in PAGES:
        text = web.text(web.get(page.url(ids)))
        assert not re.search(r"\sstyle\s*=", text), page.name
        assert not re.search(r"<style", text), page.name
        assert re.findall(r"<script(?![^>]*\ssrc=)", text) == [], page.name


# --- real buttons; lean rows and fragments ---------------------------------------------------

def test_row_actions_are_buttons_that_work_without_javascript(web):
    task_id = web.task("A row")
    text = web.text(web.get("/tasks"))
    assert 'role="button"' not in text
    assert f'<button class="edit" form="row-get" formaction="/tasks/{task_id}/edit"' in text
    assert f'<button class="danger" form="row-get" formaction="/tasks/{task_id}/delete"' in text
    assert '<form id="row-get" method="get" hidden>' in text and '<form id="row-post" method="post" hidden>' in text
    assert "<summary" in text  # behind the row's "More" menu


def test_swapped_fragments_stay_small(web):
    contact = web.contact("Ada", "Lovelace")
    task_id = web.task("Send the signed renewal contract to Ada before the quarterly review", contact_id=contact,
                       due_at=utcnow() + timedelta(days=1), priority="urgent")
    activity_id = web.activity(subject="A call", contact_id=contact, body="Some **notes**")
    complete = web.post(f"/tasks/{task_id}/complete", htmx=True)
    assert len(complete.data) < 2048, len(complete.data)
    swaps = {
        "reopen": web.post(f"/tasks/{task_id}/reopen", htmx=True),
        "edit form": web.get(f"/tasks/{task_id}/edit", htmx=True),
        "save": web.post(f"/tasks/{task_id}/edit", {"title": "Shorter"}, htmx=True),
        "cancel": web.get(f"/tasks/{task_id}/row", htmx=True),
        "quick add": web.post("/tasks", {"title": "Another", "target": "#task-list"}, htmx=True),
        "activity": web.get(f"/activities/{activity_id}/entry", htmx=True),
        "activity form": web.get(f"/activities/{activity_id}/edit", htmx=True),
        "delete": web.post(f"/tasks/{task_id}/delete", htmx=True),
    }
    sizes = {name: len(r.data) for name, r in swaps.items()}
    assert all(r.status_code == 200 for r in swaps.values())
    assert {name: size for name, size in sizes.items() if size >= 4096} == {}


def test_saving_a_task_in_place_toasts(web):
    task_id = web.task("Old")
    assert _toast(web.post(f"/tasks/{task_id}/edit", {"title": "New"}, htmx=True))["message"] == "Saved “New”."


# --- accounts: passwords ------------------------------------------------------------------------

def test_change_own_password_ends_the_other_sessions_only(web, app):
    other_browser = signed_in_client(app, web.user_id)
    assert other_browser.get("/settings").status_code == 200
    wrong = web.post("/settings/password", {"current_password": "nope", "new_password": "new secret 1",
                                            "confirm_password": "new secret 1"})
    assert wrong.status_code == 422 and "That is not your current password." in web.text(wrong)
    differ = web.post("/settings/password", {"current_password": "correct horse", "new_password": "new secret 1",
                                             "confirm_password": "new secret 2"})
    assert differ.status_code == 422 and "The two new passwords differ." in web.text(differ)
    short = web.post("/settings/password", {"current_password": "correct horse", "new_password": "short",
                                            "confirm_password": "short"})
    assert short.status_code == 422 and "At least 8 characters." in web.text(short)
    done = web.post("/settings/password", {"current_password": "correct horse", "new_password": "new secret 1",
                                           "confirm_password": "new secret 1"})
    assert done.status_code == 303
    page = web.get("/settings")
    assert page.status_code == 200 and "Password changed." in web.text(page)
    assert other_browser.get("/settings").status_code == 302  # signed out
    fresh = app.test_client()
    fresh_token = re.search(r'name="csrf_token" value="([^"]+)"', fresh.get("/login").get_data(as_text=True)).group(1)
    signed = fresh.post("/login", data={"email": "owner@acme.test", "password": "new secret 1",
                                        "csrf_token": fresh_token})
    assert signed.status_code == 303


def test_admin_sets_a_users_password_and_ends_their_sessions(web, teammate, app):
    assert teammate.get("/tasks").status_code == 200
    refused = teammate.post(f"/settings/users/{web.user_id}/password", {"password": "taken over"})
    assert refused.status_code == 403
    short = web.post(f"/settings/users/{teammate.user_id}/password", {"password": "short"})
    assert short.status_code == 422 and "Mia Member: At least 8 characters." in web.text(short)
    assert web.post(f"/settings/users/{teammate.user_id}/password", {"password": "brand new pw"}).status_code == 303
    assert "Password set for Mia Member." in web.text(web.get("/settings"))
    assert teammate.get("/tasks").status_code == 302
    from crm.services import accounts

    with app.app_context():
        assert accounts.authenticate_password("mia@acme.test", "brand new pw") is not None


def test_admin_cannot_set_a_password_in_another_workspace(web, other_web):
    assert web.post(f"/settings/users/{other_web.user_id}/password", {"password": "brand new pw"}).status_code == 404
