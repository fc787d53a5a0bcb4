"""Write throughput on SQLite before and after the write lock was narrowed to the service's own
transaction (and gunicorn moved to threaded workers).

    python -m bench.write_lock [--tasks 100000] [--clients 8] [--seconds 10] [--rounds 3]
                               [--before c485184]

Both versions serve copies of the same workspace (2,000 tasks seeded through the importer by
bench/seed.py, replicated under new ids to `--tasks`; cached in bench/.data/) at the same time, each with its own gunicorn.conf.py (before: two sync workers; after: two
threaded workers), and are timed alternately, round by round, so that a change of load on the
machine moves both. The "before" code is the given commit, unpacked with `git archive` into
bench/.data/code-<commit>/. Each round has `clients` threads creating tasks for `seconds`; then
one round each with a stalled upload on a second key (headers and half a body sent, then
silence) while the clients create. Results go to bench/.data/results-writelock-<tasks>.json and
stdout; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import Client, _port_in_range, say  # noqa: E402
from bench.seed import DATA, Seeded, bench_env, seeded_sqlite  # noqa: E402

BEFORE = "c485184"
BASE_TASKS = 2_000  # seeded through the importer, then replicated (see `seeded_by_replication`)
BEFORE_HEAD = "7e1b5c9d2a40"  # the newest migration the "before" code knows


def seeded_by_replication(tasks: int) -> Seeded:
    """A workspace of `tasks` tasks, fast: BASE_TASKS seeded through the importer's batch path
    (bench/seed.py; every row validated and built by the service rules), then those rows copied
    under new ids until there are `tasks` of them. The importer alone makes about 1,600 rows/s
    on a quiet machine and far fewer on a busy one; the write benchmark needs the table's size
    (its indexes, its search index), not 100,000 different titles."""
    from crm.models import new_id

    base = seeded_sqlite(BASE_TASKS, 0, report=say)
    path, meta = DATA / f"sqlite-{tasks}-0-replicated.sqlite3", DATA / f"sqlite-{tasks}-0-replicated.json"
    if path.exists() and meta.exists():
        return Seeded(**json.loads(meta.read_text()))
    building = path.with_name(path.name + ".building")
    shutil.copy(base.url.removeprefix("sqlite:///"), building)
    began = time.perf_counter()
    conn = sqlite3.connect(building)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(tasks)")]
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM tasks").fetchall()
    at = columns.index("id")
    insert = f"INSERT INTO tasks ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    missing = tasks - len(rows)
    while missing > 0:
        chunk = [(*row[:at], new_id("task"), *row[at + 1:]) for row in rows[:missing]]
        conn.executemany(insert, chunk)
        missing -= len(chunk)
    conn.commit()
    count = conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    building.rename(path)
    seconds = dict(base.seconds, replicated=round(time.perf_counter() - began, 1))
    seeded = Seeded(**{**base.__dict__, "url": f"sqlite:///{path}", "tasks": count, "seconds": seconds})
    meta.write_text(json.dumps(seeded.__dict__, indent=1))
    say(f"Replicated {BASE_TASKS:,} imported tasks to {count:,} in {seconds['replicated']} s")
    return seeded


def code_at(commit: str) -> Path:
    """The repository's files at `commit`, unpacked once under bench/.data/."""
    target = DATA / f"code-{commit}"
    if not (target / "app.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def database_copy(seeded: Seeded, label: str, *, schema_at: str | None) -> str:
    """A copy of the seeded database; `schema_at`: marked at that older migration (the tables a
    later migration added are dropped, so that the older code starts on it as its own)."""
    source = Path(seeded.url.removeprefix("sqlite:///"))
    target = DATA / f"writelock-{label}.sqlite3"
    for leftover in DATA.glob(f"writelock-{label}.sqlite3*"):
        leftover.unlink()
    shutil.copy(source, target)
    if schema_at:
        conn = sqlite3.connect(target)
        conn.execute("DROP TABLE IF EXISTS installation")
        conn.execute("UPDATE alembic_version SET version_num = ?", (schema_at,))
        conn.commit()
        conn.close()
    return f"sqlite:///{target}"


@contextmanager
def serve(code: Path, url: str, log: Path):
    """gunicorn with that code's own gunicorn.conf.py, on a free port; yields the base URL."""
    from tests.servers import wait_for

    port = _port_in_range()
    env = {**os.environ, **bench_env(), "DATABASE_URL": url, "CRM_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "2", "PYTHONPATH": str(code), "GUNICORN_CMD_ARGS": "--max-requests 0"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(code / "gunicorn.conf.py"), "app:app"],
                                cwd=code, env=env, stdout=out, stderr=out, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", timeout=120, proc=proc)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def stalled_upload(base: str, key: str, hold: float):
    """A create whose client sends the headers and half the body, then goes quiet for `hold`
    seconds (the length of a round) and hangs up."""
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"title": "Sent very slowly"}).encode()
    head = (f"POST /api/v1/tasks HTTP/1.1\r\nHost: {host}\r\nX-Api-Key: {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    sock = socket.create_connection((host, int(port)), timeout=60)
    hang_up = threading.Timer(hold + 0.5, sock.close)
    with closing(sock):
        sock.sendall(head + body[:8])
        hang_up.start()
        time.sleep(0.5)
        try:
            yield
        finally:
            hang_up.cancel()


def create_round(base: str, seeded: Seeded, clients: int, seconds: float, tag: str) -> dict:
    """`clients` threads creating tasks for `seconds` (a request under way then is finished)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.perf_counter() + seconds

    def work(n: int) -> None:
        client = Client(base, seeded.api_key)
        i = 0
        while time.perf_counter() < stop:
            body = {"title": f"Bench {tag} {n}-{i}", "priority": "high", "due_at": "2027-01-15",
                    "contact_id": seeded.contact_ids[(n * 31 + i) % len(seeded.contact_ids)],
                    "owner_id": seeded.owner_ids[n % len(seeded.owner_ids)], "tags": ["bench"]}
            try:
                status, _data, elapsed = client.request("POST", "/api/v1/tasks", body)
            except OSError:
                status, elapsed = 599, 0.0
            if status != 201:
                errors[n] += 1
            latencies[n].append(elapsed * 1000)
            i += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    flat = sorted(x for per in latencies for x in per)
    ok = len(flat) - sum(errors)
    return {"requests": len(flat), "errors": sum(errors), "created_per_second": round(ok / wall, 1),
            "median_ms": round(statistics.median(flat), 1) if flat else None,
            "p95_ms": round(flat[max(int(len(flat) * 0.95) - 1, 0)], 1) if flat else None,
            "max_ms": round(flat[-1], 1) if flat else None, "wall_seconds": round(wall, 1)}


def second_key(url: str, seeded: Seeded) -> str:
    """An API key of another workspace, for the stalled upload (the "after" copy is brought to this
    code's schema first)."""
    from crm import create_app

    os.environ.update(bench_env())
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CRM_AUTO_MIGRATE": True})
    with app.app_context():
        from crm.database import writing
        from crm.extensions import db
        from crm.services import accounts

        with writing():
            workspace = accounts.find_workspace("Stalling") or accounts.create_workspace("Stalling")
            user = accounts.find_user_by_email("staller@example.com") or accounts.create_user(
                workspace, email="staller@example.com", name="Slow Uploader")
            _key, secret = accounts.create_api_key(user, label="stalled upload")
        db.session.remove()
        db.engine.dispose()
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default=BEFORE)
    args = parser.parse_args()
    seeded = seeded_by_replication(args.tasks)
    # Both copies start at the "before" schema; the "after" one is migrated by this code.
    versions = {"before": (code_at(args.before), BEFORE_HEAD), "after": (ROOT, BEFORE_HEAD)}
    urls = {label: database_copy(seeded, label, schema_at=head) for label, (_code, head) in versions.items()}
    # The key for the stalled upload is made with the current code on the "after" copy; the
    # "before" copy gets the same rows through its own copy of them.
    stall_key = second_key(urls["after"], seeded)
    before_db = Path(urls["before"].removeprefix("sqlite:///"))
    after_db = Path(urls["after"].removeprefix("sqlite:///"))
    with sqlite3.connect(after_db) as src, sqlite3.connect(before_db) as dst:
        for table in ("workspaces", "users", "api_keys"):
            theirs = {r[1] for r in dst.execute(f"PRAGMA table_info({table})")}
            columns = [r[1] for r in src.execute(f"PRAGMA table_info({table})") if r[1] in theirs]
            rows = src.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            dst.executemany(f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES "
                            f"({', '.join('?' * len(columns))})", rows)
    results: dict = {"tasks": args.tasks, "clients": args.clients, "seconds_per_round": args.seconds,
                     "before_commit": args.before, "rounds": {"before": [], "after": []},
                     "one_client": {}, "stalled_upload": {}}
    with ExitStack() as stack:
        bases = {label: stack.enter_context(serve(code, urls[label], DATA / f"gunicorn-writelock-{label}.log"))
                 for label, (code, _head) in versions.items()}
        for label, base in bases.items():  # warm-up, untimed
            create_round(base, seeded, args.clients, 2, f"warm-{label}")
        for r in range(args.rounds):
            for label, base in bases.items():
                result = create_round(base, seeded, args.clients, args.seconds, f"{label}-{r}")
                results["rounds"][label].append(result)
                say(f"  round {r + 1} {label}: {result}")
        for label, base in bases.items():
            results["one_client"][label] = create_round(base, seeded, 1, args.seconds, f"{label}-one")
            say(f"  one client {label}: {results['one_client'][label]}")
        for label, base in bases.items():
            with stalled_upload(base, stall_key, args.seconds):
                results["stalled_upload"][label] = create_round(base, seeded, args.clients, args.seconds,
                                                                f"{label}-stalled")
            say(f"  stalled upload {label}: {results['stalled_upload'][label]}")
    summary = {label: statistics.median(r["created_per_second"] for r in rounds)
               for label, rounds in results["rounds"].items()}
    results["median_created_per_second"] = summary
    results["ratio"] = round(summary["after"] / summary["before"], 2) if summary["before"] else None
    out = DATA / f"results-writelock-{args.tasks}.json"
    out.write_text(json.dumps(results, indent=1))
    say(f"Median creates/s: before {summary['before']}, after {summary['after']} (× {results['ratio']})")
    say(f"Results: {out}")


if __name__ == "__main__":
    main()
