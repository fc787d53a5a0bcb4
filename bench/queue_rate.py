"""Outbox throughput and dispatch latency with one real `flask crm worker` (the figures in
docs/performance.md).

    python bench/queue_rate.py [--rows 2000] [--latency-rows 100] [--interval 0.1] [--threads 2]
                          [--database-url URL] [--queue-url redis://...]

Throughput: `--rows` rows committed at once, then a worker started; rows/s between the first and
the last row handled (startup excluded). Latency: with the worker running, `--latency-rows` rows
committed one at a time, `--interval` apart (well below the throughput, so that
this is the dispatch path and not a backlog); commit → handled (the row's `done_at − created_at`,
read from the same clock on the same machine), median and p95. SQLite database and queue file
in a temporary folder unless URLs are given (an empty PostgreSQL database, a Redis).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--latency-rows", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between latency rows")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--database-url")
    parser.add_argument("--queue-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        env = {**os.environ, "CRM_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT),
               "CRM_JOB_MODULES": "bench.queue_jobs", "CRM_QUEUE_URL": args.queue_url,
               "SECRET_KEY": "bench-secret-" + "x" * 40}
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        else:
            env.pop("DATABASE_URL", None)
        os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
        sys.path.insert(0, str(ROOT))
        from sqlalchemy import delete, func, select

        from crm import create_app, queue
        from crm.database import writing
        from crm.extensions import db
        from crm.models import OutboxMessage, Workspace
        from crm.services import outbox

        app = create_app()
        with app.app_context():
            db.session.execute(delete(OutboxMessage))
            db.session.execute(delete(Workspace).where(Workspace.name.like("bench %")))
            db.session.commit()
            with writing():
                for n in range(args.rows):
                    outbox.add("bench.write", {"n": n})
                db.session.commit()
        queue.huey.storage.flush_queue()  # measure the poll's catch-up, then steady work

        def done() -> int:
            with app.app_context():
                count = db.session.execute(select(func.count()).where(OutboxMessage.state == "done")).scalar()
                db.session.commit()
                return count

        log = open(Path(tmp) / "worker.log", "wb")
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "crm", "worker",
                                   "--threads", str(args.threads)], cwd=ROOT, env=env, stdout=log,
                                  stderr=log, start_new_session=True)
        try:
            deadline = time.monotonic() + 600
            while done() < args.rows and time.monotonic() < deadline:
                time.sleep(0.2)
            with app.app_context():
                first, last = db.session.execute(
                    select(func.min(OutboxMessage.done_at), func.max(OutboxMessage.done_at))).one()
                db.session.commit()
            handled = done()
            rate = (handled - 1) / max((last - first).total_seconds(), 1e-6)
            print(f"throughput: {handled} rows in {(last - first).total_seconds():.2f} s = {rate:.0f} rows/s "
                  f"({args.threads} threads)")

            latencies = []
            with app.app_context():
                for n in range(args.latency_rows):
                    with writing():
                        outbox.add("bench.write", {"n": args.rows + n})
                        db.session.commit()
                    time.sleep(args.interval)
            deadline = time.monotonic() + 120
            while done() < args.rows + args.latency_rows and time.monotonic() < deadline:
                time.sleep(0.1)
            with app.app_context():
                # A transactional row's done_at is stamped as its handler's transaction begins.
                for created, finished in db.session.execute(
                        select(OutboxMessage.created_at, OutboxMessage.done_at)
                        .order_by(OutboxMessage.id.desc()).limit(args.latency_rows)):
                    if finished is not None:
                        latencies.append((finished - created).total_seconds() * 1000)
                retried = db.session.execute(
                    select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.last_error)
                    .where(OutboxMessage.attempts > 1)).all()
            for message_id, attempts, error in retried:
                print(f"row {message_id}: {attempts} attempts; last error: {(error or '').strip()[-300:]}")
            latencies.sort()
            p95 = latencies[int(len(latencies) * 0.95) - 1]
            print(f"latency commit → handled: median {statistics.median(latencies):.0f} ms, "
                  f"p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms ({len(latencies)} rows)")
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    main()
