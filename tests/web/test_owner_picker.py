"""The owner of a task, picked by name in the row's edit form (the record picker of SPEC §14):
the form stays the same size however many people the workspace has."""

from __future__ import annotations

import html
import re

from tests.conftest import make_account


def add_people(web, *names: str) -> dict[str, str]:
    ids = {}
    for n, name in enumerate(names):
        _ws, user_id, _secret = make_account(web.app, email=f"person{n}@acme.test", name=name, role="member")
        ids[name] = user_id
    return ids


def _ids(web) -> set[str]:
    from crm.services import accounts

    with web.app.app_context():
        return {user.id for user in accounts.workspace_users(web.workspace_id)}


def edit(web, task_id: str, **fields):
    return web.post(f"/tasks/{task_id}/edit", {"title": "Call Ada", **fields}, htmx=True)


def test_the_edit_form_offers_the_owner_as_a_picker_and_stays_small_with_a_big_team(web):
    add_people(web, *(f"Seller {n:02}" for n in range(60)))
    task_id = web.task("Call Ada")
    form = web.text(web.get(f"/tasks/{task_id}/edit", htmx=True))
    assert len(form.encode()) < 4096, len(form.encode())
    assert "<select" not in form.split('name="status"')[1]  # no list of every person
    assert re.search(r'<input id="owner-[^"]+" class="picker-query" type="text" name="owner_query" value="Olive Owner"', form)
    assert f'name="owner_id" value="{web.user_id}"' in form
    options = web.text(web.get("/people/picker?q=seller 1"))
    assert options.count('role="option"') == 10 and "person10@acme.test" in options  # the email tells people apart


def test_typing_a_name_assigns_that_person(web):
    people = add_people(web, "Mia Member", "Mo Salah")
    task_id = web.task("Call Ada")
    assert edit(web, task_id, owner_query="mia member", owner_id="").status_code == 200
    assert web.load_task(task_id).owner_id == people["Mia Member"]
    # the picker's choice (the hidden id, its name still in the box) wins over a name search
    assert edit(web, task_id, owner_query="Mo Salah", owner_id=people["Mo Salah"]).status_code == 200
    assert web.load_task(task_id).owner_id == people["Mo Salah"]
    # an email works too, and a blank box leaves the task unassigned
    assert edit(web, task_id, owner_query="person0@acme.test", owner_id="").status_code == 200
    assert web.load_task(task_id).owner_id == people["Mia Member"]
    assert edit(web, task_id, owner_query="", owner_id=people["Mia Member"]).status_code == 200
    assert web.load_task(task_id).owner_id is None


def test_an_ambiguous_or_unknown_name_asks_again_and_changes_nothing(web):
    people = add_people(web, "Sam Lee", "Sam Lee")
    task_id = web.task("Call Ada")
    response = edit(web, task_id, owner_query="Sam Lee", owner_id="")
    assert response.status_code == 422
    text = web.text(response)
    assert "“Sam Lee” matches several people: choose one." in text and "<legend>Which owner?</legend>" in text
    offered = re.findall(r'name="owner_pick" value="([^"]+)"', text)
    assert len(set(offered)) == 2 and people["Sam Lee"] in offered and set(offered) <= _ids(web)
    assert web.load_task(task_id).owner_id == web.user_id
    chosen = re.findall(r'name="owner_pick" value="([^"]+)"', text)[1]
    assert edit(web, task_id, owner_query="Sam Lee", owner_id="", owner_pick=chosen).status_code == 200
    assert web.load_task(task_id).owner_id == chosen
    response = edit(web, task_id, owner_query="Nobody Here", owner_id="")
    assert response.status_code == 422 and 'No one in this workspace matches "Nobody Here".' in html.unescape(web.text(response))
    assert web.load_task(task_id).owner_id == chosen


def test_someone_of_another_workspace_cannot_be_picked(web, other_web):
    task_id = web.task("Call Ada")
    assert "Gus Globex" not in web.text(web.get("/people/picker?q=gus"))
    response = edit(web, task_id, owner_query="Gus Globex", owner_id=other_web.user_id)
    assert response.status_code == 422
    response = edit(web, task_id, owner_query="Olive Owner", owner_id="", owner_pick=other_web.user_id)
    assert response.status_code == 422 and "No user with id" in web.text(response)
    assert web.load_task(task_id).owner_id == web.user_id
