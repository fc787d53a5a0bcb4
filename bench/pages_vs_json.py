"""Web pages against the JSON lists of the same rows, and the size of every htmx fragment.

    python -m bench.pages_vs_json [--tasks 100000] [--activities 20000] [--repeat 30]

Seeds (or reuses, bench/.data/) a workspace through the importer, serves it with gunicorn (the
production config) and times, alternately, each web page and the JSON list of the same 50 rows:
  - `/tasks?owner=any` (open tasks of every owner by due date) and
    `GET /api/v1/tasks?status=pending,in_progress&sort=due_at`;
  - `/activities` and `GET /api/v1/activities`;
  - as a reference, the owner-scoped JSON list (`owner_id=` one owner, open, by due date).
Then it measures the htmx fragments a user triggers on the list: inline complete (the row),
the edit form, "load more", the activity edit form. Results go to stdout and to
bench/.data/pages-<tasks>-<activities>.json; docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import Client, login, say, server, timed_pair  # noqa: E402
from bench.seed import DATA, seeded_sqlite  # noqa: E402


def fragment(browser: Client, method: str, path: str, token: str, base: str, body: bytes = b"") -> bytes:
    status, data, _ = browser.request(method, path, body, {
        "HX-Request": "true", "HX-Current-URL": f"{base}/tasks?owner=any", "X-CSRFToken": token,
        "Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    seeded = seeded_sqlite(args.tasks, args.activities, report=say)
    results: dict = {"tasks": args.tasks, "activities": args.activities, "pairs": {}, "fragments": {}}
    with server(seeded.url) as base:
        api = Client(base, seeded.api_key)
        browser = Client(base)
        token = login(browser, seeded.admin_email, seeded.admin_password)
        owner = seeded.owner_ids[0]
        pairs = {
            "open tasks, every owner, by due": ("/tasks?owner=any",
                                                "/api/v1/tasks?status=pending,in_progress&sort=due_at&limit=50"),
            "activities, newest first": ("/activities", "/api/v1/activities?limit=50"),
        }
        for name, (page, listing) in pairs.items():
            status, body, _ = browser.request("GET", page)
            rows = len(re.findall(rb'<li id="(?:task|activity)-', body))
            web, js = timed_pair_two_clients(browser, api, page, listing, args.repeat)
            ratio = round(web["median_ms"] / js["median_ms"], 2)
            results["pairs"][name] = {"web": web, "json": js, "ratio": ratio, "rows_on_page": rows}
            say(f"  {name}: page {web['median_ms']} ms ({web['bytes']:,} B, {rows} rows) vs JSON "
                f"{js['median_ms']} ms ({js['bytes']:,} B): {ratio}x")
        mine, every = timed_pair(api, f"/api/v1/tasks?status=pending,in_progress&sort=due_at&limit=50&owner_id={owner}",
                                 "/api/v1/tasks?status=pending,in_progress&sort=due_at&limit=50", args.repeat)
        results["pairs"]["JSON open by due: one owner vs every owner"] = {"one_owner": mine, "every_owner": every}
        say(f"  JSON open by due: one owner {mine['median_ms']} ms, every owner {every['median_ms']} ms")

        page = browser.request("GET", "/tasks?owner=any")[1]
        task_id = re.search(rb'<li id="task-(task_\w+)"', page).group(1).decode()
        more = re.search(rb'data-hx-get="(/tasks\?[^"]*cursor=[^"]+)"', page)
        sizes = {
            "complete (row)": fragment(browser, "POST", f"/tasks/{task_id}/complete", token, base),
            "reopen (row)": fragment(browser, "POST", f"/tasks/{task_id}/reopen", token, base),
            "edit form (row)": fragment(browser, "GET", f"/tasks/{task_id}/edit", token, base),
            "cancel edit (row)": fragment(browser, "GET", f"/tasks/{task_id}/row", token, base),
        }
        if more:
            sizes["load more (50 rows)"] = fragment(browser, "GET", more.group(1).decode().replace("&amp;", "&"), token, base)
        activities = browser.request("GET", "/activities")[1]
        activity_id = re.search(rb'<li id="activity-(act_\w+)"', activities).group(1).decode()
        sizes["activity edit form"] = fragment(browser, "GET", f"/activities/{activity_id}/edit", token, base)
        sizes["bell"] = fragment(browser, "GET", "/notifications/bell", token, base)
        for name, data in sizes.items():
            results["fragments"][name] = len(data)
            say(f"  fragment {name}: {len(data):,} B")
    out = DATA / f"pages-{args.tasks}-{args.activities}.json"
    out.write_text(json.dumps(results, indent=1))
    say(f"written to {out}")


def timed_pair_two_clients(browser: Client, api: Client, page: str, listing: str, n: int, warmup: int = 5):
    """timed_pair for a page (signed in by cookie) and a JSON list (by key), requested in turn."""
    import statistics

    times: dict[str, list[float]] = {"page": [], "json": []}
    sizes = {}
    for i in range(warmup + n):
        for kind, client, path in (("page", browser, page), ("json", api, listing)):
            status, data, elapsed = client.request("GET", path)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status} {data[:300]!r}")
            if i >= warmup:
                times[kind].append(elapsed * 1000)
            sizes[kind] = len(data)
    return tuple({"median_ms": round(statistics.median(times[k]), 2), "n": n, "bytes": sizes[k]} for k in ("page", "json"))


if __name__ == "__main__":
    main()
