"""The README's run command, exactly as printed, on an interpreter with no project package."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.install.conftest import ROOT, base_python, clean_env
from tests.servers import free_port


def readme_quick_start() -> list[str]:
    """The commands of the README's quick-start block (comments dropped)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def test_readme_quick_start_has_exactly_two_commands():
    commands = readme_quick_start()
    assert len(commands) == 2, commands
    assert commands[1] == "bash .ci/run"


def test_readme_run_command_installs_and_serves_the_demo(fresh_checkout: Path):
    command = readme_quick_start()[0]
    assert command.startswith("python3 "), command
    port = free_port()
    # `python3` is an interpreter outside any virtual environment, as on a new machine.
    shim = fresh_checkout.parent / "bin"
    shim.mkdir()
    (shim / "python3").symlink_to(base_python())
    env = clean_env(PORT=str(port))
    env["PATH"] = f"{shim}:{env['PATH']}"
    log_path = fresh_checkout.parent / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["bash", "-c", command], cwd=fresh_checkout, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        stamp = fresh_checkout / ".venv" / ".followup-lock"
        deadline = time.monotonic() + 600  # the install itself: a new venv and the locked packages
        while not stamp.exists():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the install did not finish in 10 minutes"
            time.sleep(0.5)
        installed = time.monotonic()
        body = None
        while time.monotonic() - installed < 60:
            assert proc.poll() is None, log_path.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    if response.status == 200:
                        body = response.read().decode()
                        break
            except OSError:
                time.sleep(0.3)
        assert body is not None, f"/login did not answer within 60 s of the install:\n{log_path.read_text()}"
        assert "Sign in" in body
        output = log_path.read_text()
        # The demo printed its sign-in and key, with the port it really serves on.
        assert f"http://127.0.0.1:{port}/login" in output
        assert re.search(r"API key:\s+fu_\S+", output), output
        assert (fresh_checkout / "instance" / "crm.sqlite3").exists()
    finally:
        import os

        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
