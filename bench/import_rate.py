"""How fast `flask crm import` takes 100,000 rows (the figure in docs/operations.md).

    python bench/import_rate.py [--rows 100000] [--format jsonl|csv]

Builds a scratch instance (SQLite, in a temporary folder) with a workspace, a user and some
companies and contacts, writes a file of tasks and activities linked to them, then times the
import command in a subprocess, as an operator would run it.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CRM_INSTANCE_PATH"] = str(Path(tmp) / "instance")
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(ROOT))
        from crm import create_app
        from crm.services import accounts, records, transfer

        app = create_app()
        rng = random.Random(1)
        with app.app_context():
            workspace = accounts.create_workspace("Bench")
            accounts.create_user(workspace, email="bench@example.com", name="Bench", role="admin")
            companies = [records.create_company(workspace.id, {"name": f"Company {i}"}) for i in range(20)]
            contacts = [records.create_contact(workspace.id, {"first_name": f"Contact {i}",
                                                               "company_id": companies[i % 20].id})
                        for i in range(50)]
            contact_ids = [(c.id, c.company_id) for c in contacts]
        rows = []
        for i in range(args.rows):
            contact_id, company_id = rng.choice(contact_ids)
            if i % 2:
                rows.append({"kind": "task", "title": f"Follow up #{i}", "priority": rng.choice(["low", "normal", "high"]),
                             "due_at": f"2026-12-{rng.randint(1, 28):02d}", "contact_id": contact_id,
                             "company_id": company_id, "owner_email": "bench@example.com",
                             "tags": ["bench"], "metadata": {"n": i}})
            else:
                rows.append({"kind": "activity", "type": rng.choice(["call", "email", "note"]),
                             "subject": f"Touchpoint #{i}", "body": "Talked about the renewal.",
                             "contact_id": contact_id, "occurred_at": "2026-10-01T09:30:00Z",
                             "source": "bench", "external_id": f"bench-{i}"})
        path = Path(tmp) / f"rows.{args.format}"
        with open(path, "w", encoding="utf-8", newline="") as out:
            if args.format == "csv":
                import csv

                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(transfer.COLUMNS)
                for row in rows:
                    writer.writerow([transfer.csv_cell(c, row.get(c)) for c in transfer.COLUMNS])
            else:
                import orjson

                for row in rows:
                    out.write(orjson.dumps(row).decode() + "\n")
        started = time.perf_counter()
        cpu_before = os.times()
        done = subprocess.run([sys.executable, "-m", "flask", "crm", "import", str(path)], cwd=ROOT,
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        cpu_after = os.times()
        cpu = (cpu_after.children_user - cpu_before.children_user) + (cpu_after.children_system - cpu_before.children_system)
        print(done.stdout.strip())
        if done.returncode:
            print(done.stderr[-2000:], file=sys.stderr)
            sys.exit(1)
        print(f"{args.rows} {args.format} rows: {elapsed:.1f} s wall, {cpu:.1f} s CPU, "
              f"{args.rows / elapsed:,.0f} rows/s")


if __name__ == "__main__":
    main()
