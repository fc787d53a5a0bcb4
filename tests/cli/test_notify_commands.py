"""`flask crm run-due` and `flask crm send-test-email`, against a real SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from unittest import mock

import pytest

from crm import clock
from crm.extensions import db
from crm.models import Notification
from tests.mailbox import parts, smtp_server
from tests.servers import ROOT


@pytest.fixture
def smtp():
    with smtp_server() as (url, box):
        yield url, box


@pytest.fixture
def config_overrides(smtp):
    return {"CRM_SMTP_URL": smtp[0], "CRM_MAIL_FROM": "crm@acme.test", "CRM_BASE_URL": "https://crm.acme.test"}


def test_send_test_email_arrives_as_text_and_html(runner, smtp):
    result = runner.invoke(args=["crm", "send-test-email", "ada@example.com"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Sent a test e-mail to ada@example.com."
    (message,) = smtp[1].wait_for(1)
    assert message["To"] == "ada@example.com" and message["Subject"] == "Followup test e-mail"
    text, html = parts(message)
    assert "test e-mail from Followup" in text and "https://crm.acme.test" in html


def test_send_test_email_without_smtp_fails_clearly(app, runner):
    app.config["CRM_SMTP_URL"] = ""
    result = runner.invoke(args=["crm", "send-test-email", "ada@example.com"])
    assert result.exit_code == 1
    assert "E-mail is not configured: set CRM_SMTP_URL" in result.output


def test_send_test_email_to_a_server_that_refuses_fails(app, runner):
    from tests.servers import free_port

    app.config["CRM_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    result = runner.invoke(args=["crm", "send-test-email", "ada@example.com"])
    assert result.exit_code == 1 and "could not send to ada@example.com" in result.output


def test_run_due_in_a_real_process_fires_a_due_reminder_once_and_mails_it(app, api, smtp, database_url, tmp_path):
    # No daily digest (due from 08:00 in the user's zone, so from 08:00 UTC here): one mail, the reminder's.
    assert api.patch("/users/me/notification-settings", {"digest": {"enabled": False}}).status_code == 200
    an_hour_ago = clock.now() - timedelta(hours=1)
    with mock.patch("crm.clock.now", return_value=an_hour_ago):
        task = api.create("/tasks", {"title": "Renew the contract", "due_at": (an_hour_ago + timedelta(minutes=30)).isoformat() + "Z",
                                     "reminder": {"type": "email", "before_minutes": 10}})
    with app.app_context():
        db.engine.dispose()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-for-the-suite-0123456789", "CRM_SMTP_URL": smtp[0],
           "CRM_BASE_URL": "https://crm.acme.test", "CRM_INSTANCE_PATH": str(tmp_path / "instance"),
           "CRM_AUTO_MIGRATE": "false", "PYTHONPATH": str(ROOT)}

    def run_due() -> str:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "crm", "run-due"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = run_due()
    assert "reminders.fire_due: 1" in out and "mail.deliver_due: 1" in out
    assert "reminders.fire_due: 0" in run_due()
    (message,) = smtp[1].wait_for(1)
    assert len(smtp[1].messages) == 1
    assert message["Subject"] == "Reminder: Renew the contract"
    assert f"https://crm.acme.test/tasks/{task['id']}" in parts(message)[0]
    with app.app_context():
        assert db.session.query(Notification).filter_by(task_id=task["id"], kind="reminder").count() == 1
