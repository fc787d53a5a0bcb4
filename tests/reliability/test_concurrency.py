"""Concurrent writers on one SQLite file behind several processes: no 5xx, no "database is
locked", no lost update."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest
import requests

CLIENTS = 8
OPERATIONS_PER_CLIENT = 40
SHARED_COUNTERS = 3
MAX_RETRIES = 200


class Tally:
    """What the clients saw, and what the server acknowledged."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.requests = 0
        self.server_errors: list[str] = []
        self.created_tasks: set[str] = set()
        self.completed_tasks: set[str] = set()
        self.created_activities: set[str] = set()
        self.increments: Counter[str] = Counter()
        self.retries = 0

    def saw(self, response: requests.Response) -> requests.Response:
        with self.lock:
            self.requests += 1
            self.statuses[response.status_code] += 1
            if response.status_code >= 500 or "database is locked" in response.text:
                self.server_errors.append(f"{response.request.method} {response.url}: "
                                          f"{response.status_code} {response.text[:300]}")
        return response


def run_client(server, tally: Tally, number: int, counters: list[str]) -> None:
    http = requests.Session()
    http.headers.update(server.headers())
    base = f"{server.url}/api/v1"
    mine: list[str] = []
    for op in range(OPERATIONS_PER_CLIENT):
        kind = op % 4
        if kind == 0 or (kind == 2 and not mine):
            r = tally.saw(http.post(f"{base}/tasks", json={"title": f"client {number} task {op}",
                                                           "tags": [f"c{number}"]}, timeout=60))
            if r.status_code == 201:
                mine.append(r.json()["data"]["id"])
                with tally.lock:
                    tally.created_tasks.add(mine[-1])
        elif kind == 1:
            counter = counters[(number + op) % len(counters)]
            for _attempt in range(MAX_RETRIES):
                got = tally.saw(http.get(f"{base}/tasks/{counter}", timeout=60))
                hits = got.json()["data"]["metadata"]["hits"]
                r = tally.saw(http.patch(f"{base}/tasks/{counter}", json={"metadata": {"hits": hits + 1}},
                                         headers={"If-Match": got.headers["ETag"]}, timeout=60))
                if r.status_code == 200:
                    with tally.lock:
                        tally.increments[counter] += 1
                    break
                if r.status_code != 412:
                    break  # anything else is recorded by the tally and fails the test
                with tally.lock:
                    tally.retries += 1
        elif kind == 2:
            task_id = mine.pop(0)
            r = tally.saw(http.post(f"{base}/tasks/{task_id}/complete", json={"completion_note": "done"},
                                    timeout=60))
            if r.status_code == 200:
                with tally.lock:
                    tally.completed_tasks.add(task_id)
        else:
            r = tally.saw(http.post(f"{base}/activities", json={
                "type": "call", "subject": f"client {number} call {op}", "source": "loadtest",
                "external_id": f"{number}-{op}"}, timeout=60))
            if r.status_code == 201:
                with tally.lock:
                    tally.created_activities.add(r.json()["data"]["id"])


@pytest.mark.slow
def test_eight_clients_writing_through_two_processes_lose_nothing(server):
    server.start(workers=2, threads=4)
    base = f"{server.url}/api/v1"
    counters = []
    for i in range(SHARED_COUNTERS):
        r = requests.post(f"{base}/tasks", json={"title": f"counter {i}", "metadata": {"hits": 0}},
                          headers=server.headers(), timeout=30)
        assert r.status_code == 201
        counters.append(r.json()["data"]["id"])

    tally = Tally()
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(run_client, server, tally, n, counters) for n in range(CLIENTS)]:
            future.result(timeout=240)
    elapsed = time.monotonic() - started
    print(f"\nload: {CLIENTS} clients, {tally.requests} requests in {elapsed:.1f} s "
          f"({tally.requests / elapsed:.0f}/s), statuses {dict(tally.statuses)}, "
          f"{tally.retries} If-Match retries")

    assert tally.server_errors == []
    assert set(tally.statuses) <= {200, 201, 412}
    log = server.log()
    assert "database is locked" not in log and "Traceback" not in log
    assert server.secret not in log

    # The final state is the sum of the acknowledged writes.
    with closing(sqlite3.connect(server.db_path)) as conn:
        tasks = {row[0]: row for row in conn.execute("SELECT id, status, json_extract(metadata, '$.hits') FROM tasks")}
        activities = {row[0] for row in conn.execute("SELECT id FROM activities")}
    assert set(tasks) == tally.created_tasks | set(counters)
    for counter in counters:
        assert tasks[counter][2] == tally.increments[counter]
    assert sum(tally.increments.values()) == CLIENTS * OPERATIONS_PER_CLIENT // 4
    assert {t for t, row in tasks.items() if row[1] == "completed"} == tally.completed_tasks
    assert activities == tally.created_activities
    assert len(activities) == CLIENTS * OPERATIONS_PER_CLIENT // 4
