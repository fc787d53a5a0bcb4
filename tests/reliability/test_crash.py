"""SIGKILL in the middle of a write load: every acknowledged write survives, the file is sound."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing

import pytest
import requests

WRITERS = 6
KILL_AFTER_ACKS = 150


@pytest.mark.slow
def test_acknowledged_writes_survive_a_sigkill_mid_load(server):
    server.start(workers=2, threads=4)
    base = f"{server.url}/api/v1"
    acked_tasks: set[str] = set()
    acked_updates: dict[str, str] = {}  # task id -> the title a 200 PATCH acknowledged
    lock = threading.Lock()
    stop = threading.Event()

    def write(number: int) -> None:
        http = requests.Session()
        http.headers.update(server.headers())
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r = http.post(f"{base}/tasks", json={"title": f"w{number} #{i}", "metadata": {"i": i}}, timeout=30)
                if r.status_code != 201:
                    continue
                task_id = r.json()["data"]["id"]
                with lock:
                    acked_tasks.add(task_id)
                title = f"w{number} #{i} renamed"
                r = http.patch(f"{base}/tasks/{task_id}", json={"title": title}, timeout=30)
                if r.status_code == 200:
                    with lock:
                        acked_updates[task_id] = title
            except requests.RequestException:
                if stop.is_set():
                    return
                time.sleep(0.05)  # the server is gone; keep trying until told to stop

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked_tasks) < KILL_AFTER_ACKS and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # writers are mid-request: some responses are lost, none may be acknowledged falsely
    stop.set()
    for t in threads:
        t.join(timeout=40)
    assert len(acked_tasks) >= KILL_AFTER_ACKS
    print(f"\ncrash: killed after {len(acked_tasks)} acknowledged creates and {len(acked_updates)} updates")

    with closing(sqlite3.connect(server.db_path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = dict(conn.execute("SELECT id, title FROM tasks"))
    assert acked_tasks <= set(stored)
    assert all(stored[task_id] == title for task_id, title in acked_updates.items())

    server.start(workers=2, threads=4)  # restarts on the same file and carries on
    sample = sorted(acked_tasks)[:20]
    for task_id in sample:
        r = requests.get(f"{server.url}/api/v1/tasks/{task_id}", headers=server.headers(), timeout=30)
        assert r.status_code == 200
    r = requests.post(f"{server.url}/api/v1/tasks", json={"title": "after the crash"}, headers=server.headers(),
                      timeout=30)
    assert r.status_code == 201
