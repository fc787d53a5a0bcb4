"""The second wave's pages that are polled or fetched often, in-process on SQLite: the bell
fragment (every open tab asks every 30 s), the notifications page, and a calendar feed.

    python -m bench.second_wave_pages [--tasks 2000] [--notifications 2000] [--repeat 200]

Medians of `--repeat` requests through the Flask test client (no network), beside the task list
of the same user for scale. Bounded by --repeat.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(client, path: str, repeat: int, headers: dict | None = None) -> tuple[float, int]:
    samples = []
    size = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers or {})
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        size = len(response.data)
    return statistics.median(samples), size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    from crm import create_app
    from crm.database import writing
    from crm.extensions import db
    from crm.models import Notification, User, utcnow
    from crm.services import accounts, tasks

    folder = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    os.environ["CRM_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'crm.sqlite3'}",
                      "SECRET_KEY": "bench-pages-" + "x" * 40, "CRM_QUEUE_IMMEDIATE": True,
                      "WTF_CSRF_ENABLED": False})
    with app.app_context(), writing():
        workspace = accounts.create_workspace("Bench pages")
        user = accounts.create_user(workspace, email="bench@pages.test", name="Bench User",
                                    password="bench password")
        now = utcnow()
        for n in range(args.tasks):
            tasks.create_task(workspace.id, user.id, {
                "title": f"Call customer {n}", "owner_id": user.id,
                "due_at": now + timedelta(hours=n % 400, minutes=30), "duration": 1800 if n % 3 else None})
        db.session.add_all(Notification(workspace_id=workspace.id, user_id=user.id, kind="assigned",
                                        title=f"Task {n}", read_at=None if n % 4 else now)
                           for n in range(args.notifications))
        db.session.commit()
        token = db.session.get(User, user.id).calendar_token

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"email": "bench@pages.test", "password": "bench password"}
    if match:
        data["csrf_token"] = match.group(1)
    assert client.post("/login", data=data).status_code in (302, 303)

    rows = [
        ("/tasks (the user's list)", "/tasks", None),
        ("bell fragment (htmx)", "/notifications/bell", {"HX-Request": "true"}),
        ("/notifications", "/notifications", None),
        (f"calendar feed ({args.tasks} open dated tasks)", f"/calendar/{token}.ics", None),
    ]
    print(f"{args.tasks} tasks, {args.notifications} notifications ({args.notifications * 3 // 4} unread), "
          f"median of {args.repeat}:")
    for label, path, headers in rows:
        repeat = max(10, args.repeat // 10) if path.endswith(".ics") else args.repeat
        median, size = timed(client, path, repeat, headers)
        print(f"  {label}: {median:.2f} ms, {size:,} bytes")


if __name__ == "__main__":
    main()
