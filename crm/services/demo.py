"""Demo data: a small, living CRM for a new user to look around in."""

from __future__ import annotations

import random
import re
import secrets
from datetime import timedelta
from typing import TextIO

from sqlalchemy import select
from unidecode import unidecode

from crm.database import writing
from crm.extensions import db
from crm.models import Company, Contact, Deal, User, Workspace, utcnow
from crm.services import accounts, activities, records, tasks
from crm.services.errors import ServiceError

# First and last names are combined into unique full names; the accents are on purpose (name
# resolution and search ignore them, e-mail addresses transliterate them).
FIRST = ["Ada", "Grace", "Alan", "Hans", "Zoë", "Marie", "Kenji", "Amara", "Lucía", "Ole", "Priya",
         "Tomás", "Ingrid", "Yusuf", "Chloé", "Mateo", "Saanvi", "Nils", "Aoife", "Jonas", "Łukasz",
         "Đorđe", "Æsa", "Björn"]
LAST = ["Hopper", "Müller", "Okafor", "Curie", "Tanaka", "Silva", "Nordmann", "Sharma", "Ribeiro",
        "Larsen", "Demir", "Lefèvre", "Rossi", "Kowalski", "Byrne", "Ødegaard", "Nowak", "Jovanović"]
# Contacts every demo has, for the README's examples; one name twice, deliberately, at two
# companies, to show what an ambiguous name does (`ambiguous_reference` with both candidates).
FEATURED = [("Ada", "Lovelace"), ("Søren", "Kierkegaard"), ("Grace", "Hopper"), ("Alan", "Turing")]
DUPLICATE_NAME = ("María", "García")
COMPANIES = [("Acme Robotics", "acme-robotics.com"), ("Globex", "globex.io"), ("Initech", "initech.com"),
             ("Umbrella Health", "umbrella-health.org"), ("Stark Logistics", "starklogistics.com"),
             ("Wayne Foods", "waynefoods.co"), ("Hooli", "hooli.xyz"), ("Vandelay Imports", "vandelay.com"),
             ("Soylent Kitchens", "soylent.kitchen"), ("Tyrell Bio", "tyrell.bio"), ("Cyberdyne", "cyberdyne.ai"),
             ("Nakatomi Trading", "nakatomi.jp"), ("Oceanic Air", "oceanic-air.com"), ("Pied Piper", "piedpiper.com"),
             ("Wonka Industries", "wonka.com"), ("Dunder Paper", "dunderpaper.com"), ("Aperture Labs", "aperture.science"),
             ("Massive Dynamic", "massivedynamic.com"), ("Monarch Solutions", "monarch.solutions"),
             ("Blue Sun", "bluesun.co")]
INDUSTRIES = ["saas", "retail", "health", "logistics"]
DEAL_KINDS = ["Pilot", "Expansion", "Renewal", "Platform"]
STAGES = ["lead", "qualified", "demo", "proposal", "negotiation", "won", "lost"]
COLLEAGUES = ["Sam Rivera", "Noor Haddad"]
TASK_TEMPLATES = [
    ("call", "Call {first} about the renewal"), ("email", "Send the contract to {first}"),
    ("follow_up", "Follow up with {first} after the demo"), ("meeting", "Quarterly review with {company}"),
    ("todo", "Prepare proposal for {company}"), ("email", "Share pricing sheet with {first}"),
    ("todo", "Update {company} stakeholder map"), ("call", "Check in with {first} on onboarding"),
    ("follow_up", "Chase signed order form from {company}"), ("todo", "Draft case study with {company}"),
]
ACTIVITY_TEMPLATES = [
    ("call", "Discovery call with {first}", "Talked through their current process. Budget confirmed for Q3."),
    ("email", "Re: proposal for {company}", "{first} asked for a revised quote with **annual billing**."),
    ("meeting", "Demo for {company}", "Showed the task list and the API. Questions about SSO."),
    ("note", "Notes on {company}", "- Decision maker: {first}\n- Competitor: spreadsheets\n- Next: pilot"),
    ("sms", "Text with {first}", "Confirmed the meeting time."),
    ("email", "Intro: {first} <> our team", "Thanks for the intro! Let's find a time next week."),
]


class WorkspaceNotEmpty(ServiceError):
    code = "workspace_not_empty"

    def __init__(self, name: str):
        self.message = (f"Workspace {name!r} already has companies or contacts; demo data goes into an "
                        "empty workspace (its names would repeat).")
        super().__init__(self.message)


def email_local_part(first: str, last: str) -> str:
    """`first.last` in plain ASCII: "Søren Kierkegaard" is soren.kierkegaard."""
    return ".".join(re.sub(r"[^a-z0-9]+", "", unidecode(part).lower()) for part in (first, last))


def contact_names(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` full names, all different except the deliberate duplicate."""
    names = [*FEATURED, DUPLICATE_NAME, DUPLICATE_NAME]
    taken = set(names)
    pool = [(first, last) for first in FIRST for last in LAST if (first, last) not in taken]
    rng.shuffle(pool)
    return (names + pool)[:count]


def _colleagues(workspace: Workspace, suffix: str) -> list[User]:
    users = list(db.session.execute(
        select(User).where(User.workspace_id == workspace.id).order_by(User.created_at, User.id)
    ).unique().scalars())
    for name in COLLEAGUES:
        if len(users) >= 3:
            break
        email = f"{email_local_part(*name.split())}@example.com"
        # E-mails are unique per workspace: another workspace's demo has its own colleagues.
        existing = accounts.find_user_by_email(email, workspace.id)
        users.append(existing or accounts.create_user(workspace, email=email, name=name))
    return users


def seed_demo(workspace: Workspace, *, task_count: int = 300, activity_count: int = 400, seed: int = 7) -> dict[str, int]:
    """Companies, contacts, deals, users, tasks and activities that look like a real pipeline.

    Every contact works at a company; a deal is with one of its company's contacts; a task or an
    activity concerns one contact, that contact's company and, sometimes, one of that company's
    deals; meeting attendees work at the same company. Each company has an account owner, who
    owns most of its tasks and activities."""
    has_records = db.session.execute(
        select(Contact.id).where(Contact.workspace_id == workspace.id).limit(1)
    ).first() or db.session.execute(select(Company.id).where(Company.workspace_id == workspace.id).limit(1)).first()
    if has_records:
        raise WorkspaceNotEmpty(workspace.name)
    rng = random.Random(seed)
    now = utcnow()
    users = _colleagues(workspace, workspace.id[-6:].lower())
    companies = [records.create_company(workspace.id, {"name": n, "domain": d,
                                                       "metadata": {"industry": rng.choice(INDUSTRIES)}})
                 for n, d in COMPANIES]
    account_owner = {company.id: users[i % len(users)] for i, company in enumerate(companies)}
    contacts: list[Contact] = []
    staff: dict[str, list[Contact]] = {company.id: [] for company in companies}
    for i, (first, last) in enumerate(contact_names(80, rng)):
        company = companies[i % len(companies)]
        contact = records.create_contact(workspace.id, {
            "first_name": first, "last_name": last, "company_id": company.id,
            "email": f"{email_local_part(first, last)}@{company.domain}",
            "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        })
        contacts.append(contact)
        staff[company.id].append(contact)
    deals_of: dict[str, list[Deal]] = {company.id: [] for company in companies}
    deal_names = rng.sample([(company, kind) for company in companies for kind in DEAL_KINDS], 30)
    for company, kind in deal_names:
        contact = rng.choice(staff[company.id])
        deals_of[company.id].append(records.create_deal(workspace.id, {
            "name": f"{company.name} — {kind}",
            "stage": rng.choice(STAGES), "amount": f"{rng.randint(20, 900) * 100}.00", "currency": "EUR",
            "close_date": (now + timedelta(days=rng.randint(-30, 120))).date(),
            "company_id": company.id, "contact_id": contact.id,
        }))

    def owner_of(contact: Contact) -> str:
        owner = account_owner[contact.company_id] if rng.random() < 0.85 else rng.choice(users)
        return owner.id

    def maybe_deal(contact: Contact, chance: float) -> dict:
        deals = deals_of[contact.company_id]
        return {"deal_id": rng.choice(deals).id} if deals and rng.random() < chance else {}

    for _ in range(task_count):
        contact = rng.choice(contacts)
        kind, title = rng.choice(TASK_TEMPLATES)
        created = now - timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 23))
        status = rng.choices(["pending", "in_progress", "completed", "cancelled"], [55, 15, 25, 5])[0]
        data = {
            "title": title.format(first=contact.first_name, company=contact.company.name),
            "type": kind, "status": status,
            "priority": rng.choices(["low", "normal", "high", "urgent"], [20, 50, 22, 8])[0],
            "due_at": now + timedelta(days=rng.randint(-10, 21), hours=rng.randint(8, 17) - now.hour),
            "contact_id": contact.id, "company_id": contact.company_id,
            "owner_id": owner_of(contact), "created_at": created,
            "tags": rng.sample(["renewal", "q3", "vip", "onboarding", "upsell"], rng.randint(0, 2)),
            **maybe_deal(contact, 0.4),
        }
        if rng.random() < 0.3:
            data["description"] = f"Context: {contact.name} asked for this on our last call.\n\n- check the **numbers**\n- attach the deck"
        if status == "completed":
            data["completed_at"] = min(now, created + timedelta(days=rng.randint(0, 5)))
        tasks.create_task(workspace.id, rng.choice(users).id, data)
    for _ in range(activity_count):
        contact = rng.choice(contacts)
        kind, subject, body = rng.choice(ACTIVITY_TEMPLATES)
        fmt = {"first": contact.first_name, "company": contact.company.name}
        data = {
            "type": kind, "subject": subject.format(**fmt), "body": body.format(**fmt),
            "contact_id": contact.id, "company_id": contact.company_id, "owner_id": owner_of(contact),
            "occurred_at": now - timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 600)),
            **maybe_deal(contact, 0.3),
        }
        if kind == "call":
            data.update(direction=rng.choice(["inbound", "outbound"]), duration=rng.randint(60, 2400),
                        outcome=rng.choice(["connected", "voicemail", "no_answer"]))
        if kind == "meeting":
            colleagues = [c for c in staff[contact.company_id] if c.id != contact.id]
            data["attendees"] = [contact.id, *(c.id for c in rng.sample(colleagues, min(2, len(colleagues))))]
        activities.log_activity(workspace.id, rng.choice(users).id, data)
    return {"users": len(users), "companies": len(companies), "contacts": len(contacts),
            "deals": sum(len(d) for d in deals_of.values()), "tasks": task_count, "activities": activity_count}


def bootstrap_demo(print_to: TextIO, base_url: str = "http://127.0.0.1:5000") -> None:
    """First run of `python app.py --demo`: a workspace, an admin, an API key and demo data."""
    with writing():
        if accounts.user_count() > 0:
            print_to.write(
                "Followup: the database already has users; sign in with your account.\n"
                "  Forgot the password?  flask crm set-password --email demo@example.com\n"
                "  A new API key:        flask crm create-api-key --email demo@example.com\n"
                "  Start over:           stop the app, delete instance/crm.sqlite3*, start again\n")
            return
        workspace = accounts.create_workspace("Demo workspace")
        password = secrets.token_urlsafe(9)
        admin = accounts.create_user(workspace, email="demo@example.com", name="Demo Admin",
                                     password=password, role="admin")
        _key, secret = accounts.create_api_key(admin, label="demo")
        seed_demo(workspace)
    print_to.write(
        "\nFollowup demo is ready.\n"
        f"  Sign in:  {base_url}/login\n"
        f"  Email:    demo@example.com\n  Password: {password}\n"
        f"  API key:  {secret}\n"
        f"  Try:      curl -H 'X-Api-Key: {secret}' '{base_url}/api/v1/users/me'\n"
        "These are shown once; keep them.\n\n"
    )
    print_to.flush()
