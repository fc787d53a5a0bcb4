"""The one clock the rules read, so that tests can move time (patch `crm.clock.now`)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Now as stored: naive UTC, second precision."""
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None)
