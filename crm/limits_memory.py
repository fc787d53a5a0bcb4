"""The rate limiter's in-process storage (`memory://`), without a thread per request.

limits' MemoryStorage starts a timer thread to expire counters whenever none is running, which in
practice is on almost every request: profiled at 100,000 tasks it was about a seventh of a 50-row
list request. Counters expire lazily anyway (a read drops an expired one), so this storage only
sweeps stale counters now and then, in the request that finds the sweep due."""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

SWEEP_EVERY_S = 60.0


class SweepingMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["crm-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self._next_sweep = time.monotonic() + SWEEP_EVERY_S

    # MemoryStorage calls this (name-mangled) before each change; it would start the timer thread.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_S
            self._MemoryStorage__expire_events()


def storage_uri(configured: str) -> str:
    """The limiter's storage URI: `memory://` means this storage; others (redis://) are kept."""
    return "crm-memory://" if configured.strip() in ("memory://", "memory:///", "") else configured
