"""The second wave's endpoints that have no page of their own, timed in-process on a seeded workspace.

    python -m bench.second_wave_actions [--tasks 100000] [--activities 20000] [--repeat 20]

Copies the cached SQLite workspace (bench/.data, built by bench/seed.py when missing), then times
through Flask's test client (no HTTP server: the figures are the app's own cost), medians of
`--repeat`: the quick-add preview, the record picker (contacts) and the owner picker (people),
Today's counts (the fragment Today fetches again after a change; signed in as the workspace's
admin), the trash list (API and page), bulk complete and reopen of 50 tasks, a batch create of
100 tasks, and the purge of the tasks that made.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import DATA, make_app, seeded_sqlite  # noqa: E402


def median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    seeded = seeded_sqlite(args.tasks, args.activities)
    source = Path(seeded.url.removeprefix("sqlite:///"))
    copy = DATA / "second-wave-actions.sqlite3"
    for leftover in DATA.glob(f"{copy.name}*"):  # a journal left by an earlier run would not match the copy
        leftover.unlink()
    shutil.copyfile(source, copy)
    app = make_app(f"sqlite:///{copy}")
    client = app.test_client()
    key = {"X-Api-Key": seeded.api_key}

    page = client.get("/login").data
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    client.post("/login", data={"email": seeded.admin_email, "password": seeded.admin_password, "csrf_token": token})

    def ok(response, *statuses):
        assert response.status_code in (statuses or (200,)), (response.status_code, response.data[:300])
        return response

    results = {
        "quick-add preview": median_ms(lambda: ok(client.get(
            "/tasks/quick-add/preview?title=Call+Ada+tomorrow+3pm", headers={"HX-Request": "true"})), args.repeat),
        "contact picker (q=ada)": median_ms(lambda: ok(client.get(
            "/contacts/picker?q=ada", headers={"HX-Request": "true"})), args.repeat),
        "people picker (q=owner 1)": median_ms(lambda: ok(client.get(
            "/people/picker?q=owner+1", headers={"HX-Request": "true"})), args.repeat),
        "Today's counts (/today/counts)": median_ms(lambda: ok(client.get(
            "/today/counts", headers={"HX-Request": "true"})), args.repeat),
    }
    open_ids = [t["id"] for t in ok(client.get("/api/v1/tasks?status=pending&limit=50", headers=key)).get_json()["data"]]

    def bulk(action: str):
        ok(client.post("/api/v1/tasks/bulk", json={"ids": open_ids, "action": action}, headers=key))

    def complete_and_reopen():
        bulk("complete")
        bulk("reopen")

    results["bulk complete + reopen, 50 tasks"] = median_ms(complete_and_reopen, args.repeat)
    made: list[str] = []

    def batch():
        body = {"items": [{"title": f"Batch task {n}", "priority": "high"} for n in range(100)]}
        answer = ok(client.post("/api/v1/tasks/batch", json=body, headers=key)).get_json()
        made.extend(item["data"]["id"] for item in answer["data"])

    results["batch create, 100 tasks"] = median_ms(batch, max(3, args.repeat // 4))
    for start in range(0, len(made), 500):
        ok(client.post("/api/v1/tasks/bulk", json={"ids": made[start:start + 500], "action": "delete"}, headers=key))
    results[f"trash list (API, 50 of {len(made)})"] = median_ms(
        lambda: ok(client.get("/api/v1/trash?limit=50", headers=key)), args.repeat)
    results["trash page"] = median_ms(lambda: ok(client.get("/trash")), args.repeat)
    with app.app_context():
        from crm import clock
        from crm.services import trash

        started = time.perf_counter()
        erased = trash.purge(clock.now() + timedelta(days=31))
        results[f"purge of {erased} trashed tasks"] = round((time.perf_counter() - started) * 1000, 2)
    for name, value in results.items():
        print(f"  {name}: {value} ms")
    copy.unlink()


if __name__ == "__main__":
    main()
