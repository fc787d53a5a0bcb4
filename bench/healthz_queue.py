"""What the queue adds to `GET /healthz`: its one statement against `SELECT 1`, on SQLite, with
an outbox of 100,000 handled rows and 0, 100, 1,000 or 10,000 due ones (docs/performance.md).

    python bench/healthz_queue.py [--handled 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeat: int = 2000) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--handled", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CRM_INSTANCE_PATH"] = str(Path(tmp) / "instance")
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(ROOT))
        from sqlalchemy import insert, text

        from crm import clock, create_app
        from crm.extensions import db
        from crm.models import OutboxMessage
        from crm.services import outbox

        app = create_app({"SECRET_KEY": "bench-" + "x" * 40, "CRM_QUEUE_IMMEDIATE": True})
        client = app.test_client()
        now = clock.precise_now()
        with app.app_context():
            rows = [{"kind": "bench", "payload": {}, "state": "done", "available_at": now - timedelta(seconds=n),
                     "created_at": now, "attempts": 1, "done_at": now} for n in range(args.handled)]
            db.session.execute(insert(OutboxMessage), rows)
            db.session.commit()
            inserted = 0
            for due in (0, 100, 1_000, 10_000):
                if due > inserted:
                    db.session.execute(insert(OutboxMessage), [
                        {"kind": "bench", "payload": {}, "state": "pending", "created_at": now, "attempts": 0,
                         "available_at": now - timedelta(seconds=n)} for n in range(inserted, due)])
                    db.session.commit()
                    inserted = due

                def select_one():
                    db.session.execute(text("SELECT 1"))
                    db.session.commit()

                def summary():
                    outbox.pending_summary()
                    db.session.commit()

                print(f"{due:>6} due: SELECT 1 {timed(select_one):.0f} µs, queue statement {timed(summary):.0f} µs, "
                      f"GET /healthz {timed(lambda: client.get('/healthz'), 500):.0f} µs")


if __name__ == "__main__":
    main()
