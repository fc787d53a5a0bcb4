"""For the worker tests with an app server: every task created gets a `test.task_created` outbox
row in its own transaction, handled outside the database (a line in CRM_TEST_JOB_LOG). Loaded
only when CRM_JOB_MODULES names this module."""

from __future__ import annotations

import os

from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.models import Task, new_id
from crm.services import outbox


@outbox.handler("test.task_created", transactional=False)
def task_created(payload: dict) -> None:
    with open(os.environ["CRM_TEST_JOB_LOG"], "a") as fh:
        fh.write(f"{payload['task_id']} {os.getpid()}\n")


@event.listens_for(Session, "before_flush")
def queue_new_tasks(session, _context, _instances) -> None:
    for obj in list(session.new):
        if isinstance(obj, Task):
            obj.id = obj.id or new_id("task")
            outbox.add("test.task_created", {"task_id": obj.id})
