"""Fresh-install checks: what a new user does on a machine with no project package installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def base_python() -> str:
    """The interpreter this virtual environment was made from: no project package installed."""
    for name in (f"python3.{sys.version_info.minor}", "python3"):
        path = Path(sys.base_prefix) / "bin" / name
        if path.exists():
            return str(path)
    pytest.fail(f"no base interpreter under {sys.base_prefix}")


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without this virtual environment or the test settings."""
    venv_bin = str(Path(sys.prefix) / "bin")
    env = {k: v for k, v in os.environ.items()
           if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DATABASE_URL", "TEST_DATABASE_URL",
                        "CRM_INSTANCE_PATH", "SECRET_KEY", "PORT", "FLASK_APP"}
           and not k.startswith("PYTEST")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(extra)
    return env


@pytest.fixture
def fresh_checkout(tmp_path) -> Path:
    """The repository's tracked files, as a fresh clone has them, in a scratch folder."""
    target = tmp_path / "followup"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        source = ROOT / rel
        if source.is_file():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    return target
