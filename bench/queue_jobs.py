"""The handler the queue benchmark measures: one small write per row, in the row's own
transaction (what creating an in-app notification costs). Loaded through CRM_JOB_MODULES."""

from crm.extensions import db
from crm.models import Workspace
from crm.services import outbox


@outbox.handler("bench.write")
def write_one_row(payload: dict) -> None:
    db.session.add(Workspace(name=f"bench {payload['n']}"))
