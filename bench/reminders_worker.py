"""1,000 reminders due in the same minute, fired by one real `flask crm worker` and mailed to a
real SMTP server (aiosmtpd on 127.0.0.1): how long after their time the last notification is made
and the last e-mail arrives.

    python -m bench.reminders_worker                     # SQLite in a scratch folder
    BENCH_DATABASE_URL=postgresql+psycopg://... python -m bench.reminders_worker

The reminders are due at the top of a minute (the worker runs due work once a minute, at the top
of the minute); the figures are seconds after that time. Bounded: gives up after 5 minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNT = int(os.environ.get("BENCH_REMINDERS", "1000"))
OFFSET = timedelta(hours=1)  # the worker's clock: whole minutes ahead, so its minutes line up


class Box:
    def __init__(self) -> None:
        self.arrivals: list[float] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.arrivals.append(time.time())
        return "250 OK"


def main() -> None:
    from aiosmtpd.controller import Controller
    from sqlalchemy import func, select

    sys.path.insert(0, str(ROOT))
    from crm import create_app
    from crm.database import writing
    from crm.extensions import db
    from crm.models import Notification
    from crm.services import accounts, tasks

    folder = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder / 'crm.sqlite3'}"
    secret = "bench-reminders-" + "x" * 40
    os.environ["CRM_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret, "CRM_QUEUE_IMMEDIATE": False})

    import socket

    with socket.socket() as probe:  # a free port for the SMTP server
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    box = Box()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    now = datetime.now(UTC).replace(tzinfo=None)
    # Due at the second minute boundary from now (time to create the tasks first).
    top = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
    remind_at = top + OFFSET
    with app.app_context(), writing():
        workspace = accounts.create_workspace("Bench reminders")
        owner = accounts.create_user(workspace, email="owner@bench.test", name="Olive Owner")
        started = time.perf_counter()
        for n in range(COUNT):
            tasks.create_task(workspace.id, owner.id, {
                "title": f"Call customer {n}", "owner_id": owner.id, "due_at": remind_at + timedelta(minutes=15),
                "reminder": {"type": "email", "before_minutes": 15}})
        print(f"{COUNT} tasks created in {time.perf_counter() - started:.1f} s")

    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "SECRET_KEY": secret,
           "CRM_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "CRM_CLOCK_OFFSET_SECONDS": str(int(OFFSET.total_seconds())),
           "CRM_QUEUE_POLL_SECONDS": "1"}
    log = open(folder / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "crm", "worker", "--threads", "2"],
                              cwd=ROOT, env=env, stdout=log, stderr=log)
    due_wall = top.replace(tzinfo=UTC).timestamp()
    last_notification = None
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            with app.app_context():
                made = db.session.execute(select(func.count()).select_from(Notification)
                                          .where(Notification.kind == "reminder")).scalar()
                db.session.commit()
            if made >= COUNT and last_notification is None:
                last_notification = time.time()
            if last_notification is not None and len(box.arrivals) >= COUNT:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        controller.stop()
    if last_notification is None or len(box.arrivals) < COUNT:
        sys.exit(f"not done within 5 minutes: {len(box.arrivals)} mails; see {folder / 'worker.log'}")
    backend = url.split(":", 1)[0]
    print(f"{backend}: {COUNT} reminders due at the top of the minute; last notification "
          f"{last_notification - due_wall:.1f} s after, last e-mail {max(box.arrivals) - due_wall:.1f} s after "
          f"(first e-mail {min(box.arrivals) - due_wall:.1f} s)")


if __name__ == "__main__":
    main()
