"""Sign-in, sign-out, first-run set-up, sessions and login throttling."""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_account
from tests.web.conftest import CSRF_FIELD

PAGES = ["/", "/tasks", "/tasks/new", "/activities", "/contacts", "/companies", "/deals", "/settings",
         "/contacts/picker?contact_query=a"]


def csrf_from(client, path: str) -> str:
    return CSRF_FIELD.search(client.get(path).get_data(as_text=True)).group(1)


def test_fresh_install_sends_everyone_to_setup(client):
    assert client.get("/login").headers["Location"] == "/setup"
    page = client.get("/setup")
    assert page.status_code == 200
    assert "Create workspace" in page.get_data(as_text=True)


def test_setup_creates_workspace_and_admin_then_disappears(app, client):
    token = csrf_from(client, "/setup")
    response = client.post("/setup", data={"csrf_token": token, "workspace": "Acme", "name": "Ada Admin",
                                           "email": "Ada@Example.com", "password": "long enough"})
    assert response.status_code == 303
    assert client.get("/tasks").status_code == 200  # signed in straight away
    from crm.services import accounts

    with app.app_context():
        user = accounts.find_user_by_email("ada@example.com")
        assert (user.role, user.workspace.name) == ("admin", "Acme")
    assert client.get("/setup").status_code == 404
    assert app.test_client().post("/setup", data={}).status_code in (400, 404)


def test_setup_shows_errors_and_creates_nothing(app, client):
    token = csrf_from(client, "/setup")
    response = client.post("/setup", data={"csrf_token": token, "workspace": " ", "name": "A",
                                           "email": "a@b.test", "password": "long enough"})
    assert response.status_code == 422
    assert "Must not be blank." in response.get_data(as_text=True)
    response = client.post("/setup", data={"csrf_token": token, "workspace": "Acme", "name": "A",
                                           "email": "not-an-email", "password": "short"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Not a valid email address." in text and "At least 8 characters." in text
    from crm.services import accounts

    with app.app_context():
        assert accounts.first_workspace() is None and accounts.user_count() == 0


def test_login_page_has_the_labelled_fields(app, client):
    make_account(app)
    text = client.get("/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in text
    assert '<label for="password">Password</label>' in text
    assert ">Sign in</button>" in text


def sign_in(client, email="owner@acme.test", password="correct horse", next_url=None):
    data = {"csrf_token": csrf_from(client, "/login"), "email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


def test_wrong_password_is_refused(app, client):
    make_account(app)
    response = sign_in(client, password="wrong password")
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/tasks").status_code == 302


def test_unknown_email_gets_the_same_answer(app, client):
    make_account(app)
    response = sign_in(client, email="nobody@acme.test")
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_sign_in_then_sign_out(app, client):
    make_account(app)
    response = sign_in(client)
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks")
    assert client.get("/tasks").status_code == 200
    token = csrf_from(client, "/tasks")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/tasks").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_never_offsite(app, client):
    make_account(app)
    first = client.get("/activities?type=call")
    assert first.headers["Location"] == "/login?next=/activities?type%3Dcall"
    assert sign_in(client, next_url="/activities?type=call").headers["Location"] == "/activities?type=call"
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert sign_in(app.test_client(), next_url=evil).headers["Location"] == "/tasks"


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_sign_in(app, client, path):
    make_account(app)
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_htmx_requests_without_session_are_told_to_navigate_to_login(app, client):
    make_account(app)
    response = client.get("/tasks", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_deactivated_user_is_signed_out(web, app):
    from crm.extensions import db
    from crm.models import User

    with app.app_context():
        db.session.get(User, web.user_id).is_active = False
        db.session.commit()
    assert web.get("/tasks").status_code == 302
    assert sign_in(app.test_client()).status_code == 401


def test_session_cookie_is_httponly_and_lax_and_secure_over_https(app):
    make_account(app)
    plain = app.test_client()
    cookie = sign_in(plain).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    tls = app.test_client()
    token = CSRF_FIELD.search(tls.get("/login", base_url="https://localhost").get_data(as_text=True)).group(1)
    response = tls.post("/login", base_url="https://localhost",
                        data={"csrf_token": token, "email": "owner@acme.test", "password": "correct horse"},
                        headers={"Referer": "https://localhost/login"})
    assert response.status_code == 303
    assert re.search(r"; Secure", response.headers["Set-Cookie"])


class TestThrottle:
    @pytest.fixture
    def config_overrides(self):
        return {"CRM_LOGIN_RATE_LIMIT": "3/minute", "CRM_LOGIN_ACCOUNT_RATE_LIMIT": "1000/minute"}

    def test_login_attempts_are_throttled(self, app, client):
        make_account(app)
        statuses = [sign_in(client, password="guess {i}").status_code for i in range(4)]
        assert statuses == [401, 401, 401, 429]
        assert "Too many failed sign-ins from your network" in sign_in(client).get_data(as_text=True)
        assert client.get("/login").status_code == 200  # looking at the form is not throttled
