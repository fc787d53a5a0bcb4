"""The API's fast dump path gives exactly what the Marshmallow output schemas give."""

from sqlalchemy import select

from crm.api.common import dump, dump_many
from crm.extensions import db
from crm.models import Activity, Company, Contact, Deal, Task, User
from crm.schemas import ActivityOut, CompanyOut, ContactOut, DealOut, TaskOut, UserOut


def test_fast_dump_equals_schema_dump_for_every_resource(app, api):
    acme = api.create("/companies", {"name": "Acme", "domain": "acme.com", "metadata": {"tier": 1}})
    ada = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace", "company_id": acme["id"]})
    deal = api.create("/deals", {"name": "Pilot", "amount": "1500.00", "currency": "EUR", "close_date": "2026-06-30",
                                 "contact_id": ada["id"]})
    api.create("/tasks", {"title": "Full", "description": "**Notes**", "type": "call", "priority": "urgent",
                          "due_at": "2026-05-01T09:30:00+02:00", "contact_id": ada["id"], "company_id": acme["id"],
                          "deal_id": deal["id"], "reminder": {"type": "push", "before_minutes": 15},
                          "tags": ["vip", "q3"], "metadata": {"nested": {"a": [1, 2.5, None]}},
                          "status": "completed", "completion_note": "done"})
    api.create("/tasks", {"title": "Bare"})
    api.create("/activities", {"type": "meeting", "subject": "Kickoff", "contact_id": ada["id"],
                               "attendees": [ada["id"]], "duration": 1800, "direction": "na",
                               "confidence_score": 0.75, "source": "gmail", "external_id": "m-1"})
    api.create("/activities", {"type": "note"})
    pairs = ((Task, TaskOut), (Activity, ActivityOut), (Company, CompanyOut), (Contact, ContactOut),
             (Deal, DealOut), (User, UserOut))
    with app.app_context():
        for model, schema_class in pairs:
            schema = schema_class()
            records = list(db.session.execute(select(model)).unique().scalars())
            assert records
            assert dump_many(schema, records) == schema.dump(records, many=True)
            for record in records:
                assert list(dump(schema, record).items()) == list(schema.dump(record).items())
            partial = schema_class(only=("id", "created_at"))
            assert dump_many(partial, records) == partial.dump(records, many=True)
