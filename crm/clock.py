"""The one clock: every "now" in Followup (stored timestamps, due reminders, leases) reads it.

Tests move it instead of sleeping:

- in the test process, `travel(timedelta(hours=2))` (or `set_offset`) shifts every later `now()`;
- in a subprocess (a worker, a server), `CRM_CLOCK_OFFSET_SECONDS=3600` shifts it from the start,
  and `CRM_CLOCK_FILE=/path` makes it follow the number of seconds written in that file (re-read
  when the file changes), so a test can move a running process's clock.

Production sets neither variable: `now()` is then the system clock.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

_offset = timedelta(seconds=float(os.environ.get("CRM_CLOCK_OFFSET_SECONDS") or 0))
_file = os.environ.get("CRM_CLOCK_FILE") or None
_file_state: tuple[tuple[int, int], timedelta] = ((-1, -1), timedelta(0))  # ((inode, mtime), offset)
_lock = threading.Lock()


def _file_offset() -> timedelta:
    global _file_state
    try:
        stat = os.stat(_file)  # type: ignore[arg-type]
        mtime = (stat.st_ino, stat.st_mtime_ns)
    except OSError:
        return timedelta(0)
    if mtime != _file_state[0]:
        with _lock:
            try:
                with open(_file) as fh:  # type: ignore[arg-type]
                    seconds = float(fh.read().strip() or 0)
            except (OSError, ValueError):
                return _file_state[1]
            _file_state = (mtime, timedelta(seconds=seconds))
    return _file_state[1]


def offset() -> timedelta:
    """How far this process's clock is moved from the system clock."""
    return _offset + (_file_offset() if _file else timedelta(0))


def now() -> datetime:
    """Now, as stored: naive UTC with second precision."""
    return precise_now().replace(microsecond=0)


def precise_now() -> datetime:
    """Now, naive UTC with microseconds (for latencies and leases, never stored in records)."""
    return datetime.now(UTC).replace(tzinfo=None) + offset()


def system_now() -> datetime:
    """The machine's own clock, never moved: for what another machine compares with its own
    clock (a webhook's signed timestamp, which receivers check within minutes of theirs)."""
    return datetime.now(UTC)


def set_offset(delta: timedelta) -> None:
    """Move this process's clock to the system clock + `delta` (tests)."""
    global _offset
    _offset = delta


def travel(delta: timedelta) -> None:
    """Move this process's clock forward (or back, with a negative `delta`) by `delta` (tests)."""
    set_offset(_offset + delta)


def write_offset_file(path: str | os.PathLike, delta: timedelta) -> None:
    """Set the offset that processes started with CRM_CLOCK_FILE=path follow (tests)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        fh.write(str(delta.total_seconds()))
    os.replace(tmp, path)
