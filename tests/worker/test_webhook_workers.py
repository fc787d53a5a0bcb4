"""Webhooks through real `flask crm worker` processes and a real receiver on 127.0.0.1: a change
committed while no worker runs is delivered when one starts; a worker killed with SIGKILL while the
receiver holds the request open is followed by a worker that delivers it again."""

from __future__ import annotations

import os
import threading

import pytest

from crm.extensions import db
from crm.models import WebhookDelivery
from tests.receiver import webhook_receiver
from tests.servers import ROOT
from tests.worker.test_worker_processes import LEASE_SECONDS, running_workers, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def config_overrides():
    return {"CRM_QUEUE_IMMEDIATE": False, "CRM_WEBHOOK_ALLOW_PRIVATE": True, "CRM_WEBHOOK_ALLOW_HTTP": True}


@pytest.fixture
def receiver():
    with webhook_receiver() as box:
        yield box


@pytest.fixture
def start_worker(app, database_url, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "CRM_INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": "test-secret-key-for-the-suite-0123456789",
        "CRM_QUEUE_POLL_SECONDS": "0.2",
        "CRM_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "CRM_WEBHOOK_ALLOW_PRIVATE": "true",
        "CRM_WEBHOOK_ALLOW_HTTP": "true",
    }
    with running_workers(env, tmp_path) as start:
        yield start


def delivery_states(app) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.query(WebhookDelivery.state, WebhookDelivery.attempts).all()
        db.session.commit()
        return [tuple(r) for r in rows]


def test_a_change_committed_while_no_worker_runs_is_delivered_when_one_starts(app, api, receiver, start_worker):
    hook = api.create("/webhooks", {"url": receiver.url, "events": ["task.created"]})
    task = api.create("/tasks", {"title": "Committed with no worker"})
    assert receiver.requests == [] and delivery_states(app) == [("pending", 0)]

    start_worker()
    wait_until(lambda: delivery_states(app) == [("succeeded", 1)], what="the delivery")
    [payload] = receiver.payloads(hook["secret"])
    assert payload["type"] == "task.created" and payload["data"]["id"] == task["id"]


def test_a_worker_killed_mid_delivery_is_followed_by_one_that_delivers_again(app, api, receiver, start_worker):
    receiver.hold = threading.Event()  # the receiver keeps the first request open
    hook = api.create("/webhooks", {"url": receiver.url, "events": ["task.created"]})
    api.create("/tasks", {"title": "Delivered twice at least"})

    first = start_worker()
    assert receiver.arrived.wait(60), "the first worker never called the receiver"
    first.kill()
    assert delivery_states(app) == [("sending", 1)]
    receiver.hold.set()

    # Later, past the dead worker's lease: its outbox row is claimed again, the delivery retried.
    start_worker(CRM_CLOCK_OFFSET_SECONDS=str(LEASE_SECONDS + 60))
    wait_until(lambda: delivery_states(app) == [("succeeded", 2)], what="the second worker's delivery")
    one, two = receiver.requests
    assert one.headers["webhook-id"] == two.headers["webhook-id"] and one.body == two.body
    assert two.verified(hook["secret"])["type"] == "task.created"
