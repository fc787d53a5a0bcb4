"""Entry point. `flask` finds `app` here; `python3 app.py [--demo] [--host H] [--port N]` serves.

Run with an interpreter outside any virtual environment (a stock Debian or Ubuntu Python, a pyenv
or python.org one), `python3 app.py` first makes `.venv/` beside this file, installs the locked
requirements into it (again only when the lock changes), and restarts itself there. Inside a
virtual environment of your own it runs as it is. It serves with an embedded job-queue worker
(CRM_EMBEDDED_WORKER=false to run `flask crm worker` separately).
"""

import sys

if __name__ == "__main__":
    import hashlib
    import importlib.util
    import os
    import shutil
    import subprocess
    from pathlib import Path

    ROOT = Path(__file__).resolve().parent
    VENV = ROOT / ".venv"
    LOCK = ROOT / "requirements" / "app.txt"

    def venv_python() -> Path:
        return VENV / "bin" / "python"

    def make_venv() -> None:
        if venv_python().exists():
            return
        print(f"Followup: creating {VENV} ...", flush=True)
        made = subprocess.run([sys.executable, "-m", "venv", str(VENV)]).returncode == 0
        if not made and os.geteuid() == 0 and shutil.which("apt-get"):
            # Debian and Ubuntu ship venv (ensurepip) separately from python3.
            version = f"python3.{sys.version_info.minor}-venv"
            print(f"Followup: installing {version} with apt-get ...", flush=True)
            subprocess.run(["apt-get", "update", "-qq"], check=False)
            subprocess.run(["apt-get", "install", "-y", "-qq", version], check=False)
            shutil.rmtree(VENV, ignore_errors=True)
            made = subprocess.run([sys.executable, "-m", "venv", str(VENV)]).returncode == 0
        if not made:
            shutil.rmtree(VENV, ignore_errors=True)
            sys.exit(f"Followup: could not create a virtual environment. On Debian or Ubuntu run\n"
                     f"  sudo apt-get install python3.{sys.version_info.minor}-venv\nand try again.")

    def install_lock() -> None:
        stamp = VENV / ".followup-lock"
        digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text() == digest:
            return
        print("Followup: installing the locked requirements (once) ...", flush=True)
        pip = [str(venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        if subprocess.run([*pip, "-r", str(LOCK)]).returncode != 0:
            sys.exit("Followup: installing the requirements failed (see above).")
        stamp.write_text(digest)

    in_project_venv = Path(sys.prefix).resolve() == VENV.resolve()
    in_other_venv = sys.prefix != sys.base_prefix and not in_project_venv
    if in_project_venv:
        install_lock()
    elif not in_other_venv:
        # A system, pyenv or python.org interpreter: run in the project's own environment.
        make_venv()
        install_lock()
        os.execv(str(venv_python()), [str(venv_python()), str(ROOT / "app.py"), *sys.argv[1:]])
    elif importlib.util.find_spec("flask_sqlalchemy") is None:
        sys.exit(f"Followup: this virtual environment ({sys.prefix}) lacks the requirements:\n"
                 f"  pip install -r {LOCK}\nor run app.py with a Python outside any virtual environment.")

from crm import create_app  # noqa: E402
from crm.logs import configure_logging  # noqa: E402

configure_logging()
app = create_app()

if __name__ == "__main__":
    from crm.__main__ import parse_args, serve

    serve(app, parse_args())
