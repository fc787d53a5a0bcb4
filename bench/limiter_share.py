"""The rate limiter's share of a 50-row API list request, with limits' own MemoryStorage (a timer
thread started on almost every request) and with crm/limits_memory.py's storage.

    python -m bench.limiter_share [--tasks 100000] [--requests 400]

The limiter is one object per process, so each storage is measured in a process of its own; the
two processes run alternately, twice each (A B A B).
The share is the profiled time inside flask_limiter and limits over the request's whole time
(cProfile, so absolute times are inflated alike); wall-clock medians are timed without the
profiler. Bounded by --requests.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# The API's own counting and headers (crm/api/__init__.py), counted as the limiter's cost too.
OURS = {"count_request", "ratelimit_headers", "_parsed_limit", "check_unless_api"}


def limiter_share(profile: cProfile.Profile) -> float:
    stats = pstats.Stats(profile)
    total = sum(tt for (_f, _l, _n), (_cc, _nc, tt, _ct, _c) in stats.stats.items())
    inside = sum(tt for (path, _l, name), (_cc, _nc, tt, _ct, _c) in stats.stats.items()
                 if "/flask_limiter/" in path or "/limits/" in path or path.endswith("crm/limits_memory.py")
                 or (path.endswith("crm/api/__init__.py") and name in OURS))
    return inside / total if total else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--storage", choices=("limits", "crm"))
    args = parser.parse_args()
    if args.storage is None:
        alternate([a for a in sys.argv[1:]])
        return

    import crm
    from crm import create_app
    from crm.database import writing
    from crm.extensions import db
    from crm.services import accounts, tasks

    folder = Path(tempfile.mkdtemp(prefix="bench-limiter-"))
    os.environ["CRM_INSTANCE_PATH"] = str(folder / "instance")
    url = f"sqlite:///{folder / 'crm.sqlite3'}"
    secret = "bench-limiter-" + "x" * 40
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret, "CRM_RATE_LIMIT": "1000000/minute"}
    seed_app = create_app(config)
    with seed_app.app_context(), writing():
        workspace = accounts.create_workspace("Bench limiter")
        user = accounts.create_user(workspace, email="bench@limiter.test", name="Bench")
        _key, key = accounts.create_api_key(user, label="bench")
        # Each task by the service's own rules (build_task), saved 5,000 to a commit: 100,000 in
        # about a minute instead of one commit each.
        for start in range(0, args.tasks, 5000):
            db.session.add_all([tasks.build_task(workspace.id, user.id, {"title": f"Task {n}"})
                                for n in range(start, min(start + 5000, args.tasks))])
            db.session.commit()

    if args.storage == "limits":
        crm.storage_uri = lambda configured: configured  # limits' own MemoryStorage
    client = create_app(config).test_client()
    headers = {"X-Api-Key": key}
    path = "/api/v1/tasks?limit=50"
    for _ in range(20):  # warm up
        assert client.get(path, headers=headers).status_code == 200
    walls = []
    for _ in range(args.requests):
        started = time.perf_counter()
        client.get(path, headers=headers)
        walls.append((time.perf_counter() - started) * 1000)
    profile = cProfile.Profile()
    for _ in range(args.requests // 2):
        profile.enable()
        client.get(path, headers=headers)
        profile.disable()
    print(f"{args.storage}: median {statistics.median(walls):.2f} ms; limiter "
          f"{limiter_share(profile) * 100:.1f} % of the profiled request")


def alternate(argv: list[str]) -> None:
    import subprocess

    for storage in ("limits", "crm", "limits", "crm"):
        subprocess.run([sys.executable, "-m", "bench.limiter_share", "--storage", storage, *argv],
                       cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
