"""A real multi-process server for the reliability tests: gunicorn with two workers on a free
loopback port, its own instance folder and SQLite file, started, killed and restarted by the
test (tests/servers.py's gunicorn_server only starts and stops)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from crm import create_app
from crm.extensions import db
from tests.conftest import make_account
from tests.servers import ROOT, free_port

START_TIMEOUT = 30
RELIABILITY_SECRET = "reliability-tests-secret-key-0123456789"


@dataclass
class Server:
    instance: Path
    secret: str = ""
    workspace_id: str = ""
    process: subprocess.Popen | None = None
    port: int = 0
    log_paths: list[Path] = field(default_factory=list)

    @property
    def db_path(self) -> Path:
        return self.instance / "crm.sqlite3"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FLASK_APP")}
        env.update(
            CRM_INSTANCE_PATH=str(self.instance),
            DATABASE_URL=self.database_url,
            SECRET_KEY=RELIABILITY_SECRET,
            CRM_RATE_LIMIT="1000000/minute",
            PYTHONPATH=str(ROOT),
        )
        return env

    def create_account(self) -> None:
        """Migrate the database and make a workspace, a user and an API key, in this process."""
        app = create_app({"SQLALCHEMY_DATABASE_URI": self.database_url, "SECRET_KEY": RELIABILITY_SECRET})
        self.workspace_id, _user_id, self.secret = make_account(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    def start(self, workers: int = 2, threads: int = 4) -> None:
        self.port = free_port()
        log = self.instance.parent / f"server-{len(self.log_paths)}.log"
        self.log_paths.append(log)
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
                 "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "5", "--timeout", "60", "app:app"],
                cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: a crash, no clean-up of any kind."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.log_paths if p.exists())

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-Api-Key": self.secret, **extra}


@pytest.fixture
def server(tmp_path):
    """A migrated instance with an account; call .start() to serve it."""
    srv = Server(instance=tmp_path / "instance")
    srv.instance.mkdir()
    srv.create_account()
    yield srv
    srv.stop()
