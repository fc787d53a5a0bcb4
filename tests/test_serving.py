"""`python app.py [--host H] [--port N]`, and `PORT`: where the development server listens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT")}
    return {**env, "CRM_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT), **extra}


@contextmanager
def serving(args: list[str], env: dict[str, str]):
    proc = subprocess.Popen([sys.executable, "app.py", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)


def test_port_option_serves_there(tmp_path):
    port = free_port()
    with serving(["--host", "127.0.0.1", "--port", str(port)], app_env(tmp_path)) as proc:
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200


def test_port_environment_variable_is_the_default_port(tmp_path):
    port = free_port()
    with serving([], app_env(tmp_path, PORT=str(port))) as proc:
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc)


def test_port_option_wins_over_the_environment(tmp_path):
    port, other = free_port(), free_port()
    with serving(["--port", str(port)], app_env(tmp_path, PORT=str(other))) as proc:
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc)


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--port", "0"], {}, "between 1 and 65535"),
    (["--port", "http"], {}, "invalid int value"),
    ([], {"PORT": "eighty"}, "PORT must be a number"),
    (["--prot", "8080"], {}, "unrecognized arguments"),
])
def test_a_bad_port_is_a_clear_usage_error(tmp_path, args, env, message):
    result = subprocess.run([sys.executable, "app.py", *args], cwd=ROOT, env=app_env(tmp_path, **env),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
