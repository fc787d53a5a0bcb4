"""`python app.py` runs a worker on threads of its own process; CRM_EMBEDDED_WORKER=false and the
test suite's immediate mode do not."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.slow

# Runs app.py as `python app.py` does, with Flask's server replaced by a check: a row committed
# by the app process is handled by that same process's embedded worker.
SCRIPT = r"""
import runpy, sys, threading, time
import flask

def run(self, host=None, port=None, **kw):
    from crm.database import writing
    from crm.extensions import db
    from crm.models import OutboxMessage
    from crm.services import outbox
    import tests.queue_jobs
    threads = sorted(t.name for t in threading.enumerate() if t.name.startswith(("Worker-", "Dispatcher")))
    print("threads", ",".join(threads))
    if not threads:
        return
    with self.app_context(), writing():
        outbox.add("test.record", {"n": 1})
        db.session.commit()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with self.app_context():
            state = db.session.query(OutboxMessage.state).filter(OutboxMessage.kind == "test.record").scalar()
        if state == "done":
            print("handled by the embedded worker", host, port)
            return
        time.sleep(0.05)
    print("not handled")

flask.Flask.run = run
sys.argv = ["app.py"]
runpy.run_path("app.py", run_name="__main__")
"""


def run_app_py(database_url, tmp_path, **env):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url,
                "CRM_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test-secret-key-for-the-suite-0123456789",
                "CRM_JOB_MODULES": "tests.queue_jobs", "CRM_QUEUE_POLL_SECONDS": "0.2", **env}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=full_env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_python_app_py_handles_jobs_with_its_embedded_worker(database_url, tmp_path):
    out = run_app_py(database_url, tmp_path)
    assert "threads Dispatcher,Worker-1,Worker-2" in out
    assert "handled by the embedded worker 127.0.0.1 5000" in out


def test_embedded_worker_can_be_turned_off(database_url, tmp_path):
    out = run_app_py(database_url, tmp_path, CRM_EMBEDDED_WORKER="false")
    assert [line for line in out.splitlines() if line.startswith("threads")] == ["threads "]
