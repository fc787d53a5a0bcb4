"""Outbox handlers for the worker tests, loaded only when CRM_JOB_MODULES names this module.

- `test.record` (transactional): adds a workspace named after the row, in the row's own
  transaction, so "handled exactly once" is a count of workspaces.
- `test.append` (outside the database): appends "n pid" to the file CRM_TEST_JOB_LOG, the kind
  of effect an e-mail is.
"""

from __future__ import annotations

import os
import time

from crm.extensions import db
from crm.models import Workspace
from crm.services import outbox


@outbox.handler("test.record")
def record(payload: dict) -> None:
    time.sleep(payload.get("sleep", 0))
    db.session.add(Workspace(name=f"job {payload['n']}"))


@outbox.handler("test.append", transactional=False)
def append(payload: dict) -> None:
    time.sleep(payload.get("sleep", 0))
    with open(os.environ["CRM_TEST_JOB_LOG"], "a") as fh:
        fh.write(f"{payload['n']} {os.getpid()}\n")
