"""The periodic work, as (function, interval in seconds): each function takes `now` and returns
how many things it did. The job queue runs them on their intervals; `flask crm run-due` runs
them once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from crm import clock
from crm.services import digest, mail, reminders

MAX_MAIL_ROUNDS = 50

PERIODIC: list[tuple[Callable[[datetime | None], int], int]] = [
    (reminders.fire_due, 30),
    (digest.send_due, 60),
    (mail.deliver_due, 30),
]


def run_due(now: datetime | None = None) -> dict[str, int]:
    """Run every periodic function once, in order (reminders and digests queue mail, which the
    last one sends); returns each one's count by name."""
    now = now or clock.now()
    counts = {f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}": fn(now) for fn, _interval in PERIODIC}
    # Mail goes out in batches: a thousand reminders due at once are all mailed in this run.
    for _round in range(MAX_MAIL_ROUNDS):
        if counts["mail.deliver_due"] < (_round + 1) * mail.DELIVER_BATCH:
            break
        counts["mail.deliver_due"] += mail.deliver_due(now)
    return counts
