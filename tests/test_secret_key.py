"""The secret key: generated once, atomically, never read empty; a short one refuses to start."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

import pytest

from crm.config import ConfigError, load_secret_key
from tests.servers import ROOT

TRIALS = 40
PROCESSES = 8


def _start_and_report(folder: str, barrier, results) -> None:
    barrier.wait(timeout=30)
    try:
        results.put(load_secret_key(folder))
    except Exception as err:  # noqa: BLE001 - reported to the test
        results.put(f"error: {err!r}")


def test_processes_starting_together_on_a_fresh_folder_agree_on_one_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    context = multiprocessing.get_context("fork")
    for trial in range(TRIALS):
        folder = tmp_path / f"instance-{trial}"
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        processes = [context.Process(target=_start_and_report, args=(str(folder), barrier, results))
                     for _ in range(PROCESSES)]
        for process in processes:
            process.start()
        keys = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        assert len(set(keys)) == 1, f"trial {trial}: {keys}"
        assert len(keys[0]) >= 32
        assert (folder / "secret_key").read_text() == keys[0]
        assert [p.name for p in folder.iterdir()] == ["secret_key"]  # no temporary file left


def start_app(tmp_path, **env) -> subprocess.CompletedProcess:
    """Start the app in a process of its own, as `gunicorn app:app` or `flask` would."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    full_env.update(CRM_INSTANCE_PATH=str(tmp_path / "instance"),
                    DATABASE_URL=f"sqlite:///{tmp_path / 'crm.sqlite3'}", PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-c", "from crm import create_app; create_app(); print('started')"],
                          cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("key", ["", "short", "x" * 31])
def test_a_short_secret_key_in_the_environment_refuses_to_start(tmp_path, key):
    result = start_app(tmp_path, SECRET_KEY=key)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "SECRET_KEY is empty or shorter than 32 characters; refusing to start" in result.stderr


def test_a_short_secret_key_in_instance_config_refuses_to_start(tmp_path):
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text("SECRET_KEY = 'changeme'\n")
    result = start_app(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is empty or shorter than 32 characters" in result.stderr


def test_a_long_secret_key_starts(tmp_path):
    result = start_app(tmp_path, SECRET_KEY="k" * 32)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_an_empty_key_file_is_refused_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="secret_key is empty or shorter than 32 characters"):
        load_secret_key(str(tmp_path))
