"""Webhook deliveries per second through one real `flask crm worker` to a receiver on 127.0.0.1.

    python -m bench.webhooks_rate                        # SQLite in a scratch folder
    BENCH_DATABASE_URL=postgresql+psycopg://... python -m bench.webhooks_rate
    BENCH_WEBHOOKS=500 BENCH_WORKER_THREADS=4 python -m bench.webhooks_rate

N tasks are created while no worker runs (N `task.created` deliveries wait, each with its outbox
row); then one worker starts and the receiver (http.server, answering 200 at once) counts the
requests. The rate is counted from the first request to the last, so the worker's start-up is
left out (it is printed too). Bounded: N (default 1,000) and 5 minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNT = int(os.environ.get("BENCH_WEBHOOKS", "1000"))
THREADS = int(os.environ.get("BENCH_WORKER_THREADS", "2"))
LIMIT_SECONDS = 300


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from crm import create_app
    from crm.database import writing
    from crm.services import accounts, tasks, webhooks
    from tests.receiver import webhook_receiver

    folder = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder / 'crm.sqlite3'}"
    secret = "bench-webhooks-" + "x" * 40
    os.environ["CRM_INSTANCE_PATH"] = str(folder / "instance")
    settings = {"CRM_WEBHOOK_ALLOW_PRIVATE": "true", "CRM_WEBHOOK_ALLOW_HTTP": "true"}
    os.environ.update(settings)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret, "CRM_QUEUE_IMMEDIATE": False})

    with webhook_receiver() as receiver:
        arrivals: list[float] = []
        receiver.status = lambda n: arrivals.append(time.time()) or 200
        with app.app_context(), writing():
            workspace = accounts.create_workspace("Bench webhooks")
            owner = accounts.create_user(workspace, email="owner@bench.test", name="Olive Owner", role="admin")
            webhooks.create_webhook(workspace.id, owner.id, {"url": receiver.url, "events": ["task.created"]})
            started = time.perf_counter()
            for n in range(COUNT):
                tasks.create_task(workspace.id, owner.id, {"title": f"Webhook {n}"})
            print(f"{COUNT} tasks (and deliveries) created in {time.perf_counter() - started:.1f} s")

        env = {**os.environ, **settings, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "SECRET_KEY": secret,
               "CRM_QUEUE_POLL_SECONDS": "1"}
        log = open(folder / "worker.log", "wb")
        launched = time.time()
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "crm", "worker", "--threads", str(THREADS)],
            cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.time() + LIMIT_SECONDS
            while len(arrivals) < COUNT and time.time() < deadline:
                time.sleep(0.1)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    if len(arrivals) < COUNT:
        sys.exit(f"only {len(arrivals)} of {COUNT} delivered within {LIMIT_SECONDS} s; see {folder / 'worker.log'}")
    span = max(arrivals) - min(arrivals)
    backend = url.split(":", 1)[0]
    print(f"{backend}: {COUNT} deliveries, one worker with {THREADS} threads: "
          f"{(COUNT - 1) / span:.0f} deliveries/s (first to last request {span:.1f} s; "
          f"first request {min(arrivals) - launched:.1f} s after the worker was launched)")


if __name__ == "__main__":
    main()
