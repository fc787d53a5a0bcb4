"""Contacts, companies and deals: CRUD with the same rules as tasks."""

import pytest


def test_contact_name_is_derived_and_read_only(api):
    contact = api.create("/contacts", {"first_name": " Ada ", "last_name": "Lovelace", "email": "ada@example.com",
                                       "phone": "+44 20 7946 0000"})
    assert contact["name"] == "Ada Lovelace"
    assert set(contact) == {"id", "first_name", "last_name", "name", "email", "phone", "company_id", "metadata",
                            "created_at", "updated_at"}
    assert contact["id"].startswith("cont_")
    r = api.patch(f"/contacts/{contact['id']}", {"name": "Someone Else"})
    assert r.status_code == 400 and "name" in r.get_json()["error"]["details"]
    renamed = api.patch(f"/contacts/{contact['id']}", {"last_name": "King"}).get_json()["data"]
    assert renamed["name"] == "Ada King"


def test_contact_email_must_look_like_one(api):
    r = api.post("/contacts", {"first_name": "A", "email": "not-an-email"})
    assert r.status_code == 400 and "email" in r.get_json()["error"]["details"]


def test_company_requires_name_and_valid_domain(api):
    assert "name" in api.post("/companies", {"domain": "acme.com"}).get_json()["error"]["details"]
    assert "domain" in api.post("/companies", {"name": "A", "domain": "not a domain"}).get_json()["error"]["details"]
    company = api.create("/companies", {"name": "Acme", "metadata": {"tier": "gold"}})
    assert company["id"].startswith("comp_") and company["domain"] is None and company["metadata"] == {"tier": "gold"}


@pytest.mark.parametrize("payload, field", [
    ({"name": "D", "amount": 1500}, "amount"),
    ({"name": "D", "amount": "15,00"}, "amount"),
    ({"name": "D", "currency": "eur"}, "currency"),
    ({"name": "D", "currency": "EURO"}, "currency"),
    ({"name": "D", "close_date": "next week"}, "close_date"),
    ({"name": "D", "company_id": "comp_nope"}, "company_id"),
    ({"amount": "1.00"}, "name"),
])
def test_deal_validation(api, payload, field):
    r = api.post("/deals", payload)
    assert r.status_code == 400 and field in r.get_json()["error"]["details"]


def test_deal_round_trip(api):
    company = api.create("/companies", {"name": "Acme"})
    r = api.post("/deals", {"name": "Pilot", "stage": "proposal", "amount": "1500.00", "currency": "EUR",
                            "close_date": "2026-12-31", "company_id": company["id"]})
    assert r.status_code == 201
    deal = r.get_json()["data"]
    assert deal["amount"] == "1500.00" and deal["currency"] == "EUR" and deal["close_date"] == "2026-12-31"
    assert deal["id"].startswith("deal_")
    assert r.get_json()["included"] == [{"type": "company", "id": company["id"], "name": "Acme"}]
    patched = api.patch(f"/deals/{deal['id']}", {"amount": None, "stage": "won"}).get_json()["data"]
    assert patched["amount"] is None and patched["stage"] == "won" and patched["currency"] == "EUR"


@pytest.mark.parametrize("kind, payload", [("contacts", {"first_name": "A"}), ("companies", {"name": "A"}),
                                           ("deals", {"name": "A"})])
def test_crud_cycle(api, kind, payload):
    created = api.post(f"/{kind}", payload)
    assert created.status_code == 201
    rid = created.get_json()["data"]["id"]
    assert created.headers["Location"].endswith(f"/api/v1/{kind}/{rid}")
    assert api.get(f"/{kind}/{rid}").status_code == 200
    assert [r["id"] for r in api.get(f"/{kind}").get_json()["data"]] == [rid]
    assert api.patch(f"/{kind}/{rid}", {"metadata": {"x": 1}}).get_json()["data"]["metadata"] == {"x": 1}
    assert api.patch(f"/{kind}/{rid}", {"bogus": 1}).status_code == 400
    assert api.delete(f"/{kind}/{rid}").status_code == 204
    assert api.get(f"/{kind}/{rid}").status_code == 404
