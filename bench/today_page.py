"""The Today page (`/`) against the first page of the task list (`/tasks`), same user, through
gunicorn on a seeded workspace (bench/seed.py, cached in bench/.data/).

    python -m bench.today_page [--tasks 100000] [--activities 100000] [--repeat 30] [--explain]
                               [--backend sqlite|postgresql]

Signs in as one of the 25 owners (each holds 1/25 of the tasks and activities), in
Europe/Berlin, and times `/` and `/tasks` alternately (after 10 untimed rounds), medians.
`--explain` also prints the query plans of the page's statements (SQLite). PostgreSQL gets the
SQLite seed's rows by bench/pg_load.py, in a database of this benchmark's own
(`followup_today_bench_<tasks>_<activities>`, from BENCH_PG_ADMIN_URL), dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import Client, login, say, server, timed_pair  # noqa: E402
from bench.seed import DATA, make_app, seeded_sqlite  # noqa: E402

PASSWORD = "bench-owner-password"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres:postgres@localhost:5432/postgres")


def postgresql_copy(sqlite_url: str, tasks: int, activities: int) -> str:
    """A fresh PostgreSQL database holding the SQLite seed's rows; returns its URL."""
    from sqlalchemy import create_engine, text

    from bench.pg_load import load

    name = f"followup_today_bench_{tasks}_{activities}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    load(make_app(sqlite_url), url, report=say)
    return url


def drop_postgresql(url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def prepare_owner(url: str, owner_id: str) -> str:
    """The owner's e-mail, with a password to sign in with and a time zone."""
    from crm.database import writing
    from crm.extensions import db
    from crm.models import User
    from crm.services import accounts

    app = make_app(url)
    with app.app_context(), writing():
        user = db.session.get(User, owner_id)
        accounts.set_password(user, PASSWORD)
        accounts.set_time_zone(db.session.get(User, owner_id), "Europe/Berlin")
        email = user.email
        db.session.remove()
        db.engine.dispose()
    return email


def explain(url: str, owner_id: str) -> None:
    """The plans of the Today page's statements, as SQLite runs them."""
    from sqlalchemy import event

    from crm.extensions import db
    from crm.models import User
    from crm.services import today

    app = make_app(url)
    with app.app_context():
        user = db.session.get(User, owner_id)
        seen: list[tuple[str, object]] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", before)
        today.overview(user)
        event.remove(db.engine, "before_cursor_execute", before)
        with db.engine.connect() as conn:
            for statement, parameters in seen:
                plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                say(statement.split("FROM", 1)[1].split("WHERE", 1)[0].strip()[:60] + " ...")
                for row in plan:
                    say(f"    {row[-1]}")


def breakdown(url: str, owner_id: str, repeat: int) -> dict:
    """In-process medians: the page's seven statements (the service), drawing the three charts
    afresh, and drawing them from the per-process cache."""
    import statistics
    import time

    from flask_login import login_user

    from crm.extensions import db
    from crm.models import User
    from crm.services import today
    from crm.web import charts
    from crm.web import today as today_view

    app = make_app(url)
    samples: dict[str, list[float]] = {"service (7 statements)": [], "charts, first drawing": [],
                                       "charts, from the cache": []}
    with app.test_request_context("/"):
        user = db.session.get(User, owner_id)
        login_user(user)
        for _ in range(repeat):
            started = time.perf_counter()
            overview = today.overview(user)
            samples["service (7 statements)"].append(time.perf_counter() - started)
            charts._drawn.cache_clear()
            started = time.perf_counter()
            today_view._charts(overview)
            samples["charts, first drawing"].append(time.perf_counter() - started)
            started = time.perf_counter()
            today_view._charts(overview)
            samples["charts, from the cache"].append(time.perf_counter() - started)
        db.session.remove()
        db.engine.dispose()
    result = {name: round(statistics.median(values) * 1000, 2) for name, values in samples.items()}
    for name, ms in result.items():
        say(f"  {name}: {ms} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--breakdown", action="store_true", help="also time the service and the charts in-process")
    args = parser.parse_args()

    seeded = seeded_sqlite(args.tasks, args.activities, report=say)
    owner_id = seeded.owner_ids[0]
    url = seeded.url if args.backend == "sqlite" else postgresql_copy(seeded.url, args.tasks, args.activities)
    email = prepare_owner(url, owner_id)
    if args.explain and args.backend == "sqlite":
        explain(url, owner_id)
    parts = breakdown(url, owner_id, args.repeat) if args.breakdown else None
    try:
        with server(url) as base:
            client = Client(base)
            login(client, email, PASSWORD)
            today_page, first_page = timed_pair(client, "/", "/tasks", args.repeat)
    finally:
        if args.backend == "postgresql":
            drop_postgresql(url)
    ratio = today_page["median_ms"] / first_page["median_ms"]
    result = {"backend": args.backend, "tasks": args.tasks, "activities": args.activities, "today": today_page,
              "tasks_first_page": first_page, "ratio": round(ratio, 2), "breakdown": parts}
    say(json.dumps(result, indent=1))
    out = DATA / f"today-{args.backend}-{args.tasks}-{args.activities}.json"
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
