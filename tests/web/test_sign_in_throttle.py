"""The sign-in throttle: failed sign-ins only, counted per address and per account, with a clear
message giving the wait; forged X-Forwarded-For from a direct client changes nothing."""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_account
from tests.web.conftest import CSRF_FIELD


@pytest.fixture
def config_overrides():
    return {"CRM_LOGIN_RATE_LIMIT": "3/minute", "CRM_LOGIN_ACCOUNT_RATE_LIMIT": "3/minute"}


def attempt(app, email="owner@acme.test", password="wrong password", address="198.51.100.7", headers=None):
    """A sign-in from its own browser at `address`."""
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ)
    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password},
                       environ_base=environ, headers=headers or {})


def wait_in(response) -> int:
    match = re.search(r"Try again in (\d+) seconds?\.", response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return int(match.group(1))


def test_failed_sign_ins_are_counted_per_address(app):
    make_account(app)
    statuses = [attempt(app, email=f"guess{i}@acme.test").status_code for i in range(3)]
    assert statuses == [401, 401, 401]
    blocked = attempt(app, password="correct horse")  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many failed sign-ins from your network." in blocked.get_data(as_text=True)
    assert 1 <= wait_in(blocked) <= 60
    assert abs(int(blocked.headers["Retry-After"]) - wait_in(blocked)) <= 1
    assert attempt(app, password="correct horse", address="198.51.100.8").status_code == 303


def test_failed_sign_ins_are_counted_per_account_from_any_address(app):
    make_account(app)
    make_account(app, email="mia@acme.test", name="Mia")
    statuses = [attempt(app, address=f"203.0.113.{i}").status_code for i in range(1, 4)]
    assert statuses == [401, 401, 401]
    blocked = attempt(app, password="correct horse", address="203.0.113.50")
    assert blocked.status_code == 429
    assert "Too many failed sign-ins for this email." in blocked.get_data(as_text=True)
    assert abs(int(blocked.headers["Retry-After"]) - wait_in(blocked)) <= 1
    # The e-mail is counted as typed, case and spaces aside.
    assert attempt(app, email=" OWNER@acme.test ", address="203.0.113.51").status_code == 429
    assert attempt(app, email="mia@acme.test", password="correct horse", address="203.0.113.52").status_code == 303


def test_unknown_emails_are_throttled_like_real_ones(app):
    make_account(app)
    real = [attempt(app, address=f"203.0.113.{i}").status_code for i in range(1, 5)]
    unknown = [attempt(app, email="nobody@acme.test", address=f"203.0.114.{i}").status_code for i in range(1, 5)]
    assert real == unknown == [401, 401, 401, 429]


def test_successful_sign_ins_are_not_counted(app):
    make_account(app)
    assert [attempt(app, password="correct horse").status_code for _ in range(6)] == [303] * 6
    assert [attempt(app).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_refused_forms_are_not_counted(app):
    make_account(app)
    client = app.test_client()
    for _ in range(5):  # no CSRF token: 400, no password checked
        assert client.post("/login", data={"email": "owner@acme.test", "password": "x"},
                           environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 400
    assert attempt(app, password="correct horse", address="198.51.100.9").status_code == 303

