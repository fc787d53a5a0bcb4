"""Reminders through real `flask crm worker` processes and a real SMTP server: a worker killed
with SIGKILL while reminders are due, then two workers at once, and every due reminder arrives
exactly once (one e-mail, one notification)."""

from __future__ import annotations

import collections
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Notification, Task, utcnow
from tests.mailbox import smtp_server
from tests.worker.test_worker_processes import running_workers, wait_until

pytestmark = pytest.mark.slow
REMINDERS = 240


@pytest.fixture
def config_overrides():
    return {"CRM_QUEUE_IMMEDIATE": False}


@pytest.fixture
def smtp():
    with smtp_server() as (url, box):
        yield url, box


@pytest.fixture
def start_worker(app, database_url, tmp_path, smtp):
    from tests.servers import ROOT

    base_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "CRM_INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": "test-secret-key-for-the-suite-0123456789",
        "CRM_SMTP_URL": smtp[0],
        "CRM_MAIL_FROM": "Followup <crm@acme.test>",
        "CRM_BASE_URL": "https://crm.acme.test",
        "CRM_QUEUE_POLL_SECONDS": "0.2",
    }
    with running_workers(base_env, tmp_path) as start:
        yield lambda clock_offset: start(CRM_CLOCK_OFFSET_SECONDS=str(int(clock_offset.total_seconds())))


def reminded(app) -> int:
    with app.app_context():
        count = db.session.execute(select(func.count()).where(Task.reminded_at.is_not(None))).scalar()
        db.session.commit()
        return count


def test_killed_then_two_workers_send_every_due_reminder_exactly_once(app, api, smtp, start_worker):
    # Only reminders are counted: no digest, which the workers' clocks 3 hours ahead would mail
    # once past 08:00.
    assert api.patch("/users/me/notification-settings", {"digest": {"enabled": False}}).status_code == 200
    due = utcnow().replace(second=0) + timedelta(hours=3)
    ids = []
    for n in range(REMINDERS):
        task = api.create("/tasks", {"title": f"Call customer {n}", "due_at": due.isoformat() + "Z",
                                     "reminder": {"type": "email", "before_minutes": 30}})
        ids.append(task["id"])
    _url, mailbox = smtp

    # The workers' clocks are 3 hours ahead: every reminder is due. The first worker is killed as
    # soon as it has fired some (a periodic run starts at the top of a minute).
    first = start_worker(timedelta(hours=3))
    wait_until(lambda: reminded(app) > 0 or len(mailbox.messages) > 0, timeout=150, what="the first reminders")
    first.kill()
    sent_before_kill = len(mailbox.messages)
    assert sent_before_kill < REMINDERS, "the first worker was to be killed mid-way"

    # Two workers at once, their clocks past the killed worker's leases too.
    later = timedelta(hours=3, minutes=10)
    one, two = start_worker(later), start_worker(later)
    wait_until(lambda: reminded(app) == REMINDERS and len(mailbox.messages) >= REMINDERS, timeout=200,
               what="every reminder")
    one.stop(), two.stop()

    subjects = collections.Counter(m["Subject"] for m in mailbox.messages)
    assert subjects == collections.Counter({f"Reminder: Call customer {n}": 1 for n in range(REMINDERS)})
    assert {rcpt for _from, rcpts in mailbox.envelopes for rcpt in rcpts} == {"owner@acme.test"}
    with app.app_context():
        per_task = collections.Counter(db.session.execute(
            select(Notification.task_id).where(Notification.kind == "reminder")).scalars())
    assert per_task == collections.Counter({task_id: 1 for task_id in ids})
