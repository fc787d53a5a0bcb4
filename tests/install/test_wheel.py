"""The built wheel carries its templates, static files and migrations, and runs on its own."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

from tests.install.conftest import ROOT, base_python, clean_env
from tests.servers import free_port, wait_for


def test_wheel_installed_outside_the_repository_serves_pages_and_the_api_document(tmp_path: Path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("followup-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("crm/templates/base.html", "crm/static/app.css", "crm/migrations/env.py"):
        assert needed in names, needed

    venv = tmp_path / "venv"
    subprocess.run([base_python(), "-m", "venv", str(venv)], check=True, env=clean_env())
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-c", str(ROOT / "requirements" / "app.txt"), str(wheel)], check=True, env=clean_env(),
                   capture_output=True)

    port = free_port()
    workdir = tmp_path / "elsewhere"  # nothing of the checkout on the path
    workdir.mkdir()
    env = clean_env(CRM_INSTANCE_PATH=str(tmp_path / "instance"), PORT=str(port))
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(venv / "bin" / "followup")], cwd=workdir, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login") as response:
            # A fresh install sends /login on to /setup, a page rendered from the packaged templates.
            assert response.status == 200 and response.url.endswith("/setup")
            assert "workspace" in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/app.css") as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json") as response:
            document = json.load(response)
        assert document["openapi"].startswith("3.1") and "/tasks" in document["paths"]
        assert (tmp_path / "instance" / "crm.sqlite3").exists()
        # The code ran from the installed wheel, not from the checkout.
        where = subprocess.run([str(venv / "bin" / "python"), "-c", "import crm; print(crm.__file__)"],
                               cwd=workdir, env=env, capture_output=True, text=True, check=True).stdout
        assert str(venv) in where
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert b"Traceback" not in log_path.read_bytes(), log_path.read_text()
