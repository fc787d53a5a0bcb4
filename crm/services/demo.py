"""Demo data: a small, living CRM for a new user to look around in."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta
from typing import TextIO

from sqlalchemy import select

from crm.database import writing
from crm.extensions import db
from crm.models import User, Workspace, utcnow
from crm.services import accounts, activities, records, tasks

FIRST = ["Ada", "Grace", "Alan", "Hans", "Zoë", "Marie", "Kenji", "Amara", "Lucía", "Ole", "Priya",
         "Tomás", "Ingrid", "Yusuf", "Chloé", "Mateo", "Saanvi", "Nils", "Aoife", "Jonas"]
LAST = ["Lovelace", "Hopper", "Turing", "Müller", "Okafor", "Curie", "Tanaka", "Silva", "García",
        "Nordmann", "Sharma", "Ribeiro", "Larsen", "Demir", "Lefèvre", "Rossi", "Kowalski", "Byrne"]
COMPANIES = [("Acme Robotics", "acme-robotics.com"), ("Globex", "globex.io"), ("Initech", "initech.com"),
             ("Umbrella Health", "umbrella-health.org"), ("Stark Logistics", "starklogistics.com"),
             ("Wayne Foods", "waynefoods.co"), ("Hooli", "hooli.xyz"), ("Vandelay Imports", "vandelay.com"),
             ("Soylent Kitchens", "soylent.kitchen"), ("Tyrell Bio", "tyrell.bio"), ("Cyberdyne", "cyberdyne.ai"),
             ("Nakatomi Trading", "nakatomi.jp"), ("Oceanic Air", "oceanic-air.com"), ("Pied Piper", "piedpiper.com"),
             ("Wonka Industries", "wonka.com"), ("Dunder Paper", "dunderpaper.com"), ("Aperture Labs", "aperture.science"),
             ("Massive Dynamic", "massivedynamic.com"), ("Monarch Solutions", "monarch.solutions"),
             ("Blue Sun", "bluesun.co")]
STAGES = ["lead", "qualified", "demo", "proposal", "negotiation", "won", "lost"]
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


def seed_demo(workspace: Workspace, *, task_count: int = 300, activity_count: int = 400, seed: int = 7) -> dict[str, int]:
    """Companies, contacts, deals, users, tasks and activities that look like a real pipeline."""
    rng = random.Random(seed)
    now = utcnow()
    users = list(db.session.execute(select(User).where(User.workspace_id == workspace.id)).unique().scalars())
    suffix = workspace.id[-6:].lower()
    for name in ("Sam Rivera", "Noor Haddad"):
        if len(users) >= 3:
            break
        email = f"{name.split()[0].lower()}.{suffix}@example.com"
        users.append(accounts.find_user_by_email(email) or accounts.create_user(workspace, email=email, name=name))
    companies = [records.create_company(workspace.id, {"name": n, "domain": d, "metadata": {"industry": rng.choice(["saas", "retail", "health", "logistics"])}})
                 for n, d in COMPANIES]
    contacts = []
    for i in range(80):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = companies[i % len(companies)]
        contacts.append(records.create_contact(workspace.id, {
            "first_name": first, "last_name": last, "company_id": company.id,
            "email": f"{first.lower()}.{last.lower()}{i}@{company.domain}".encode("ascii", "ignore").decode(),
            "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        }))
    deals = []
    for _ in range(30):
        contact = rng.choice(contacts)
        deals.append(records.create_deal(workspace.id, {
            "name": f"{contact.company.name} — {rng.choice(['Pilot', 'Expansion', 'Renewal', 'Platform'])}",
            "stage": rng.choice(STAGES), "amount": f"{rng.randint(20, 900) * 100}.00", "currency": "EUR",
            "close_date": (now + timedelta(days=rng.randint(-30, 120))).date(),
            "company_id": contact.company_id, "contact_id": contact.id,
        }))
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
            "owner_id": rng.choice(users).id, "created_at": created,
            "tags": rng.sample(["renewal", "q3", "vip", "onboarding", "upsell"], rng.randint(0, 2)),
        }
        if rng.random() < 0.3:
            data["deal_id"] = rng.choice(deals).id
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
            "contact_id": contact.id, "company_id": contact.company_id, "owner_id": rng.choice(users).id,
            "occurred_at": now - timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 600)),
        }
        if kind == "call":
            data.update(direction=rng.choice(["inbound", "outbound"]), duration=rng.randint(60, 2400),
                        outcome=rng.choice(["connected", "voicemail", "no_answer"]))
        if kind == "meeting":
            data["attendees"] = [c.id for c in rng.sample(contacts, 2)]
        activities.log_activity(workspace.id, rng.choice(users).id, data)
    return {"users": len(users), "companies": len(companies), "contacts": len(contacts), "deals": len(deals),
            "tasks": task_count, "activities": activity_count}


def bootstrap_demo(print_to: TextIO) -> None:
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
        "  Sign in:  http://127.0.0.1:5000/login\n"
        f"  Email:    demo@example.com\n  Password: {password}\n"
        f"  API key:  {secret}\n"
        f"  Try:      curl -H 'X-Api-Key: {secret}' http://127.0.0.1:5000/api/v1/tasks?limit=2\n"
        "These are shown once; keep them.\n\n"
    )
    print_to.flush()
