"""The task list and task actions over plain HTTP: full pages, htmx fragments, no-JS posts."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from crm.models import utcnow


def row_ids(text: str) -> list[str]:
    return re.findall(r'<li id="task-(task_\w+)"', text)


def test_default_view_is_my_open_tasks(web, teammate):
    mine = web.task("Mine and open")
    done = web.task("Mine but done", status="completed")
    theirs = teammate.task("Someone else's")
    response = web.get("/tasks")
    assert response.status_code == 200
    ids = row_ids(web.text(response))
    assert mine in ids and done not in ids and theirs not in ids
    assert '<h1 id="task-heading">My open tasks</h1>' in web.text(web.get("/tasks"))


def test_quick_views_pick_the_right_tasks(web):
    now = utcnow()
    overdue = web.task("Late", due_at=now - timedelta(days=3))
    today = web.task("Today", due_at=now + timedelta(minutes=5))
    upcoming = web.task("Soon", due_at=now + timedelta(days=3))
    later = web.task("Much later", due_at=now + timedelta(days=40))
    done = web.task("Finished", status="completed")

    def view(name):
        return set(row_ids(web.text(web.get(f"/tasks?view={name}"))))

    assert overdue in view("overdue") and not ({today, upcoming, later, done} & view("overdue"))
    assert today in view("today") and not ({upcoming, later, done} & view("today"))
    assert upcoming in view("upcoming") and not ({overdue, later, done} & view("upcoming"))
    assert view("done") == {done}
    assert view("all") == {overdue, today, upcoming, later, done}


def test_filters_are_read_from_the_url(web, teammate):
    urgent = web.task("Urgent call", priority="urgent")
    web.task("Normal call")
    theirs = teammate.task("Teammate call", priority="urgent")
    in_progress = web.task("Started", status="in_progress")
    assert row_ids(web.text(web.get("/tasks?view=all&priority=urgent"))) == [urgent]
    assert set(row_ids(web.text(web.get("/tasks?view=all&owner=any&priority=urgent")))) == {urgent, theirs}
    assert row_ids(web.text(web.get(f"/tasks?view=all&owner={teammate.user_id}"))) == [theirs]
    assert row_ids(web.text(web.get("/tasks?view=all&status=in_progress"))) == [in_progress]
    assert row_ids(web.text(web.get("/tasks?view=all&q=URGENT%20CA"))) == [urgent]
    page = web.text(web.get("/tasks?view=all&priority=urgent&q=call"))
    assert '<option value="urgent" selected>' in page and 'value="call"' in page


def test_due_range_is_in_the_users_time_zone(web):
    web.set_time_zone("Pacific/Auckland")  # UTC+13 in November
    # 2030-01-15 05:00 in Auckland is 2030-01-14 16:00 UTC.
    inside = web.task("Inside", due_at="2030-01-14T16:00:00Z")
    before = web.task("Before", due_at="2030-01-14T10:00:00Z")  # still the 14th in Auckland (23:00)
    ids = row_ids(web.text(web.get("/tasks?view=all&due_from=2030-01-15&due_to=2030-01-15")))
    assert ids == [inside] and before not in ids


def test_unknown_filter_values_are_ignored_not_errors(web):
    web.task("Still listed")
    response = web.get("/tasks?view=nonsense&status=bogus&priority=&due_from=yesterday&owner=")
    assert response.status_code == 200
    assert len(row_ids(web.text(response))) == 1


def test_htmx_gets_the_list_fragment_and_vary_header(web):
    task_id = web.task("Fragment me")
    page = web.get("/tasks")
    fragment = web.get("/tasks", htmx=True)
    assert "<html" in web.text(page) and "<html" not in web.text(fragment)
    assert f'id="task-{task_id}"' in web.text(fragment)
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    # a history restore asks for the whole page again
    restore = web.get("/tasks", htmx=True, headers={"HX-History-Restore-Request": "true"})
    assert "<html" in web.text(restore)


class TestLoadMore:
    @pytest.fixture
    def config_overrides(self):
        return {"CRM_UI_PAGE_SIZE": 2}

    def test_load_more_follows_the_cursor(self, web):
        ids = [web.task(f"Task {i}", due_at=f"2030-01-0{i}") for i in range(1, 6)]
        first = web.text(web.get("/tasks"))
        assert row_ids(first) == ids[:2]
        more_url = re.search(r'hx-get="(/tasks\?[^"]*cursor=[^"]+)"', first).group(1).replace("&amp;", "&")
        second = web.get(more_url, htmx=True)
        assert "<html" not in web.text(second)
        assert row_ids(web.text(second)) == ids[2:4]
        # without JavaScript the same link is a full page
        assert "<html" in web.text(web.get(more_url))

    def test_a_tampered_cursor_is_a_bad_request(self, web):
        assert web.get("/tasks?cursor=not-a-cursor").status_code == 400


def test_overdue_rows_are_marked(web):
    late = web.task("Late", due_at=utcnow() - timedelta(hours=1))
    fine = web.task("Fine", due_at=utcnow() + timedelta(days=1))
    text = web.text(web.get("/tasks"))
    late_row = re.search(rf'<li id="task-{late}"[^>]*>', text).group(0)
    fine_row = re.search(rf'<li id="task-{fine}"[^>]*>', text).group(0)
    assert "is-overdue" in late_row and "is-overdue" not in fine_row


def test_checkbox_label_contains_the_title(web):
    web.task("Send the contract to Ada")
    assert 'aria-label="Mark done: Send the contract to Ada"' in web.text(web.get("/tasks"))


def test_complete_and_reopen_with_htmx_swap_the_row(web):
    task_id = web.task("Tick me")
    response = web.post(f"/tasks/{task_id}/complete", htmx=True)
    assert response.status_code == 200
    text = web.text(response)
    assert text.lstrip().startswith(f'<li id="task-{task_id}"') and "checked" in text
    assert web.load_task(task_id).status == "completed"
    first_completed_at = web.load_task(task_id).completed_at
    web.post(f"/tasks/{task_id}/complete", htmx=True)  # twice: nothing changes
    assert web.load_task(task_id).completed_at == first_completed_at

    response = web.post(f"/tasks/{task_id}/reopen", htmx=True)
    assert "checked" not in web.text(response)
    task = web.load_task(task_id)
    assert (task.status, task.completed_at) == ("pending", None)


def test_complete_without_javascript_redirects_back(web):
    task_id = web.task("Tick me")
    response = web.post(f"/tasks/{task_id}/complete", {"next": "/tasks?view=today"})
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks?view=today")
    assert web.load_task(task_id).status == "completed"


def test_edit_form_in_place_has_the_labelled_fields(web):
    task_id = web.task("Edit me")
    text = web.text(web.get(f"/tasks/{task_id}/edit", htmx=True))
    assert "<html" not in text and text.lstrip().startswith(f'<li id="task-{task_id}"')
    for label in ("Title", "Due", "Priority", "Status", "Owner"):
        assert re.search(rf'<label for="[\w-]+">{label}</label>', text), label
    assert ">Save</button>" in text and ">Cancel</a>" in text
    assert "data-escape-cancels" in text
    assert "<html" in web.text(web.get(f"/tasks/{task_id}/edit"))  # no-JS: a page


def test_edit_with_errors_answers_422_inside_the_row(web):
    task_id = web.task("Edit me")
    response = web.post(f"/tasks/{task_id}/edit", {"title": "  ", "due_at": "soon"}, htmx=True)
    assert response.status_code == 422
    text = web.text(response)
    assert text.lstrip().startswith(f'<li id="task-{task_id}"')
    assert "Must not be blank." in text and "Not a valid datetime" in text
    assert web.load_task(task_id).title == "Edit me"


def test_edit_saves_and_returns_the_row(web, teammate):
    web.set_time_zone("Europe/Berlin")
    task_id = web.task("Edit me")
    response = web.post(f"/tasks/{task_id}/edit", {
        "title": "Edited", "due_at": "2030-01-15T09:30", "priority": "high", "status": "in_progress",
        "owner_id": teammate.user_id,
    }, htmx=True)
    assert response.status_code == 200
    task = web.load_task(task_id)
    assert (task.title, task.priority, task.status, task.owner_id) == ("Edited", "high", "in_progress", teammate.user_id)
    assert task.due_at.isoformat() == "2030-01-15T08:30:00"  # 09:30 in Berlin is 08:30 UTC
    assert "Tue 15 Jan, 09:30" in web.text(response) or "15 Jan 2030, 09:30" in web.text(response)


def test_edit_cannot_assign_a_user_of_another_workspace(web, other_web):
    task_id = web.task("Edit me")
    response = web.post(f"/tasks/{task_id}/edit", {"title": "x", "owner_id": other_web.user_id}, htmx=True)
    assert response.status_code == 422
    assert "No user with id" in web.text(response)
    assert web.load_task(task_id).owner_id == web.user_id


def test_edit_without_javascript_redirects(web):
    task_id = web.task("Edit me")
    response = web.post(f"/tasks/{task_id}/edit", {"title": "Edited", "next": "/tasks"})
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks")
    bad = web.post(f"/tasks/{task_id}/edit", {"title": ""})
    assert bad.status_code == 422 and "<html" in web.text(bad) and "Must not be blank." in web.text(bad)


def test_cancel_returns_the_plain_row(web):
    task_id = web.task("Keep me")
    text = web.text(web.get(f"/tasks/{task_id}/row", htmx=True))
    assert text.lstrip().startswith(f'<li id="task-{task_id}"') and "editing" not in text


def test_delete_with_htmx_confirms_and_removes(web):
    task_id = web.task("Delete me")
    listing = web.text(web.get("/tasks"))
    assert 'hx-confirm="Delete the task “Delete me”?"' in listing
    response = web.post(f"/tasks/{task_id}/delete", htmx=True)
    assert (response.status_code, web.text(response)) == (200, "")
    assert web.load_task(task_id) is None


def test_delete_without_javascript_asks_on_a_page_first(web):
    task_id = web.task("Delete me")
    confirm = web.get(f"/tasks/{task_id}/delete")
    assert confirm.status_code == 200 and "Delete this task?" in web.text(confirm)
    assert web.load_task(task_id) is not None
    response = web.post(f"/tasks/{task_id}/delete")
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks")
    assert web.load_task(task_id) is None


def test_delete_link_of_a_filtered_list_comes_back_to_it(web):
    """Without JavaScript, a row's Delete button opens the confirmation page (it submits the
    page's shared GET form) that remembers the list it came from, filters included."""
    task_id = web.task("Delete me")
    listing = web.text(web.get("/tasks?status=pending"))
    button = re.search(rf'<button class="danger" form="([^"]+)" formaction="([^"]+)"[^>]*data-hx-post="/tasks/{task_id}/delete"',
                       listing)
    form = re.search(rf'<form id="{button.group(1)}" method="get" hidden><input type="hidden" name="next" value="([^"]*)">',
                     listing)
    assert button.group(2) == f"/tasks/{task_id}/delete"
    confirm = web.text(web.get(button.group(2), query_string={"next": html.unescape(form.group(1))}))
    back = html.unescape(re.search(r'name="next" value="([^"]*)"', confirm).group(1))
    assert back == "/tasks?status=pending"
    response = web.post(f"/tasks/{task_id}/delete", {"next": back})
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks?status=pending")
    assert web.load_task(task_id) is None


def test_a_row_swapped_in_by_htmx_uses_the_forms_of_the_page_it_is_on(web):
    """The row an inline complete returns carries no return path of its own: its buttons submit
    the page's shared forms, which carry the page the browser shows."""
    task_id = web.task("Tick me")
    page = html.unescape(web.text(web.get("/tasks?owner_id=me")))
    assert set(re.findall(r'name="next" value="([^"]*)"', page.split('<form id="row-post"')[1])) == {"/tasks?owner_id=me"}
    response = web.post(f"/tasks/{task_id}/complete", htmx=True,
                        headers={"HX-Current-URL": "http://localhost/tasks?owner_id=me"})
    text = html.unescape(web.text(response))
    assert 'name="next"' not in text and 'name="csrf_token"' not in text
    assert set(re.findall(r'form="([^"]+)"', text)) == {"bulk", "row-post", "row-get"}
    assert re.search(rf'<button class="small" form="row-post" formaction="/tasks/{task_id}/reopen">Reopen</button>', text)
    assert f"/tasks/{task_id}/complete" not in text  # the row now offers reopen; no link leads to the POST


def test_quick_add_with_htmx_returns_the_row_and_a_fresh_form(web):
    response = web.post("/tasks", {"title": "  Call Ada  ", "target": "#task-list"}, htmx=True)
    assert response.status_code == 200
    text = web.text(response)
    task_id = row_ids(text)[0]
    assert web.load_task(task_id).title == "Call Ada"
    assert web.load_task(task_id).owner_id == web.user_id
    assert 'id="quick-add"' in text and 'hx-swap-oob="true"' in text


def test_quick_add_error_is_retargeted_to_the_form(web):
    response = web.post("/tasks", {"title": ""}, htmx=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#quick-add"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert "Must not be blank." in web.text(response)


def test_quick_add_without_javascript(web):
    response = web.post("/tasks", {"title": "Plain form", "next": "/tasks"})
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks")
    assert "Plain form" in web.text(web.get("/tasks"))
    bad = web.post("/tasks", {"title": ""})
    assert bad.status_code == 422 and "<html" in web.text(bad)


def test_new_task_page_links_a_contact_by_name(web):
    contact_id = web.contact("Hans", "Müller")
    response = web.post("/tasks", {"title": "Call Hans", "contact_query": "hans muller", "contact_id": ""})
    assert response.status_code == 303
    task_id = row_ids(web.text(web.get("/tasks")))[0]
    assert web.load_task(task_id).contact_id == contact_id


def test_ambiguous_contact_name_lists_the_candidates(web):
    web.contact("Ada", "Lovelace")
    web.contact("Ada", "Byron")
    response = web.post("/tasks", {"title": "Call Ada", "contact_query": "ada"})
    assert response.status_code == 422
    text = web.text(response)
    assert "matches several contacts" in text and "Ada Lovelace" in text and "Ada Byron" in text
    assert text.count('type="radio" name="contact_pick"') == 2


def test_picked_contact_is_linked_by_id(web):
    web.contact("Ada", "Lovelace")
    chosen = web.contact("Ada", "Lovelace")  # two with the same name: the picker decides
    response = web.post("/tasks", {"title": "Call Ada", "contact_query": "Ada Lovelace", "contact_id": chosen})
    assert response.status_code == 303
    task_id = row_ids(web.text(web.get("/tasks")))[0]
    assert web.load_task(task_id).contact_id == chosen


def test_task_page_shows_everything_with_safe_markdown(web):
    contact_id = web.contact("Ada", "Lovelace")
    task_id = web.task("Read me", contact_id=contact_id, tags=["q3"], description=(
        "**Bold** [ok](https://example.com) [bad](javascript:alert(1)) <script>alert(2)</script>"
        '<img src=x onerror="alert(3)"> <a href="#" onclick="alert(4)">x</a>'))
    text = web.text(web.get(f"/tasks/{task_id}"))
    assert "<strong>Bold</strong>" in text and 'href="https://example.com"' in text
    assert "<script>alert" not in text and "javascript:" not in text
    # Tags the page does not allow are shown as text; no element carries a handler.
    assert "<img" not in text and '&lt;img src=x onerror="alert(3)"&gt;' in text
    assert not re.search(r"<[^>]+\son\w+=", text)
    assert "Ada Lovelace" in text and "q3" in text


class TestOtherWorkspace:
    """Another workspace's task behaves exactly like one that does not exist."""

    @pytest.mark.parametrize("method,path", [
        ("get", "/tasks/{id}"), ("get", "/tasks/{id}/edit"), ("get", "/tasks/{id}/row"),
        ("get", "/tasks/{id}/delete"), ("post", "/tasks/{id}/edit"), ("post", "/tasks/{id}/complete"),
        ("post", "/tasks/{id}/reopen"), ("post", "/tasks/{id}/delete"),
    ])
    def test_is_not_found(self, web, other_web, method, path):
        task_id = other_web.task("Not yours")
        url = path.format(id=task_id)
        response = web.get(url) if method == "get" else web.post(url, {"title": "hijack"})
        assert response.status_code == 404
        task = web.load_task(task_id)
        assert (task.title, task.status) == ("Not yours", "pending")

    def test_is_not_listed(self, web, other_web):
        other_web.task("Not yours")
        assert row_ids(web.text(web.get("/tasks?view=all&owner=any"))) == []

    def test_cannot_be_linked_in_quick_add(self, web, other_web):
        contact_id = other_web.contact("Gus", "Globex")
        response = web.post("/tasks", {"title": "Sneaky", "contact_id": contact_id}, htmx=True)
        assert response.status_code == 422
        assert "No contact with id" in web.text(response)


def test_new_task_page_has_the_full_form(web):
    text = web.text(web.get("/tasks/new"))
    for name in ("title", "description", "type", "due_at", "priority", "status", "owner_id", "contact_query"):
        assert f'name="{name}"' in text, name
