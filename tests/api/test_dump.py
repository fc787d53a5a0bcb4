"""The API's fast dump path gives exactly what the Marshmallow output schemas give."""

from sqlalchemy import select

from crm.api.common import dump, dump_many
from crm.extensions import db
from crm.models import Activity, Company, Contact, Deal, Task, User
from crm.schemas import ActivityOut, CompanyOut, ContactOut, DealOut, TaskOut, UserOut
from crm.services import activities, records, tasks


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


def test_list_rows_dump_like_the_records_they_are_read_from(app, api):
    """API lists read plain rows (crm/services/rows.py); every field must come out as it does
    from the model's objects: linked names, computed fields, attendees in their order."""
    acme = api.create("/companies", {"name": "Acme", "domain": "acme.com", "metadata": {"tier": 1}})
    ada = api.create("/contacts", {"first_name": "Ada", "last_name": "Lovelace", "company_id": acme["id"]})
    bob = api.create("/contacts", {"first_name": "Bob", "email": "bob@example.com"})
    cleo = api.create("/contacts", {"first_name": "Cleo"})
    deal = api.create("/deals", {"name": "Pilot", "amount": "1500.00", "currency": "EUR", "contact_id": ada["id"]})
    api.create("/tasks", {"title": "Full", "priority": "urgent", "due_at": "2026-05-01T09:30:00Z",
                          "contact_id": ada["id"], "company_id": acme["id"], "deal_id": deal["id"],
                          "reminder": {"type": "push", "before_minutes": 15}, "tags": ["vip", "q3"],
                          "metadata": {"n": {"a": [1, 2.5, None]}}, "status": "completed"})
    api.create("/tasks", {"title": "Bare"})
    api.create("/tasks", {"title": "Bob's", "contact_id": bob["id"]})
    api.create("/activities", {"type": "meeting", "contact_id": ada["id"], "attendees": [cleo["id"], bob["id"], ada["id"]],
                               "duration": 1800, "confidence_score": 0.75})
    api.create("/activities", {"type": "note", "attendees": [ada["id"]]})
    api.create("/activities", {"type": "call"})
    api.delete(f"/contacts/{bob['id']}")  # a task and an attendee list lose a link

    listings = ((tasks.list_tasks, TaskOut), (activities.list_activities, ActivityOut),
                (records.list_companies, CompanyOut), (records.list_contacts, ContactOut),
                (records.list_deals, DealOut), (records.list_users, UserOut))
    with app.app_context():
        for list_fn, schema_class in listings:
            schema = schema_class()
            as_objects = list_fn(api.workspace_id, {})
            as_rows = list_fn(api.workspace_id, {}, rows=True)
            assert as_objects.items, list_fn.__name__
            assert dump_many(schema, as_rows.items) == schema.dump(as_objects.items, many=True)
            db.session.rollback()
        listed = {a["type"]: a for a in dump_many(ActivityOut(), activities.list_activities(
            api.workspace_id, {}, rows=True).items)}
    assert listed["note"]["attendees"] == [ada["id"]]
    assert listed["meeting"]["attendees"] == [cleo["id"], ada["id"]]  # as given, not by id
    assert listed["meeting"]["relationships"]["contact"] == {"type": "contact", "id": ada["id"], "name": "Ada Lovelace"}
    assert listed["call"]["attendees"] == []
