"""Sign-in and "Add user" tell nothing about e-mails: not whether one has an account (the same
password work for every e-mail), not whether one is in another workspace."""

from __future__ import annotations

import hashlib

import pytest

from crm.extensions import db
from crm.models import User
from tests.conftest import make_account
from tests.web.test_auth import sign_in


@pytest.fixture
def scrypt_calls(monkeypatch):
    """The scrypt derivations run (Werkzeug's password hashes), with their cost parameters."""
    calls: list[tuple] = []
    real = hashlib.scrypt

    def counting(password, *, salt, n, r, p, maxmem=0, dklen=64):
        calls.append((n, r, p, dklen))
        return real(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    from crm.services import accounts

    accounts._unknown_password_hash()  # made once per process, on the first sign-in whatever its e-mail
    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


def sign_in_work(client, scrypt_calls, email, password="wrong password"):
    scrypt_calls.clear()
    response = sign_in(client, email=email, password=password)
    return response.status_code, list(scrypt_calls)


def test_unknown_emails_cost_the_same_password_work_as_real_ones(app, client, scrypt_calls):
    make_account(app)
    make_account(app, email="gone@acme.test", name="Gone")
    with app.app_context():
        db.session.query(User).filter_by(email="gone@acme.test").update({"is_active": False})
        db.session.commit()
    status, wrong_password = sign_in_work(client, scrypt_calls, "owner@acme.test")
    assert status == 401 and len(wrong_password) == 1
    assert sign_in_work(client, scrypt_calls, "nobody@acme.test") == (401, wrong_password)
    assert sign_in_work(client, scrypt_calls, "gone@acme.test") == (401, wrong_password)
    status, right_password = sign_in_work(client, scrypt_calls, "owner@acme.test", "correct horse")
    assert status in (302, 303) and right_password == wrong_password


def test_the_first_sign_in_of_a_process_costs_the_same_for_every_email(app, client, scrypt_calls, monkeypatch):
    from crm.services import accounts

    make_account(app)
    monkeypatch.setattr(accounts, "_dummy_hash", None)
    known = sign_in_work(client, scrypt_calls, "owner@acme.test")
    monkeypatch.setattr(accounts, "_dummy_hash", None)
    assert sign_in_work(client, scrypt_calls, "nobody@acme.test") == known


def test_sign_in_work_does_not_tell_how_many_workspaces_an_email_is_in(app, client, scrypt_calls):
    make_account(app, email="ada@example.com", name="Ada", password="acme password")
    make_account(app, workspace="Globex", email="ada@example.com", name="Ada", password="globex password")
    make_account(app, email="solo@acme.test", name="Solo")
    status, shared = sign_in_work(client, scrypt_calls, "ada@example.com")
    assert status == 401 and len(shared) == 2
    assert sign_in_work(client, scrypt_calls, "solo@acme.test") == (401, shared)
    assert sign_in_work(client, scrypt_calls, "nobody@acme.test") == (401, shared)


def test_one_email_in_two_workspaces_signs_in_where_the_password_matches(app, client):
    make_account(app, email="ada@example.com", name="Ada Acme", password="acme password")
    make_account(app, workspace="Globex", email="ada@example.com", name="Ada Globex", password="globex password")
    assert sign_in(client, email="ada@example.com", password="globex password").status_code in (302, 303)
    assert "Ada Globex" in client.get("/settings").get_data(as_text=True)
    other = app.test_client()
    assert sign_in(other, email="ADA@example.com", password="acme password").status_code in (302, 303)
    assert "Ada Acme" in other.get("/settings").get_data(as_text=True)
    assert sign_in(app.test_client(), email="ada@example.com", password="neither").status_code == 401


def test_adding_an_email_of_another_workspace_answers_like_a_new_one(app, web, other_web):
    fresh = web.post("/settings/users", {"email": "new@acme.test", "name": "New", "role": "member"})
    foreign = web.post("/settings/users", {"email": "BOSS@globex.test", "name": "Boss", "role": "member"})
    assert (foreign.status_code, foreign.headers["Location"]) == (fresh.status_code, fresh.headers["Location"]) \
        == (303, "/settings")
    page = web.text(web.get("/settings"))
    assert "User added." in page and "boss@globex.test" in page
    with app.app_context():
        owners = sorted(u.workspace_id for u in db.session.query(User).filter_by(email="boss@globex.test"))
    assert owners == sorted([web.workspace_id, other_web.workspace_id])
    assert "Gus Globex" in other_web.text(other_web.get("/settings"))  # the other account is untouched


def test_adding_an_email_already_in_this_workspace_is_refused(web, teammate):
    response = web.post("/settings/users", {"email": "mia@acme.test", "name": "Mia Again", "role": "member"})
    assert response.status_code == 422
    assert "A user with this email already exists in this workspace." in web.text(response)


def test_cli_asks_for_the_workspace_when_an_email_is_in_several(app, runner):
    make_account(app, email="ada@example.com", name="Ada")
    make_account(app, workspace="Globex", email="ada@example.com", name="Ada")
    result = runner.invoke(args=["crm", "create-api-key", "--email", "ada@example.com"])
    assert result.exit_code == 1
    assert "This email is in several workspaces" in result.output
