"""A large, realistic workspace for the benchmarks, built through the importer's batch path.

Every row goes through `transfer.Importer.import_batch`: validated by the API's input schemas,
built by the same service rules as the API (`build_task`, `build_activity`, ...), then saved
one multi-row INSERT per batch. Nothing is written around the rules.

The result is cached: `seeded_sqlite()` returns the path of a database file under
bench/.data/ for a given size, building it only when it is missing.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"

FIRST_NAMES = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger",
               "Hedy", "John", "Radia", "Tim", "Sophie", "Donald", "Katherine", "Niklaus", "Joan", "Guido",
               "Zoë", "Hans", "Chloé", "Björn", "Ines", "Mateo", "Aiko", "Kwame", "Priya", "Omar")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie",
              "Allen", "Dijkstra", "Lamarr", "McCarthy", "Perlman", "Berners-Lee", "Wilson", "Knuth",
              "Johnson", "Wirth", "Clarke", "van Rossum", "Okafor", "Müller", "Dubois", "Lindqvist",
              "García", "Rossi", "Tanaka", "Mensah", "Sharma", "Haddad", "Novak", "Kowalski", "Silva")
COMPANY_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell",
                 "Cyberdyne", "Soylent", "Wonka", "Aperture", "Black Mesa", "Oscorp", "Pied Piper")
COMPANY_KINDS = ("Robotics", "Logistics", "Labs", "Foods", "Systems", "Media", "Health", "Energy", "Capital")
TOPICS = ("renewal", "contract", "pricing", "onboarding", "invoice", "demo", "integration", "security review",
          "quote", "proposal", "pilot", "training", "support ticket", "upgrade", "budget", "kickoff",
          "feedback", "roadmap", "procurement", "legal terms", "expansion", "churn risk", "case study",
          "reference call", "data migration", "SSO setup", "API limits", "billing address", "PO number",
          "NDA", "trial extension", "webinar", "workshop", "QBR", "price increase", "discount", "SLA",
          "implementation plan", "go-live date", "handover")
TASK_VERBS = {"call": "Call", "email": "Email", "meeting": "Meet", "follow_up": "Follow up with", "todo": "Prepare"}
STAGES = ("lead", "qualified", "demo", "proposal", "negotiation", "won", "lost")
TAGS = ("vip", "q3", "q4", "renewal", "inbound", "partner", "urgent-customer", "expansion")


@dataclass
class Seeded:
    """What the benchmark needs to know about a seeded database (kept next to it as JSON)."""

    url: str
    workspace_id: str
    api_key: str
    admin_email: str
    admin_password: str
    owner_ids: list[str]
    contact_ids: list[str]
    tasks: int
    activities: int
    seconds: dict[str, float]
    rows_per_second: float


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class RowMaker:
    """Deterministic rows shaped like a sales team's three years of work."""

    def __init__(self, seed: int, now: datetime, companies: int, contacts: int, deals: int, owners: list[str]):
        self.rng = random.Random(seed)
        self.now = now
        self.start = now - timedelta(days=3 * 365)
        self.owners = owners
        rng = self.rng
        from crm.models import new_id

        self.company_rows = []
        for i in range(companies):
            name = f"{COMPANY_WORDS[i % len(COMPANY_WORDS)]} {COMPANY_KINDS[(i // len(COMPANY_WORDS)) % len(COMPANY_KINDS)]} {i}"
            self.company_rows.append({"kind": "company", "id": new_id("comp"), "name": name,
                                      "domain": f"company{i}.example.com"})
        self.contact_rows = []
        for i in range(contacts):
            company = self.company_rows[rng.randrange(companies)]
            first, last = rng.choice(FIRST_NAMES), f"{rng.choice(LAST_NAMES)}{i}"
            self.contact_rows.append({"kind": "contact", "id": new_id("cont"), "first_name": first, "last_name": last,
                                      "email": f"contact{i}@company.example.com", "phone": f"+1 555 {i:07d}",
                                      "company_id": company["id"]})
        self.deal_rows = []
        for i in range(deals):
            contact = self.contact_rows[rng.randrange(contacts)]
            self.deal_rows.append({"kind": "deal", "id": new_id("deal"), "name": f"Deal {i}: {rng.choice(TOPICS)}",
                                   "stage": rng.choice(STAGES), "amount": f"{rng.randint(1, 500) * 100}.00",
                                   "currency": "EUR", "company_id": contact["company_id"], "contact_id": contact["id"]})
        self.deals_by_company: dict[str, list[str]] = {}
        for deal in self.deal_rows:
            self.deals_by_company.setdefault(deal["company_id"], []).append(deal["id"])

    def records(self) -> Iterator[dict]:
        yield from self.company_rows
        yield from self.contact_rows
        yield from self.deal_rows

    def _moment(self, i: int, n: int) -> datetime:
        """Row i of n, in time order over the three years, to the second, never in the future."""
        span = (self.now - timedelta(hours=1) - self.start).total_seconds()
        return self.start + timedelta(seconds=int(span * i / max(n, 1)) + self.rng.randint(0, 600))

    def task(self, i: int, n: int) -> dict:
        rng = self.rng
        contact = self.contact_rows[rng.randrange(len(self.contact_rows))] if rng.random() < 0.85 else None
        kind = rng.choice(tuple(TASK_VERBS))
        topic = rng.choice(TOPICS)
        who = contact["first_name"] + " " + contact["last_name"] if contact else "the team"
        created = self._moment(i, n)
        roll = rng.random()
        status = "pending" if roll < 0.45 else "in_progress" if roll < 0.55 else "completed" if roll < 0.95 else "cancelled"
        row = {"kind": "task", "title": f"{TASK_VERBS[kind]} {who} about the {topic}", "type": kind,
               "status": status, "priority": rng.choice(("low", "normal", "normal", "normal", "high", "urgent")),
               "owner_email": rng.choice(self.owners), "created_at": _iso(created)}
        if rng.random() < 0.35:
            row["description"] = (f"Notes: {who} asked about the {rng.choice(TOPICS)} and the {topic}. "
                                  "Check the last email thread and the open quote before replying.")
        if rng.random() < 0.88:
            if status in ("pending", "in_progress"):
                due = self.now + timedelta(days=rng.uniform(-30, 120))
            else:
                due = created + timedelta(days=rng.uniform(0, 14))
            row["due_at"] = _iso(due)
        if status == "completed":
            row["completed_at"] = _iso(min(created + timedelta(days=rng.uniform(0, 20)), self.now))
            if rng.random() < 0.3:
                row["completion_note"] = "Done, see the activity log."
        if contact:
            row["contact_id"] = contact["id"]
            row["company_id"] = contact["company_id"]
            deals = self.deals_by_company.get(contact["company_id"])
            if deals and rng.random() < 0.4:
                row["deal_id"] = rng.choice(deals)
        if rng.random() < 0.3:
            row["tags"] = rng.sample(TAGS, rng.randint(1, 2))
        if rng.random() < 0.1:
            row["reminder"] = {"type": "email", "before_minutes": 60}
        return row

    def activity(self, i: int, n: int) -> dict:
        rng = self.rng
        contact = self.contact_rows[rng.randrange(len(self.contact_rows))] if rng.random() < 0.9 else None
        kind = rng.choice(("call", "call", "email", "email", "email", "meeting", "note", "sms"))
        topic = rng.choice(TOPICS)
        who = contact["first_name"] + " " + contact["last_name"] if contact else "the team"
        occurred = self._moment(i, n)
        row = {"kind": "activity", "type": kind, "subject": f"{kind.capitalize()} with {who}: {topic}",
               "occurred_at": _iso(occurred), "created_at": _iso(min(occurred + timedelta(minutes=5), self.now)),
               "owner_email": rng.choice(self.owners)}
        if rng.random() < 0.5:
            row["body"] = f"We talked about the {topic}. Next step: send the {rng.choice(TOPICS)} by Friday."
        if contact:
            row["contact_id"] = contact["id"]
            row["company_id"] = contact["company_id"]
            deals = self.deals_by_company.get(contact["company_id"])
            if deals and rng.random() < 0.2:
                row["deal_id"] = rng.choice(deals)
        if kind == "call":
            row.update(direction=rng.choice(("inbound", "outbound")), duration=rng.randint(30, 3600),
                       outcome=rng.choice(("connected", "voicemail", "no_answer", "busy")))
        if kind == "meeting" and contact:
            others = {self.contact_rows[rng.randrange(len(self.contact_rows))]["id"] for _ in range(rng.randint(0, 2))}
            row["attendees"] = [contact["id"], *sorted(others - {contact["id"]})]
        if kind == "email" and rng.random() < 0.5:
            row.update(source="gmail", external_id=f"gmail-{i}", direction=rng.choice(("inbound", "outbound")))
        return row


def seed(tasks: int, activities: int, *, batch_size: int = 2000,
         report: Callable[[str], None] = print) -> dict:
    """Fill the current app's (empty) database. Returns Seeded fields except `url`."""
    from crm.database import writing
    from crm.services import accounts, transfer

    timings: dict[str, float] = {}
    started = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with writing():
        workspace = accounts.create_workspace("Benchmark")
        admin_password = "bench-password-1"
        admin = accounts.create_user(workspace, email="bench-admin@example.com", name="Bench Admin",
                                     password=admin_password, role="admin")
        owners = [accounts.create_user(workspace, email=f"owner{i}@example.com", name=f"Owner {i}")
                  for i in range(25)]
        _, secret = accounts.create_api_key(admin, label="benchmark")
        admin_email = admin.email
        owner_ids = [o.id for o in owners]
        owner_emails = [o.email for o in owners]
        workspace_id = workspace.id
        # A realistic ratio: a few thousand accounts, tens of thousands of people.
        scale = max(tasks, activities)
        maker = RowMaker(7, now, companies=max(20, scale // 200), contacts=max(50, scale // 50),
                         deals=max(20, scale // 200), owners=owner_emails)
        importer = transfer.Importer(workspace_id, admin)

        def run(label: str, rows: Iterator[dict], total: int) -> None:
            began = time.perf_counter()
            done = 0
            numbered = ((line, row) for line, row in enumerate(rows, start=1))
            for batch in transfer.batched(numbered, batch_size):
                result = importer.import_batch(batch)
                if result.errors:
                    raise RuntimeError(f"{label}: rejected rows, first: {result.errors[0]}")
                done += result.created
                if done % (batch_size * 25) < batch_size or done == total:
                    rate = done / (time.perf_counter() - began)
                    report(f"  {label}: {done:,}/{total:,} ({rate:,.0f} rows/s)")
            timings[label] = round(time.perf_counter() - began, 1)

        records = len(maker.company_rows) + len(maker.contact_rows) + len(maker.deal_rows)
        run("records", maker.records(), records)
        run("tasks", (maker.task(i, tasks) for i in range(tasks)), tasks)
        run("activities", (maker.activity(i, activities) for i in range(activities)), activities)
    timings["total"] = round(time.perf_counter() - started, 1)
    rows = records + tasks + activities
    return {
        "workspace_id": workspace_id, "api_key": secret, "admin_email": admin_email,
        "admin_password": admin_password, "owner_ids": owner_ids,
        "contact_ids": [r["id"] for r in maker.contact_rows[:200]],
        "tasks": tasks, "activities": activities, "seconds": timings,
        "rows_per_second": round(rows / timings["total"]),
    }


def bench_env() -> dict[str, str]:
    """Environment for every app the benchmark starts: its own instance folder, no rate limit in the way."""
    return {"CRM_INSTANCE_PATH": str(DATA / "instance"), "CRM_RATE_LIMIT": "1000000/minute",
            "CRM_ACCESS_LOG": ""}


def make_app(url: str):
    os.environ.update(bench_env())
    from crm import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def seeded_sqlite(tasks: int, activities: int, *, report: Callable[[str], None] = print) -> Seeded:
    """The cached SQLite database of this size, built first when missing."""
    DATA.mkdir(parents=True, exist_ok=True)
    name = f"sqlite-{tasks}-{activities}"
    path, meta = DATA / f"{name}.sqlite3", DATA / f"{name}.json"
    if path.exists() and meta.exists():
        return Seeded(**json.loads(meta.read_text()))
    building = DATA / f"{name}.building.sqlite3"
    for leftover in DATA.glob(f"{name}.building.sqlite3*"):
        leftover.unlink()
    report(f"Seeding {tasks:,} tasks and {activities:,} activities into {path.name} ...")
    app = make_app(f"sqlite:///{building}")
    with app.app_context():
        info = seed(tasks, activities, report=report)
        from crm.extensions import db

        db.session.remove()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()
    building.rename(path)
    for leftover in DATA.glob(f"{name}.building.sqlite3*"):
        leftover.unlink()
    seeded = Seeded(url=f"sqlite:///{path}", **info)
    meta.write_text(json.dumps(asdict(seeded), indent=1))
    report(f"Seeded in {info['seconds']['total']:.0f} s ({info['rows_per_second']:,} rows/s): {info['seconds']}")
    return seeded
