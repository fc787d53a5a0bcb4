"""Contacts, companies and deals created, edited and deleted in the browser (SPEC §14)."""

from __future__ import annotations

import re

import pytest

from crm.extensions import db
from crm.models import Company, Contact, Deal, Task

MODELS = {"contacts": Contact, "companies": Company, "deals": Deal}


def load(web, kind: str, record_id: str):
    with web.app.app_context():
        record = db.session.get(MODELS[kind], record_id)
        if record is not None:
            db.session.expunge(record)
        return record


def only_id(web, kind: str) -> str:
    with web.app.app_context():
        ids = [r.id for r in db.session.query(MODELS[kind]).filter_by(workspace_id=web.workspace_id)]
    assert len(ids) == 1, ids
    return ids[0]


def test_an_empty_list_says_what_to_do_next(web):
    for kind, singular in (("contacts", "contact"), ("companies", "company"), ("deals", "deal")):
        text = web.text(web.get(f"/{kind}"))
        assert f"No {kind} yet — " in text and f'href="/{kind}/new"' in text and f"add your first {singular}" in text
        assert f">New {singular}</a>" in text


class TestContacts:
    def test_create_without_javascript_goes_to_the_new_contact(self, web):
        engines = web.company("Analytical Engines")
        form = web.text(web.get("/contacts/new"))
        assert "<html" in form and all(f'name="{n}"' in form for n in
                                       ("first_name", "last_name", "email", "phone", "company_query", "company_id"))
        response = web.post("/contacts", {"first_name": " Ada ", "last_name": "Lovelace", "email": "ada@engines.test",
                                          "phone": "", "company_query": "analytical", "company_id": ""})
        assert response.status_code == 303
        contact_id = only_id(web, "contacts")
        assert response.headers["Location"] == f"/contacts/{contact_id}"
        contact = load(web, "contacts", contact_id)
        assert (contact.name, contact.email, contact.phone, contact.company_id) == (
            "Ada Lovelace", "ada@engines.test", None, engines)
        page = web.text(web.get(response.headers["Location"]))
        assert "Added “Ada Lovelace”." in page and "<h1>Ada Lovelace</h1>" in page

    def test_create_inline_with_htmx_adds_the_row_and_clears_the_form(self, web):
        form = web.get("/contacts/new", htmx=True)
        assert "<html" not in web.text(form) and 'id="record-form"' in web.text(form)
        response = web.post("/contacts", {"first_name": "Grace", "last_name": "Hopper", "email": "",
                                          "company_query": ""}, htmx=True)
        assert response.status_code == 200
        text = web.text(response)
        contact_id = only_id(web, "contacts")
        assert text.lstrip().startswith(f'<li class="row record-row" id="cont-{contact_id}"')
        assert '<div id="record-form-slot" data-hx-swap-oob="true"></div>' in text
        assert "Added" in response.headers["HX-Trigger"]

    def test_validation_errors_show_in_the_form(self, web):
        response = web.post("/contacts", {"first_name": "Ada", "email": "not-an-email", "company_query": "Nowhere"})
        assert response.status_code == 422
        text = web.text(response)
        assert "Not a valid email address." in text and "No company matches" in text
        assert 'value="Ada"' in text and 'value="not-an-email"' in text
        inline = web.post("/contacts", {"first_name": "Ada", "email": "nope"}, htmx=True)
        assert inline.status_code == 422 and inline.headers["HX-Retarget"] == "#record-form"
        assert "Not a valid email address." in web.text(inline)
        with web.app.app_context():
            assert db.session.query(Contact).count() == 0

    def test_edit_in_place_and_without_javascript(self, web):
        contact_id = web.contact("Ada", "Lovelace", email="ada@old.test")
        form = web.text(web.get(f"/contacts/{contact_id}/edit", htmx=True))
        assert form.lstrip().startswith('<form id="record-head"') and 'value="ada@old.test"' in form
        saved = web.post(f"/contacts/{contact_id}/edit", {"first_name": "Ada", "last_name": "King",
                                                          "email": "ada@new.test", "company_query": ""}, htmx=True)
        assert saved.status_code == 200 and '<h1>Ada King</h1>' in web.text(saved)
        assert load(web, "contacts", contact_id).email == "ada@new.test"
        bad = web.post(f"/contacts/{contact_id}/edit", {"email": "x@"}, htmx=True)
        assert bad.status_code == 422 and 'id="record-head"' in web.text(bad)
        page = web.text(web.get(f"/contacts/{contact_id}/edit"))
        assert "<html" in page and 'value="King"' in page
        response = web.post(f"/contacts/{contact_id}/edit", {"last_name": "Lovelace"})
        assert (response.status_code, response.headers["Location"]) == (303, f"/contacts/{contact_id}")
        assert load(web, "contacts", contact_id).name == "Ada Lovelace"

    def test_delete_asks_first_and_keeps_the_tasks(self, web):
        contact_id = web.contact("Ada", "Lovelace")
        task_id = web.task("Call Ada", contact_id=contact_id)
        confirm = web.text(web.get(f"/contacts/{contact_id}/delete"))
        assert "Delete this contact?" in confirm and load(web, "contacts", contact_id) is not None
        response = web.post(f"/contacts/{contact_id}/delete")
        assert (response.status_code, response.headers["Location"]) == (303, "/contacts")
        assert load(web, "contacts", contact_id) is None
        assert web.load_task(task_id).contact_id is None
        assert "Deleted “Ada Lovelace”." in web.text(web.get("/contacts"))

    def test_delete_a_row_with_htmx(self, web):
        contact_id = web.contact("Ada", "Lovelace")
        assert f'data-hx-post="/contacts/{contact_id}/delete"' in web.text(web.get("/contacts"))
        response = web.post(f"/contacts/{contact_id}/delete", htmx=True)
        assert response.status_code == 200 and web.text(response).strip() == ""
        assert "Deleted" in response.headers["HX-Trigger"]
        assert load(web, "contacts", contact_id) is None


class TestCompanies:
    def test_create_edit_delete(self, web):
        response = web.post("/companies", {"name": "Initech", "domain": " Initech.COM "})
        assert response.status_code == 303
        company_id = only_id(web, "companies")
        assert load(web, "companies", company_id).domain == "initech.com"
        bad = web.post(f"/companies/{company_id}/edit", {"name": "  ", "domain": "not a domain"}, htmx=True)
        assert bad.status_code == 422
        assert "Must not be blank." in web.text(bad) and "Not a valid domain name" in web.text(bad)
        ok = web.post(f"/companies/{company_id}/edit", {"name": "Initech Inc", "domain": ""}, htmx=True)
        assert ok.status_code == 200 and "<h1>Initech Inc</h1>" in web.text(ok)
        assert load(web, "companies", company_id).domain is None
        assert web.post(f"/companies/{company_id}/delete", htmx=True).status_code == 200
        assert load(web, "companies", company_id) is None

    def test_company_page_has_edit_and_delete(self, web):
        company_id = web.company("Initech")
        text = web.text(web.get(f"/companies/{company_id}"))
        assert f'data-hx-get="/companies/{company_id}/edit"' in text
        assert f'action="/companies/{company_id}/delete"' in text and 'data-confirm="Delete the company' in text


class TestDeals:
    def test_create_with_pickers_and_edit(self, web):
        initech = web.company("Initech")
        ada = web.contact("Ada", "Lovelace")
        response = web.post("/deals", {"name": "Initech renewal", "stage": "proposal", "amount": "1500.00",
                                       "currency": "eur", "close_date": "2027-03-31", "company_query": "Initech",
                                       "company_id": initech, "contact_query": "ada"})
        assert response.status_code == 303, web.text(response)
        deal = load(web, "deals", only_id(web, "deals"))
        assert (deal.name, deal.stage, deal.amount, deal.currency, deal.close_date.isoformat(), deal.company_id,
                deal.contact_id) == ("Initech renewal", "proposal", "1500.00", "EUR", "2027-03-31", initech, ada)
        cleared = web.post(f"/deals/{deal.id}/edit", {"amount": "", "currency": "", "close_date": "",
                                                      "contact_query": ""})
        assert cleared.status_code == 303
        deal = load(web, "deals", deal.id)
        assert (deal.amount, deal.currency, deal.close_date, deal.contact_id, deal.company_id) == (
            None, None, None, None, initech)

    def test_validation(self, web):
        response = web.post("/deals", {"name": "", "amount": "lots", "currency": "EURO", "close_date": "31/03/2027"})
        assert response.status_code == 422
        text = web.text(response)
        assert "Must not be blank." in text and "decimal number" in text and "ISO 4217" in text
        assert "Not a valid date." in text and 'value="lots"' in text


@pytest.mark.parametrize("kind", ["contacts", "companies", "deals"])
@pytest.mark.parametrize("method,path", [
    ("get", "/{kind}/{id}/edit"), ("post", "/{kind}/{id}/edit"),
    ("get", "/{kind}/{id}/delete"), ("post", "/{kind}/{id}/delete"),
])
def test_another_workspaces_records_are_not_found(web, other_web, kind, method, path):
    make = {"contacts": lambda: other_web.contact("Gus", "Globex"), "companies": lambda: other_web.company("Globex"),
            "deals": lambda: other_web.deal("Globex deal")}[kind]
    record_id = make()
    url = path.format(kind=kind, id=record_id)
    response = web.get(url) if method == "get" else web.post(url, {"name": "hijack", "first_name": "hijack"})
    assert response.status_code == 404
    record = load(web, kind, record_id)
    assert record is not None and "hijack" not in (record.name or "")


def test_another_workspaces_company_cannot_be_linked(web, other_web):
    theirs = other_web.company("Globex")
    response = web.post("/contacts", {"first_name": "Ada", "company_query": "Globex", "company_id": theirs})
    assert response.status_code == 422  # the name does not resolve here, and the id is not kept
    response = web.post("/contacts", {"first_name": "Ada", "company_query": "Globex", "company_pick": theirs})
    assert response.status_code == 422 and "No company with id" in web.text(response)


@pytest.mark.parametrize("path,data", [
    ("/contacts", {"first_name": "Ada"}), ("/companies", {"name": "Initech"}), ("/deals", {"name": "Deal"}),
])
def test_creating_needs_the_csrf_token(web, path, data):
    assert web.post(path, data, csrf=False).status_code == 400
    assert web.post(path, data, csrf=False, htmx=True).status_code == 400
    with web.app.app_context():
        assert db.session.query(MODELS[path[1:]]).count() == 0


def test_editing_and_deleting_need_the_csrf_token(web):
    contact_id = web.contact("Ada", "Lovelace")
    assert web.post(f"/contacts/{contact_id}/edit", {"first_name": "Eve"}, csrf=False).status_code == 400
    assert web.post(f"/contacts/{contact_id}/delete", csrf=False, htmx=True).status_code == 400
    assert load(web, "contacts", contact_id).name == "Ada Lovelace"


def test_first_customer_then_a_task_for_them_all_in_the_browser(web):
    """The issue's fresh workspace: add the first customer, then a task linked to them."""
    assert "No contacts yet" in web.text(web.get("/contacts"))
    response = web.post("/contacts", {"first_name": "Ada", "last_name": "Lovelace", "company_query": ""})
    contact_page = response.headers["Location"]
    text = web.text(web.get(contact_page))
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                             text.split('id="quick-add"')[1].split("</form>")[0]))
    fields.pop("csrf_token")
    assert web.post("/tasks", {**fields, "title": "Send Ada the notes"}).status_code == 303
    with web.app.app_context():
        task = db.session.query(Task).one()
        assert task.contact_id == contact_page.rsplit("/", 1)[1]
