"""The activity log over plain HTTP."""

from __future__ import annotations

import re

import pytest


def entry_ids(text: str) -> list[str]:
    return re.findall(r'<li id="activity-(act_\w+)"', text)


def test_newest_first_grouped_by_day_in_the_users_zone(web):
    web.set_time_zone("Asia/Tokyo")  # UTC+9
    late = web.activity(subject="Late call", occurred_at="2026-03-16T20:00:00Z")  # 17 March in Tokyo
    early = web.activity(subject="Early call", occurred_at="2026-03-16T10:00:00Z")  # 16 March in Tokyo
    text = web.text(web.get("/activities"))
    assert entry_ids(text) == [late, early]
    heads = re.findall(r'<h2 class="day-head">([^<]+)</h2>', text)
    assert heads == ["Just logged", "Tue 17 Mar 2026", "Mon 16 Mar 2026"]
    assert "05:00" in text  # 20:00 UTC shown as Tokyo time


def test_filters_by_type_owner_dates_and_search(web, teammate):
    call = web.activity(type="call", subject="Pricing call", occurred_at="2026-03-10T12:00:00Z")
    note = web.activity(type="note", subject="Notes", occurred_at="2026-03-12T12:00:00Z")
    theirs = teammate.activity(type="call", subject="Their call", occurred_at="2026-03-11T12:00:00Z")

    def ids(query):
        return entry_ids(web.text(web.get(f"/activities?{query}")))

    assert ids("type=note") == [note]
    assert ids("owner=me") == [note, call]
    assert ids(f"owner={teammate.user_id}") == [theirs]
    assert ids("from=2026-03-11&to=2026-03-11") == [theirs]
    assert ids("q=pricing") == [call]


def test_contact_filter_takes_a_picked_id_or_a_typed_name(web):
    ada = web.contact("Ada", "Lovelace")
    with_ada = web.activity(subject="With Ada", contact_id=ada)
    web.activity(subject="Without")
    assert entry_ids(web.text(web.get(f"/activities?contact_id={ada}&contact_query=Ada+Lovelace"))) == [with_ada]
    assert entry_ids(web.text(web.get("/activities?contact_query=lovelace"))) == [with_ada]
    nobody = web.text(web.get("/activities?contact_query=nobody"))
    assert entry_ids(nobody) == [] and "No contact matches" in nobody


def test_list_fragment_for_htmx(web):
    web.activity(subject="Hello")
    fragment = web.get("/activities?q=hello", htmx=True)
    assert "<html" not in web.text(fragment) and "Hello" in web.text(fragment)
    assert "HX-Request" in fragment.headers["Vary"]


def test_log_activity_with_htmx(web):
    ada = web.contact("Ada", "Lovelace")
    response = web.post("/activities", {
        "type": "meeting", "subject": "Demo", "body": "Went **well**", "occurred_at": "2026-03-16T09:00",
        "contact_query": "Ada", "target": "#just-logged-list",
    }, htmx=True)
    text = web.text(response)
    assert response.status_code == 200, re.findall(r'field-error">([^<]+)', text)
    activity_id = entry_ids(text)[0]
    activity = web.load_activity(activity_id)
    assert (activity.type, activity.subject, activity.contact_id, activity.owner_id) == ("meeting", "Demo", ada, web.user_id)
    assert activity.occurred_at.isoformat() == "2026-03-16T09:00:00"
    assert "<strong>well</strong>" in text
    assert 'id="log-activity"' in text and 'hx-swap-oob="true"' in text


def test_log_activity_errors_are_retargeted_to_the_form(web):
    response = web.post("/activities", {"type": "fax", "subject": "x" * 300}, htmx=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#log-activity"
    text = web.text(response)
    assert "Must be one of" in text and "Longer than maximum length 255" in text


def test_log_activity_without_javascript(web):
    response = web.post("/activities", {"type": "note", "subject": "Plain", "next": "/activities"})
    assert (response.status_code, response.headers["Location"]) == (303, "/activities")
    assert "Plain" in web.text(web.get("/activities"))


def test_inline_edit_of_an_entry(web):
    activity_id = web.activity(subject="Old subject")
    form = web.text(web.get(f"/activities/{activity_id}/edit", htmx=True))
    assert form.lstrip().startswith(f'<li id="activity-{activity_id}"') and "data-escape-cancels" in form
    bad = web.post(f"/activities/{activity_id}/edit", {"type": "nope", "subject": "Old subject"}, htmx=True)
    assert bad.status_code == 422 and "Must be one of" in web.text(bad)
    saved = web.post(f"/activities/{activity_id}/edit", {"subject": "New subject", "body": ""}, htmx=True)
    assert saved.status_code == 200 and "New subject" in web.text(saved)
    assert web.load_activity(activity_id).subject == "New subject"
    assert web.load_activity(activity_id).body is None
    cancel = web.text(web.get(f"/activities/{activity_id}/entry", htmx=True))
    assert "editing" not in cancel and "New subject" in cancel


def test_delete_an_entry(web):
    activity_id = web.activity(subject="Bye")
    assert "Delete this activity?" in web.text(web.get(f"/activities/{activity_id}/delete"))
    assert web.post(f"/activities/{activity_id}/delete", htmx=True).status_code == 200
    assert web.load_activity(activity_id) is None


@pytest.mark.parametrize("method,path", [
    ("get", "/activities/{id}/edit"), ("get", "/activities/{id}/entry"), ("get", "/activities/{id}/delete"),
    ("post", "/activities/{id}/edit"), ("post", "/activities/{id}/delete"),
])
def test_another_workspaces_activity_is_not_found(web, other_web, method, path):
    activity_id = other_web.activity(subject="Not yours")
    url = path.format(id=activity_id)
    response = web.get(url) if method == "get" else web.post(url, {"subject": "hijack"})
    assert response.status_code == 404
    assert web.load_activity(activity_id).subject == "Not yours"


def test_log_activity_with_an_ambiguous_contact_name_says_so(web):
    web.contact("Ada", "Lovelace")
    web.contact("Ada", "Byron")
    response = web.post("/activities", {"type": "call", "contact_query": "ada"}, htmx=True)
    assert response.status_code == 422
    assert "Ada Lovelace" in web.text(response) and "Ada Byron" in web.text(response)


def test_new_activity_page_without_javascript(web):
    text = web.text(web.get("/activities/new"))
    assert "<html" in text and ">Log activity</button>" in text and 'name="contact_query"' in text


class TestLoadMore:
    @pytest.fixture
    def config_overrides(self):
        return {"CRM_UI_PAGE_SIZE": 2}

    def test_more_entries_continue_the_same_day_without_a_second_heading(self, web):
        ids = [web.activity(subject=f"Call {i}", occurred_at=f"2026-03-16T1{i}:00:00Z") for i in range(3)]
        first = web.text(web.get("/activities"))
        assert entry_ids(first) == [ids[2], ids[1]]
        more_url = re.search(r'hx-get="(/activities\?[^"]*cursor=[^"]+)"', first).group(1).replace("&amp;", "&")
        more = web.text(web.get(more_url, htmx=True))
        assert entry_ids(more) == [ids[0]]
        assert "day-head" not in more and "<html" not in more
