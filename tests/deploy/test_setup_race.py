"""First-run set-up under a race: many people submitting /setup at once on a fresh install."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.servers import gunicorn_server

pytestmark = pytest.mark.slow
SUBMITTERS = 12
SECRET = "setup-race-secret-key-0123456789abcdef"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_concurrent_setups_make_exactly_one_workspace_and_admin(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "SECRET_KEY": SECRET, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}
    with gunicorn_server(env, log_path=tmp_path / "server.log") as base:
        sessions, tokens = [], []
        for _ in range(SUBMITTERS):
            session = requests.Session()
            page = session.get(f"{base}/setup", timeout=30)
            assert page.status_code == 200
            sessions.append(session)
            tokens.append(CSRF.search(page.text).group(1))
        barrier = threading.Barrier(SUBMITTERS)
        answers: list[tuple[int, int, str]] = []
        lock = threading.Lock()

        def submit(n: int) -> None:
            form = {"csrf_token": tokens[n], "workspace": f"Workspace {n}", "name": f"Admin {n}",
                    "email": f"admin{n}@example.test", "password": "long enough"}
            barrier.wait(timeout=30)
            response = sessions[n].post(f"{base}/setup", data=form, allow_redirects=False, timeout=60)
            with lock:
                answers.append((n, response.status_code, response.headers.get("Location", "")))

        threads = [threading.Thread(target=submit, args=(n,)) for n in range(SUBMITTERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert len(answers) == SUBMITTERS
        winners = [a for a in answers if a[1:] == (303, "/tasks")]
        others = [a for a in answers if a not in winners]
        assert len(winners) == 1, answers
        assert all(status == 303 and location == "/login" for _n, status, location in others), answers
        # A latecomer is told why, on the sign-in page it was sent to.
        late = sessions[others[0][0]].get(f"{base}/login", timeout=30)
        assert "This install is already set up; sign in instead." in late.text
        # The winner is signed in as the one admin.
        assert sessions[winners[0][0]].get(f"{base}/tasks", allow_redirects=False, timeout=30).status_code == 200

    engine = create_engine(database_url)
    with engine.connect() as conn:
        workspaces = conn.execute(text("SELECT name FROM workspaces")).scalars().all()
        users = conn.execute(text("SELECT email, role FROM users")).all()
        installed = conn.execute(text("SELECT COUNT(*) FROM installation")).scalar()
    engine.dispose()
    n = winners[0][0]
    assert workspaces == [f"Workspace {n}"]
    assert [tuple(u) for u in users] == [(f"admin{n}@example.test", "admin")]
    assert installed == 1
