"""The demo workspace (`python app.py --demo`, `flask crm seed-demo`) holds together the way a
salesperson's CRM does: records that are linked belong to each other, names are not repeated
(but for one documented duplicate), e-mail addresses are what a mail server would accept."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from crm import create_app
from crm.extensions import db
from crm.models import Activity, ActivityAttendee, Company, Contact, Deal, Task, User
from crm.services.demo import DUPLICATE_NAME, bootstrap_demo
from tests.conftest import BASE_CONFIG


@dataclass
class Demo:
    app: object
    key: str
    companies: dict[str, Company]
    contacts: dict[str, Contact]
    deals: dict[str, Deal]
    tasks: list[Task]
    activities: list[Activity]
    attendees: list[ActivityAttendee]
    users: list[User]

    def get(self, path: str):
        return self.app.test_client().get(f"/api/v1{path}", headers={"X-Api-Key": self.key})

    def post(self, path: str, body: dict):
        return self.app.test_client().post(f"/api/v1{path}", json=body, headers={"X-Api-Key": self.key})


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo exactly as `python app.py --demo` makes it (default sizes), read once."""
    folder = tmp_path_factory.mktemp("demo")
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite3'}"})
    out = io.StringIO()
    with app.app_context():
        bootstrap_demo(print_to=out)
        key = re.search(r"API key:\s+(\S+)", out.getvalue()).group(1)
        session = db.session
        result = Demo(
            app, key,
            {c.id: c for c in session.execute(select(Company)).unique().scalars()},
            {c.id: c for c in session.execute(select(Contact)).unique().scalars()},
            {d.id: d for d in session.execute(select(Deal)).unique().scalars()},
            list(session.execute(select(Task)).unique().scalars()),
            list(session.execute(select(Activity)).unique().scalars()),
            list(session.execute(select(ActivityAttendee)).unique().scalars()),
            list(session.execute(select(User)).unique().scalars()),
        )
        session.expunge_all()
    yield result
    with app.app_context():
        db.engine.dispose()


def full_name(contact: Contact) -> str:
    return f"{contact.first_name} {contact.last_name}"


def test_demo_has_a_pipeline_worth_looking_at(demo):
    assert len(demo.companies) == 20 and len(demo.contacts) == 80 and len(demo.deals) == 30
    assert len(demo.tasks) == 300 and len(demo.activities) == 400 and len(demo.users) == 3
    assert {t.status for t in demo.tasks} == {"pending", "in_progress", "completed", "cancelled"}
    assert sum(1 for t in demo.tasks if t.deal_id) > 50
    assert sum(1 for a in demo.activities if a.deal_id) > 50


def test_every_contact_works_at_a_company_and_every_deal_is_with_its_companys_contact(demo):
    assert all(c.company_id in demo.companies for c in demo.contacts.values())
    for deal in demo.deals.values():
        assert deal.company_id in demo.companies, deal.name
        assert demo.contacts[deal.contact_id].company_id == deal.company_id, deal.name
        assert deal.name.startswith(demo.companies[deal.company_id].name + " — ")


@pytest.mark.parametrize("kind", ["tasks", "activities"])
def test_a_tasks_or_activitys_contact_company_and_deal_agree(demo, kind):
    for record in getattr(demo, kind):
        contact = demo.contacts[record.contact_id]
        assert record.company_id == contact.company_id, record.id
        if record.deal_id:
            assert demo.deals[record.deal_id].company_id == record.company_id, record.id
        company = demo.companies[record.company_id].name
        text = record.title if kind == "tasks" else f"{record.subject} {record.body}"
        assert company in text or contact.first_name in text, (text, company, contact.first_name)


def test_meeting_attendees_work_at_the_meetings_company(demo):
    by_activity = Counter(link.activity_id for link in demo.attendees)
    meetings = {a.id: a for a in demo.activities if a.type == "meeting"}
    assert meetings and set(by_activity) == set(meetings)
    for link in demo.attendees:
        assert demo.contacts[link.contact_id].company_id == meetings[link.activity_id].company_id


def test_full_names_are_unique_but_for_the_one_documented_duplicate(demo):
    names = Counter(full_name(c) for c in demo.contacts.values())
    assert {name: n for name, n in names.items() if n > 1} == {" ".join(DUPLICATE_NAME): 2}
    twins = [c for c in demo.contacts.values() if full_name(c) == " ".join(DUPLICATE_NAME)]
    assert sorted(demo.companies[c.company_id].name for c in twins) == ["Stark Logistics", "Wayne Foods"]
    assert len({u.name for u in demo.users}) == len(demo.users)
    assert len({c.name for c in demo.companies.values()}) == 20
    assert len({d.name for d in demo.deals.values()}) == 30


def test_the_readme_names_resolve_and_the_duplicate_is_ambiguous(demo):
    for name in ("ada lovelace", "søren kierkegaard", "grace hopper"):
        response = demo.post("/tasks", {"title": "Say hello", "contact_name": name})
        assert response.status_code == 201, (name, response.get_json())
    response = demo.post("/tasks", {"title": "Which one?", "contact_name": "maría garcía"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "ambiguous_reference"
    assert sorted(c["name"] for c in error["details"]["candidates"]) == ["María García"] * 2


def test_email_addresses_are_the_transliterated_name_at_the_company_domain(demo):
    by_name = {full_name(c): c.email for c in demo.contacts.values()}
    assert by_name["Søren Kierkegaard"] == "soren.kierkegaard@globex.io"
    for contact in demo.contacts.values():
        local, _, domain = contact.email.partition("@")
        assert re.fullmatch(r"[a-z]+\.[a-z]+", local), contact.email
        assert domain == demo.companies[contact.company_id].domain
    accented = [c for c in demo.contacts.values() if not full_name(c).isascii()]
    assert len(accented) >= 10
    expected = {"Ł": "l", "Đ": "d", "đ": "d", "Æ": "ae", "ø": "o", "Ø": "o", "ü": "u", "é": "e", "ë": "e",
                "í": "i", "á": "a", "è": "e", "ć": "c", "ö": "o", "ó": "o"}
    for contact in accented:
        folded = "".join(expected.get(ch, ch) for ch in full_name(contact)).lower().replace(" ", ".")
        assert contact.email.split("@")[0] == folded, contact.email
    assert len({c.email for c in demo.contacts.values()}) == 80
    assert all(u.email.isascii() for u in demo.users)


def test_each_salesperson_owns_accounts_and_the_demo_key_has_work_of_its_own(demo):
    owners = Counter(t.owner_id for t in demo.tasks)
    assert set(owners) == {u.id for u in demo.users} and min(owners.values()) >= 50
    for company_id in demo.companies:
        company_tasks = [t for t in demo.tasks if t.company_id == company_id]
        top = Counter(t.owner_id for t in company_tasks).most_common(1)[0][1]
        assert top >= len(company_tasks) / 2
    body = demo.get("/tasks?owner_id=me&status=pending,in_progress&include_total=true").get_json()
    assert body["total"] >= 30


def test_seeding_a_workspace_that_has_records_again_is_refused_and_adds_nothing(runner, app):
    runner.invoke(args=["crm", "create-user", "--email", "a@b.co", "--name", "A", "--admin"])
    first = runner.invoke(args=["crm", "seed-demo", "--tasks", "10", "--activities", "10"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "3 users, 20 companies, 80 contacts, 30 deals, 10 tasks, 10 activities"
    again = runner.invoke(args=["crm", "seed-demo", "--tasks", "10", "--activities", "10"])
    assert again.exit_code == 1
    assert "already has companies or contacts" in again.output
    with app.app_context():
        assert db.session.query(Contact).count() == 80 and db.session.query(Task).count() == 10
