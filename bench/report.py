"""Markdown tables from the results of bench/scale.py, for docs/performance.md.

    python -m bench.report bench/.data/results-sqlite-1000000-1000000.json [more results files]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def lists_table(results: list[dict]) -> str:
    labels = list(results[0]["lists"])
    headers = ["request"]
    for r in results:
        headers += [f"{r['backend']} median ms", "× first page", "× floor"]
    rows = [["`GET /healthz` (floor)"] + sum(([r["floor"]["median_ms"], "", "1"] for r in results), [])]
    for label in labels:
        row = [label]
        for r in results:
            item = r["lists"].get(label)
            if item is None:
                row += ["", "", ""]
                continue
            ratio = item["x_first_page"]
            if "first_page_ms" in item:  # measured alternately with the first page
                ratio = f"{ratio} (of {item['first_page_ms']})"
            row += [item["median_ms"], ratio, item["x_floor"]]
        rows.append(row)
    return table(headers, rows)


def offset_table(results: list[dict]) -> str:
    labels = list(results[0]["offset_sql"])
    return table(["plain SQL, same shape as the task list"] + [f"{r['backend']} ms" for r in results],
                 [[label] + [r["offset_sql"].get(label, "") for r in results] for label in labels])


def counts_table(results: list[dict]) -> str:
    labels = list(results[0]["statements_per_request"])
    return table(["request"] + [r["backend"] for r in results],
                 [[label] + [r["statements_per_request"].get(label, "") for r in results] for label in labels])


def writes_table(results: list[dict]) -> str:
    rows = []
    for r in results:
        w = r.get("writes")
        if not w:
            continue
        for phase in ("create", "patch", "complete", "delete"):
            p = w[phase]
            rows.append([r["backend"], phase, p["requests"], p["errors"], p["per_second"], p["median_ms"], p["p95_ms"]])
    return table(["backend", "request", "requests", "errors", "per second", "median ms", "p95 ms"], rows)


def profile_table(results: list[dict]) -> str:
    rows = []
    for r in results:
        p = r.get("profile")
        if not p:
            continue
        for part, share in p["share"].items():
            rows.append([r["backend"], part, f"{share * 100:.0f} %"])
        rows.append([r["backend"], "unprofiled: list_tasks / list_response (ms)",
                     f"{p['unprofiled_ms']['list_tasks']} / {p['unprofiled_ms']['list_response']}"])
    return table(["backend", "part of the server time (cProfile, 30 requests)", "share"], rows)


def memory_table(results: list[dict]) -> str:
    rows = []
    for r in results:
        m = r.get("memory")
        if not m:
            continue
        rss = m["rss_kb"]
        rows.append([r["backend"], m["pages"], m["rows"], m["seconds"], f"{rss[0] / 1024:.1f}",
                     f"{rss[len(rss) // 2] / 1024:.1f}", f"{rss[-1] / 1024:.1f}", f"{m['peak_kb'] / 1024:.1f}"])
    return table(["backend", "pages", "rows", "seconds", "RSS at start MiB", "RSS half way MiB",
                  "RSS at end MiB", "peak (VmHWM) MiB"], rows)


def htmx_table(results: list[dict]) -> str:
    rows = []
    for r in results:
        h = r.get("htmx_complete")
        if h:
            rows.append([r["backend"], f"{r['tasks']:,}", h["median_ms"], h["bytes_median"], h["bytes_max"]])
    return table(["backend", "tasks", "median ms", "bytes (median)", "bytes (max)"], rows)


def main() -> None:
    results = [json.loads(Path(p).read_text()) for p in sys.argv[1:]]
    for title, render in (("Lists", lists_table), ("Keyset against OFFSET", offset_table),
                          ("Statements per request", counts_table), ("Serialization", profile_table),
                          ("Writes", writes_table), ("Inline complete", htmx_table), ("Memory", memory_table)):
        try:
            print(f"### {title}\n\n{render(results)}\n")
        except (KeyError, IndexError) as err:
            print(f"### {title}\n\n(not measured: {err})\n")
    print("### Query plans (the list's own table; the joins to linked records are index lookups by id)\n")
    labels = list(results[0].get("plans", {}))
    for label in labels:
        print(f"#### {label}\n")
        for r in results:
            plan = r.get("plans", {}).get(label)
            if plan:
                print(f"{r['backend']}:\n\n```\n{main_lines(plan)}\n```\n")


def main_lines(plan: str) -> str:
    """The plan lines about tasks and activities (and sorting), without the joined lookups."""
    kept, follow = [], False
    for line in plan.splitlines():
        text = line.strip()
        about_list = any(f" {t}" in f" {text}" for t in ("tasks ", "tasks\n", "activities ")) or \
            text.endswith((" tasks", " activities")) or " on tasks" in text or " on activities" in text
        if about_list and not text.startswith(("Cache", "Hits")) or text.startswith(("Sort Key", "USE TEMP")):
            kept.append(text)
            follow = True
        elif follow and text.startswith(("Index Cond", "Filter", "Rows Removed", "Recheck", "Heap Blocks", "->  Bitmap Index")):
            kept.append("  " + text)
        else:
            follow = False
        if text.startswith(("Planning Time", "Execution Time")):
            kept.append(text)
    return "\n".join(kept)


if __name__ == "__main__":
    main()
