"""What the transliteration migration (c2d7a4e9f153) costs on a big install: its time and the
peak memory of the process running it.

A database at the revision before it gets `--tasks` tasks and as many activities, folded the
old way (`--changed` of them with letters the old rule kept: ø, ł, đ, æ, so that the upgrade
rewrites them), then a fresh process runs `flask db upgrade` and reports its wall time and peak
RSS; the same process without the upgrade gives the baseline RSS.

    python -m bench.refold --backend sqlite --tasks 1000000
    python -m bench.refold --backend postgresql --tasks 1000000

PostgreSQL uses the database `followup_refold` on BENCH_PG_ADMIN_URL's server (dropped and made
again). SQLite writes bench/.data/refold-<tasks>.sqlite3.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import unicodedata
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
REVISION = "c2d7a4e9f153"


def old_fold(text: str | None) -> str:
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def _measure(url: str, upgrade: bool) -> dict:
    script = f"""
import json, resource, time
from crm import create_app
from crm.database import MIGRATIONS_DIR
from crm.extensions import db
from flask_migrate import upgrade
app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}, "CRM_AUTO_MIGRATE": False, "SECRET_KEY": "bench-" + "x" * 40}})
started = time.monotonic()
with app.app_context():
    if {upgrade!r}:
        upgrade(directory=MIGRATIONS_DIR, revision={REVISION!r})
    db.engine.dispose()
print(json.dumps({{"seconds": time.monotonic() - started,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fill(url: str, tasks: int, changed: int, batch: int = 10000) -> float:
    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade

    from crm import create_app
    from crm.database import MIGRATIONS_DIR
    from crm.extensions import db
    from crm.models import new_id

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CRM_AUTO_MIGRATE": False, "SECRET_KEY": "bench-" + "x" * 40})
    before = ScriptDirectory(MIGRATIONS_DIR).get_revision(REVISION).down_revision
    started = time.monotonic()
    now = datetime(2026, 11, 30, 9, 0, 0)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision=before)
        conn = db.session.connection()
        ws = new_id("ws")
        conn.execute(sa.text("INSERT INTO workspaces (id, name, created_at, updated_at) VALUES (:i, 'Big', :n, :n)"),
                     {"i": ws, "n": now})
        every = max(tasks // max(changed, 1), 1)
        tasks_table = sa.table("tasks", *(sa.column(c) for c in (
            "id", "workspace_id", "title", "description", "search_text", "type", "status", "priority_rank",
            "version")), sa.column("tags", sa.JSON), sa.column("metadata", sa.JSON),
            sa.column("created_at", sa.DateTime), sa.column("updated_at", sa.DateTime))
        activities_table = sa.table("activities", *(sa.column(c) for c in (
            "id", "workspace_id", "type", "status", "subject", "body", "search_text", "source", "version")),
            sa.column("metadata", sa.JSON), sa.column("occurred_at", sa.DateTime),
            sa.column("created_at", sa.DateTime), sa.column("updated_at", sa.DateTime))
        for start in range(0, tasks, batch):
            task_rows, activity_rows = [], []
            for i in range(start, min(start + batch, tasks)):
                who = "Søren Łukasiewicz" if i % every == 0 else f"Hamilton{i % 5000}"
                title, body = f"Call {who} about the renewal", f"Notes {i}: Đorđe asked" if i % every == 0 else f"Notes {i}"
                task_rows.append({"id": new_id("task"), "workspace_id": ws, "title": title, "description": body,
                                  "search_text": f"{old_fold(title)}\n{old_fold(body)}", "type": "todo",
                                  "status": "pending", "priority_rank": 1, "version": 1, "tags": [], "metadata": {},
                                  "created_at": now, "updated_at": now})
                activity_rows.append({"id": new_id("act"), "workspace_id": ws, "type": "note", "status": "completed",
                                      "subject": title, "body": body, "search_text": f"{old_fold(title)}\n{old_fold(body)}",
                                      "source": "manual", "version": 1, "metadata": {}, "occurred_at": now,
                                      "created_at": now, "updated_at": now})
            conn.execute(sa.insert(tasks_table), task_rows)
            conn.execute(sa.insert(activities_table), activity_rows)
            db.session.commit()
            conn = db.session.connection()
        if conn.dialect.name == "postgresql":
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                raw.execute(sa.text("VACUUM ANALYZE tasks"))
                raw.execute(sa.text("VACUUM ANALYZE activities"))
        db.session.remove()
        db.engine.dispose()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=10_000, help="rows the upgrade must rewrite, per table")
    args = parser.parse_args()
    if args.backend == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / f"refold-{args.tasks}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin_url = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres:postgres@localhost:5432/postgres")
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE IF EXISTS "followup_refold" WITH (FORCE)'))
            conn.execute(sa.text('CREATE DATABASE "followup_refold"'))
        admin.dispose()
        url = admin_url.rsplit("/", 1)[0] + "/followup_refold"
    filled = _fill(url, args.tasks, args.changed)
    baseline = _measure(url, upgrade=False)
    upgraded = _measure(url, upgrade=True)
    print(json.dumps({"backend": args.backend, "tasks": args.tasks, "activities": args.tasks,
                      "changed_per_table": args.changed, "fill_seconds": round(filled, 1),
                      "upgrade_seconds": round(upgraded["seconds"], 1),
                      "upgrade_max_rss_mib": round(upgraded["max_rss_mib"], 1),
                      "baseline_max_rss_mib": round(baseline["max_rss_mib"], 1)}))


if __name__ == "__main__":
    main()
