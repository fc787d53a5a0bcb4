"""Contacts, companies and deals: lists, record pages, the contact picker."""

from __future__ import annotations

import re

import pytest


def test_lists_with_search(web, other_web):
    web.contact("Ada", "Lovelace", email="ada@example.com")
    web.contact("Grace", "Hopper")
    other_web.contact("Ada", "Other")
    page = web.text(web.get("/contacts?q=ada"))
    assert "Ada Lovelace" in page and "Grace Hopper" not in page and "Ada Other" not in page
    fragment = web.get("/contacts?q=hopper", htmx=True)
    assert "<html" not in web.text(fragment) and "Grace Hopper" in web.text(fragment)
    web.company("Initech")
    web.deal("Initech renewal")
    assert "Initech" in web.text(web.get("/companies?q=init"))
    assert "Initech renewal" in web.text(web.get("/deals?q=renewal"))


def test_contact_page_has_open_tasks_timeline_and_linked_forms(web):
    ada = web.contact("Ada", "Lovelace")
    open_task = web.task("Call Ada", contact_id=ada)
    done_task = web.task("Emailed Ada", contact_id=ada, status="completed")
    web.activity(subject="Met Ada", contact_id=ada)
    text = web.text(web.get(f"/contacts/{ada}"))
    open_section = text.split('id="record-tasks"')[1].split("</ul>")[0]
    assert f"task-{open_task}" in open_section and f"task-{done_task}" not in open_section
    timeline = text.split('id="record-timeline"')[1].split('</ul>')[0]
    assert "Met Ada" in timeline and "Emailed Ada" in timeline
    assert re.search(rf'<input type="hidden" name="contact_id" value="{ada}">', text)
    assert 'hx-target="#record-tasks"' in text and 'hx-target="#record-timeline"' in text


def test_quick_add_on_a_company_page_links_the_company(web):
    initech = web.company("Initech")
    response = web.post("/tasks", {"title": "Renewal", "company_id": initech, "target": "#record-tasks"}, htmx=True)
    assert response.status_code == 200
    assert 'hx-target="#record-tasks"' in web.text(response)
    assert "Renewal" in web.text(web.get(f"/companies/{initech}"))


def test_deal_page_and_timeline_load_more(web):
    deal = web.deal("Big deal")
    for i in range(30):
        web.activity(subject=f"Step {i:02d}", deal_id=deal, occurred_at=f"2026-01-01T10:{i:02d}:00Z")
    text = web.text(web.get(f"/deals/{deal}"))
    assert "Step 29" in text and "Step 00" not in text
    more = re.search(r'hx-get="(/timeline\?[^"]+)"', text).group(1).replace("&amp;", "&")
    rest = web.text(web.get(more, htmx=True))
    assert "Step 00" in rest and "<html" not in rest


@pytest.mark.parametrize("kind", ["contacts", "companies", "deals"])
def test_another_workspaces_record_is_not_found(web, other_web, kind):
    make = {"contacts": lambda: other_web.contact("A", "B"), "companies": lambda: other_web.company("C"),
            "deals": lambda: other_web.deal("D")}[kind]
    assert web.get(f"/{kind}/{make()}").status_code == 404
    assert web.get(f"/{kind}/nonsense").status_code == 404


def test_timeline_of_another_workspaces_record_shows_nothing(web, other_web):
    contact = other_web.contact("A", "B")
    other_web.activity(subject="Secret", contact_id=contact)
    assert web.get(f"/timeline?contact_id={contact}").status_code == 400  # no cursor: not a page of anything


def test_timeline_more_without_javascript_is_a_page(web):
    contact = web.contact("Ada", "Lovelace")
    for i in range(30):
        web.activity(subject=f"Note {i:02d}", contact_id=contact, occurred_at=f"2026-01-01T10:{i:02d}:00Z")
    more = re.search(r'href="(/timeline\?[^"]+)"', web.text(web.get(f"/contacts/{contact}"))).group(1)
    page = web.text(web.get(more.replace("&amp;", "&")))
    assert "<html" in page and "Note 00" in page
