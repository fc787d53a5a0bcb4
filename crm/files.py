"""Files the app creates are private to the account that runs it: 0600 files, 0700 folders.

The database and its -wal/-shm companions (SQLite gives those the database file's mode), the
secret key, backups and exports hold every customer's data or the means to forge sessions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: str | Path) -> Path:
    """Make the folder (and missing parents) 0700; an existing folder is left as it is."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is filtered by the umask
    return path


def create_private_file(path: str | Path) -> Path:
    """Create the file empty with mode 0600 unless it exists (its mode is then left alone)."""
    path = Path(path)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    return path


def open_private(path: str | Path, mode: str = "w", **kwargs) -> IO:
    """open(path, mode) for writing a new or replaced file, which ends up 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # a file that existed before keeps its mode otherwise
    return os.fdopen(fd, mode, **kwargs)
