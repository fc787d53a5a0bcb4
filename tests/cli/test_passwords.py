"""Passwords from the command line: `flask crm set-password` and `create-user`, asked at a hidden
prompt or read from stdin, never taken as an argument; then signing in with them."""

from __future__ import annotations

import re

import pytest

from crm.extensions import db
from crm.models import User

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def config_overrides():
    return {"CRM_LOGIN_RATE_LIMIT": "1000/minute"}


def sign_in(app, email: str, password: str) -> bool:
    """What a person at the sign-in page gets: True when the password lets them in."""
    client = app.test_client()
    page = client.get("/login")
    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    if response.status_code in (302, 303):
        return True
    assert response.status_code == 401, response.status_code
    return False


@pytest.fixture
def ada(runner):
    r = runner.invoke(args=["crm", "create-user", "--email", "ada@example.com", "--name", "Ada",
                            "--password-stdin"], input="first password\n")
    assert r.exit_code == 0, r.output
    return "ada@example.com"


def test_set_password_asks_twice_hidden_and_the_new_password_signs_in(runner, app, ada):
    r = runner.invoke(args=["crm", "set-password", "--email", ada], input="a brand new one\na brand new one\n")
    assert r.exit_code == 0, r.output
    assert r.output.count("New password") == 1 and "Repeat for confirmation" in r.output
    assert "a brand new one" not in r.output  # typed, not echoed
    assert "Password set for ada@example.com." in r.output
    assert sign_in(app, ada, "a brand new one")
    assert not sign_in(app, ada, "first password")


def test_set_password_reads_one_line_from_stdin(runner, app, ada):
    r = runner.invoke(args=["crm", "set-password", "--email", "ADA@example.com ", "--password-stdin"],
                      input="from a script  \nsecond line is ignored\n")
    assert r.exit_code == 0, r.output
    assert "from a script" not in r.output
    assert sign_in(app, ada, "from a script  ")  # the whole line, spaces included
    assert not sign_in(app, ada, "from a script")


def test_mismatched_confirmation_changes_nothing(runner, app, ada):
    r = runner.invoke(args=["crm", "set-password", "--email", ada], input="one password\nanother one\n")
    assert r.exit_code != 0
    assert "do not match" in r.output
    assert sign_in(app, ada, "first password")


def test_too_short_password_is_refused_and_the_old_one_kept(runner, app, ada):
    r = runner.invoke(args=["crm", "set-password", "--email", ada, "--password-stdin"], input="short\n")
    assert r.exit_code == 1
    assert "password: At least 8 characters." in r.output
    assert sign_in(app, ada, "first password") and not sign_in(app, ada, "short")


def test_empty_stdin_is_an_error_not_an_empty_password(runner, app, ada):
    r = runner.invoke(args=["crm", "set-password", "--email", ada, "--password-stdin"], input="")
    assert r.exit_code == 1 and "No password on stdin" in r.output
    assert sign_in(app, ada, "first password")


def test_unknown_email_fails_before_asking(runner):
    r = runner.invoke(args=["crm", "set-password", "--email", "nobody@example.com"], input="x\nx\n")
    assert r.exit_code == 1
    assert "No user with email 'nobody@example.com'." in r.output and "New password" not in r.output


def test_set_password_takes_no_password_argument(runner, ada):
    r = runner.invoke(args=["crm", "set-password", "--email", ada, "--password", "on the command line"])
    assert r.exit_code == 2 and "No such option" in r.output


def test_set_password_of_a_deactivated_user_says_they_still_cannot_sign_in(runner, app, ada):
    with app.app_context():
        db.session.query(User).filter_by(email=ada).update({"is_active": False})
        db.session.commit()
    r = runner.invoke(args=["crm", "set-password", "--email", ada, "--password-stdin"], input="new password\n")
    assert r.exit_code == 0
    assert "deactivated" in r.stderr
    assert not sign_in(app, ada, "new password")


def test_create_user_asks_for_the_password_at_a_hidden_prompt(runner, app):
    r = runner.invoke(args=["crm", "create-user", "--email", "grace@example.com", "--name", "Grace",
                            "--password-prompt"], input="navy cobol\nnavy cobol\n")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().splitlines()[-1].startswith("user_") and "navy cobol" not in r.output
    assert sign_in(app, "grace@example.com", "navy cobol")


def test_create_user_without_a_password_cannot_sign_in_until_one_is_set(runner, app):
    r = runner.invoke(args=["crm", "create-user", "--email", "alan@example.com", "--name", "Alan"])
    assert r.exit_code == 0 and "Password" not in r.output
    assert not sign_in(app, "alan@example.com", "")
    runner.invoke(args=["crm", "set-password", "--email", "alan@example.com", "--password-stdin"],
                  input="enigma machine\n")
    assert sign_in(app, "alan@example.com", "enigma machine")


def test_create_user_takes_one_password_source(runner, app):
    r = runner.invoke(args=["crm", "create-user", "--email", "x@example.com", "--name", "X",
                            "--password-prompt", "--password-stdin"], input="whatever1\n")
    assert r.exit_code == 1 and "not both" in r.output
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_create_user_password_argument_still_works_but_warns_and_is_not_in_the_help(runner, app):
    r = runner.invoke(args=["crm", "create-user", "--email", "old@example.com", "--name", "Old",
                            "--password", "old script"])
    assert r.exit_code == 0
    assert r.stdout.strip().startswith("user_") and "deprecated" in r.stderr
    assert sign_in(app, "old@example.com", "old script")
    help_text = runner.invoke(args=["crm", "create-user", "--help"]).output
    assert "--password-prompt" in help_text and "--password-stdin" in help_text
    assert not re.search(r"--password\b(?!-)", help_text)


def test_setting_a_password_goes_through_the_accounts_service(runner, app, ada, monkeypatch):
    from crm.services import accounts

    calls = []
    real = accounts.set_password
    monkeypatch.setattr(accounts, "set_password", lambda user, pw: (calls.append(user.email), real(user, pw)))
    r = runner.invoke(args=["crm", "set-password", "--email", ada, "--password-stdin"], input="via service\n")
    assert r.exit_code == 0 and calls == [ada]
