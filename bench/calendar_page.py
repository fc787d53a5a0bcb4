"""The calendar page against the first page of the task list, through the real HTTP stack.

    python -m bench.calendar_page [--sizes 10000:2000,100000:20000] [--repeat 30]

For each size, a copy of the cached seeded SQLite workspace (bench/seed.py; built first when
missing) gets, for one of its 25 owners, 20 open recurring tasks (daily and weekly, due in the
past weeks, so their next occurrences fill the calendar) and 10 scheduled meetings this week,
made through the services. gunicorn (gunicorn.conf.py, two sync workers) serves it; signed in
as that owner, `/calendar?view=week` (this week) is timed alternately with `/tasks` (the first
page of "my open tasks"), after 10 untimed rounds, then the month view the same way. Medians.
Results go to bench/.data/calendar-page.json and are printed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import DATA, Client, login, say, server, timed_pair  # noqa: E402
from bench.seed import make_app, seeded_sqlite  # noqa: E402

PASSWORD = "bench owner password"


def prepare(tasks: int, activities: int) -> tuple[str, str, dict]:
    """A copy of the seeded database with the calendar's extras; its URL, the owner's e-mail, counts."""
    seeded = seeded_sqlite(tasks, activities, report=say)
    source = Path(seeded.url.removeprefix("sqlite:///"))
    copy = DATA / f"calendar-{tasks}-{activities}.sqlite3"
    for leftover in DATA.glob(f"{copy.name}*"):
        leftover.unlink()
    shutil.copy(source, copy)
    url = f"sqlite:///{copy}"
    app = make_app(url)  # migrates the copy (the calendar's index included)
    with app.app_context():
        from sqlalchemy import func, select

        from crm.extensions import db
        from crm.models import Activity, Task, User, utcnow
        from crm.schemas import ActivityInput, TaskInput
        from crm.services import accounts
        from crm.services import activities as activity_service
        from crm.services import tasks as task_service

        owner = db.session.get(User, seeded.owner_ids[0])
        accounts.set_password(owner, PASSWORD)
        now = utcnow().replace(microsecond=0, second=0, minute=0)
        for n in range(20):
            rule = "FREQ=DAILY" if n % 2 else "FREQ=WEEKLY"
            data = TaskInput().load({"title": f"Routine {n}", "recurrence": rule, "owner_id": owner.id,
                                     "due_at": (now - timedelta(days=3 + n, hours=n % 8)).isoformat() + "Z"})
            task_service.create_task(seeded.workspace_id, owner.id, data)
        for n in range(10):
            data = ActivityInput().load({"type": "meeting", "status": "scheduled", "subject": f"Meeting {n}",
                                         "owner_id": owner.id, "duration": 3600,
                                         "occurred_at": (now + timedelta(days=n % 5, hours=n)).isoformat() + "Z"})
            activity_service.log_activity(seeded.workspace_id, owner.id, data)
        counts = {
            "tasks": db.session.scalar(select(func.count()).select_from(Task)),
            "owner_tasks": db.session.scalar(select(func.count()).select_from(Task).where(Task.owner_id == owner.id)),
            "activities": db.session.scalar(select(func.count()).select_from(Activity)),
        }
        email = owner.email
        db.session.remove()
        db.engine.dispose()
    return url, email, counts


def items_on(page: bytes) -> int:
    return len(re.findall(rb'class="cal-item ', page))


def measure(tasks: int, activities: int, repeat: int) -> dict:
    url, email, counts = prepare(tasks, activities)
    result: dict = {"size": f"{tasks}:{activities}", **counts}
    with server(url) as base:
        client = Client(base)
        login(client, email, PASSWORD)
        for view in ("week", "month"):
            path = f"/calendar?view={view}"
            calendar, first_page = timed_pair(client, path, "/tasks", repeat)
            _, page, _ = client.request("GET", path)
            result[view] = {"calendar": calendar, "tasks_first_page": first_page, "items": items_on(page),
                            "ratio": round(calendar["median_ms"] / first_page["median_ms"], 2)}
            say(f"  {tasks:,} tasks: {path} {calendar['median_ms']} ms ({items_on(page)} items, "
                f"{calendar['bytes']:,} bytes) vs /tasks {first_page['median_ms']} ms "
                f"({first_page['bytes']:,} bytes): {result[view]['ratio']}×")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000:2000,100000:20000", help="tasks:activities, comma-separated")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    results = []
    for size in args.sizes.split(","):
        tasks, activities = (int(part) for part in size.split(":"))
        results.append(measure(tasks, activities, args.repeat))
    out = DATA / "calendar-page.json"
    out.write_text(json.dumps(results, indent=1))
    say(f"Written to {out}")


if __name__ == "__main__":
    main()
