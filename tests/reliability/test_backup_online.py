"""`flask crm backup` while a multi-process server keeps writing: a consistent snapshot."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from contextlib import closing

import pytest
import requests

from crm import create_app
from crm.extensions import db
from tests.conftest import BASE_CONFIG
from tests.reliability.conftest import ROOT


def rows(path, ids=None):
    with closing(sqlite3.connect(path)) as conn:
        query = "SELECT * FROM tasks ORDER BY id"
        found = conn.execute(query).fetchall()
    return [r for r in found if ids is None or r[0] in ids]


@pytest.mark.slow
def test_backup_taken_under_write_load_is_consistent_and_restorable(server, tmp_path):
    server.start(workers=2, threads=2)
    base = f"{server.url}/api/v1"
    http = requests.Session()
    http.headers.update(server.headers())
    before = [http.post(f"{base}/tasks", json={"title": f"before {i}"}, timeout=30).json()["data"]["id"]
              for i in range(30)]
    stop = threading.Event()
    during: list[int] = []

    def keep_writing():
        writer = requests.Session()
        writer.headers.update(server.headers())
        while not stop.is_set():
            r = writer.post(f"{base}/tasks", json={"title": "during", "metadata": {"n": len(during)}}, timeout=30)
            during.append(r.status_code)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        while len(during) < 10:
            threading.Event().wait(0.02)
        target = tmp_path / "backup.sqlite3"
        done = subprocess.run([sys.executable, "-m", "flask", "crm", "backup", str(target)], cwd=ROOT,
                              env=server.env(), capture_output=True, text=True, timeout=120)
        while len(during) < 30:
            threading.Event().wait(0.02)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert set(during) == {201}

    # Restore into a new instance: the copy is sound, holds everything written before the
    # backup, and each row it holds is identical to the live one.
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copied = rows(target)
    live = rows(server.db_path, {r[0] for r in copied})
    assert copied == live
    copied_ids = {r[0] for r in copied}
    assert set(before) <= copied_ids
    assert len(copied) < len(rows(server.db_path))  # the writes after the snapshot are not in it

    restored = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}"})
    try:
        client = restored.test_client()
        page = client.get("/api/v1/tasks?limit=200&include_total=true", headers=server.headers()).get_json()
        assert page["total"] == len(copied)
        live_task = http.get(f"{base}/tasks/{before[0]}", timeout=30).json()
        assert client.get(f"/api/v1/tasks/{before[0]}", headers=server.headers()).get_json() == live_task
    finally:
        with restored.app_context():
            db.engine.dispose()
