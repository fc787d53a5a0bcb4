"""Consistent copies of the database while the app keeps serving."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from crm.files import create_private_file


class BackupError(Exception):
    pass


def backup_database(database_uri: str, target: Path) -> str:
    """Copy the database to `target`; returns a one-line summary."""
    url = make_url(database_uri)
    if url.get_backend_name() == "sqlite":
        return backup_sqlite(Path(url.database or ""), target)
    if url.get_backend_name() == "postgresql":
        return backup_postgresql(url, target)
    raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")


def backup_sqlite(source: Path, target: Path) -> str:
    """SQLite's online backup API: a snapshot taken in one read transaction, so writers in other
    processes carry on and the copy is consistent. Written beside the target, then renamed."""
    if not source.is_file():
        raise BackupError(f"No SQLite database at {source}.")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private_file(partial)  # 0600, kept by the rename below
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst)  # all pages in one step: one consistent snapshot
        # A standalone single file: no -wal/-shm companions next to the copy.
        dst.execute("PRAGMA journal_mode = DELETE")
        verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as err:
        partial.unlink(missing_ok=True)
        raise BackupError(f"Backup failed: {err}") from None
    finally:
        dst.close()
        src.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"The copy failed its integrity check: {verdict}")
    os.replace(partial, target)
    return f"Backed up {source} to {target} ({target.stat().st_size:,} bytes, integrity ok)."


def pg_dump_command(url, target: Path) -> list[str]:
    """pg_dump in custom format (restore with pg_restore); the password goes in PGPASSWORD."""
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query)
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={target}",
            f"--dbname={plain.render_as_string(hide_password=False)}"]


def backup_postgresql(url, target: Path) -> str:
    command = pg_dump_command(url, target)
    if shutil.which("pg_dump") is None:
        shown = " ".join(command)
        raise BackupError(
            "pg_dump is not installed. Install the PostgreSQL client tools, or run on a machine "
            f"that has them (set PGPASSWORD first):\n  {shown}"
        )
    target.unlink(missing_ok=True)
    create_private_file(target)  # 0600; pg_dump writes into it and keeps the mode
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return f"Dumped {url.database} to {target} ({target.stat().st_size:,} bytes; restore with pg_restore)."
