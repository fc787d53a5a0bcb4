"""The web pages search and link by transliteration as the API does: "soren" finds "Søren"."""

from __future__ import annotations

from tests.web.test_tasks_pages import row_ids


def test_search_boxes_find_names_by_their_transliteration(web):
    web.contact("Søren", "Kierkegaard")
    web.contact("Grace", "Hopper")
    web.company("Ærø Shipping")
    web.deal("Đorđe's renewal")
    call = web.task("Call Łukasiewicz")
    web.task("Call Hopper")
    contacts = web.text(web.get("/contacts?q=soren"))
    assert "Søren Kierkegaard" in contacts and "Grace Hopper" not in contacts
    assert "Ærø Shipping" in web.text(web.get("/companies?q=aero"))
    assert "renewal" in web.text(web.get("/deals?q=dorde"))
    assert row_ids(web.text(web.get("/tasks?view=all&q=lukasiewicz"))) == [call]
    picker = web.text(web.get("/contacts/picker?q=SOREN", htmx=True))
    assert "Søren Kierkegaard" in picker and "Hopper" not in picker


def test_new_task_form_links_a_contact_typed_without_its_letters(web):
    soren = web.contact("Søren", "Kierkegaard")
    response = web.post("/tasks", {"title": "Write back", "contact_query": "soren kierkegaard", "contact_id": ""})
    assert response.status_code == 303
    task_id = row_ids(web.text(web.get("/tasks")))[0]
    assert web.load_task(task_id).contact_id == soren
