"""The job queue: one Huey instance, configured from the Flask app, and the jobs it runs.

Storage (CRM_QUEUE_URL): empty (the default) or `sqlite:///path` → Huey's SQLite storage, a file
under instance/ (`instance/queue.sqlite3`, mode 0600), for the single-folder install;
`redis://host:6379/1` → Huey's Redis storage, for app and worker processes on several machines.
CRM_QUEUE_IMMEDIATE=true runs every job at once in the caller (the test suite does).

The queue holds no state that matters: what must happen is an outbox row in the application
database (crm.services.outbox), and the queue only carries "run row 42 with token t" jobs. A
lost queue (a crash, a flushed Redis) loses no work; its rows are claimed again after their lease.

Jobs are a few lines that call a service, always inside an app context of their own:

- `dispatch_outbox`: claims due outbox rows and enqueues `run_outbox_message` for each. A commit
  that added a due row enqueues it (the nudge, `_after_commit`); every worker also runs it every
  CRM_QUEUE_POLL_SECONDS (`Dispatcher`), which handles delayed rows and catches up after downtime.
- `run_outbox_message(id, token)`: runs the row's handler (crm.services.outbox.run).
- periodic jobs, registered with `periodic`.

Registering work from another module (import it from `crm.queue.load_jobs` so workers see it):

    from crm.services import outbox
    from crm.queue import periodic

    @outbox.handler("reminder.fire")                 # rows a service adds with outbox.add(...)
    def fire_reminder(payload: dict) -> None:
        reminders.fire(payload["task_id"])

    @periodic("digest.send", "CRM_DIGEST_SCHEDULE", "*/5 * * * *")
    def send_digests(payload: dict) -> None:         # every 5 minutes, once across all workers
        digests.send_due(clock.now())

A periodic job runs once per matching minute however many workers run: each worker's scheduler
adds an outbox row keyed by the job and the minute (Huey's crontab, minute resolution, UTC), the
key lets only the first in, and the row is handled like any other. A minute during which no
worker ran is not made up; a periodic job catches up by looking at what is due, not at the minute.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import redis
from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.consumer import BaseProcess, Consumer
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event

from crm import clock
from crm.database import writing
from crm.extensions import db
from crm.services import idempotency, outbox, webhooks  # webhooks: its outbox handler

log = logging.getLogger(__name__)

# Created once at import, so that jobs can be declared below; init_app gives it its storage.
huey = Huey("followup", results=False, utc=True, storage_class=MemoryStorage)
_bound: dict[str, Flask] = {}

BATCH = 100
MAX_IN_FLIGHT = 500  # jobs waiting in the queue before the dispatcher stops claiming more
IDLE_POLL_SECONDS = 0.25  # how long an idle worker thread sleeps between looks at SQLite storage


def queue_settings(env: dict | None = None) -> dict:
    env = os.environ if env is None else env

    def flag(name: str, default: bool) -> bool:
        value = env.get(name)
        return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}

    return {
        "CRM_QUEUE_URL": env.get("CRM_QUEUE_URL", ""),
        "CRM_QUEUE_IMMEDIATE": flag("CRM_QUEUE_IMMEDIATE", False),
        "CRM_QUEUE_POLL_SECONDS": float(env.get("CRM_QUEUE_POLL_SECONDS", "5")),
        "CRM_EMBEDDED_WORKER": flag("CRM_EMBEDDED_WORKER", True),
        "CRM_OUTBOX_LEASE_SECONDS": float(env.get("CRM_OUTBOX_LEASE_SECONDS", "300")),
        "CRM_OUTBOX_RETRY_SECONDS": float(env.get("CRM_OUTBOX_RETRY_SECONDS", "10")),
        "CRM_OUTBOX_MAX_ATTEMPTS": int(env.get("CRM_OUTBOX_MAX_ATTEMPTS", "8")),
        "CRM_OUTBOX_RETENTION_DAYS": int(env.get("CRM_OUTBOX_RETENTION_DAYS", "7")),
        "CRM_PURGE_SCHEDULE": env.get("CRM_PURGE_SCHEDULE", "17 * * * *"),
        "CRM_DUE_SCHEDULE": env.get("CRM_DUE_SCHEDULE", "* * * * *"),
        "CRM_TRASH_PURGE_SCHEDULE": env.get("CRM_TRASH_PURGE_SCHEDULE", "41 3 * * *"),
        "CRM_JOB_MODULES": env.get("CRM_JOB_MODULES", ""),
    }


def _sqlite_queue_file(app: Flask, url: str, create: bool) -> str:
    path = Path(url.removeprefix("sqlite:///")) if url else Path(app.instance_path) / "queue.sqlite3"
    if create:  # before SQLite does, so that it is never readable by others (its -wal/-shm follow)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
    return str(path)


def init_app(app: Flask) -> None:
    """Give the Huey instance this app's storage, and feed the queue after each commit."""
    for name, value in queue_settings().items():
        app.config.setdefault(name, value)
    url = app.config["CRM_QUEUE_URL"]
    immediate = bool(app.config["CRM_QUEUE_IMMEDIATE"])
    if url.startswith(("redis://", "rediss://", "unix://")):
        # Timeouts, so that a Redis that stops answering never holds a request for long (the
        # nudge is best effort). BRPOP waits 1 s at a time, well within the read timeout.
        pool = redis.ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"connection_pool": pool}
    elif not url or url.startswith("sqlite:///"):
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {
            "filename": _sqlite_queue_file(app, url, create=not immediate)}
    else:
        raise ValueError(f"CRM_QUEUE_URL must be empty, sqlite:///PATH or redis://...; got {url!r}")
    huey._immediate = immediate
    huey.storage = huey.create_storage()
    _bound["app"] = app
    load_jobs(app)
    session_class = db.session.session_factory.class_
    if not event.contains(session_class, "after_commit", _after_commit):
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_rollback", _after_rollback)


def describe_storage() -> str:
    """Where jobs wait, for logs (no password)."""
    if isinstance(huey.storage, SqliteStorage):
        return f"sqlite {huey.storage.filename}"
    if isinstance(huey.storage, RedisStorage):
        kwargs = huey.storage.pool.connection_kwargs
        return f"redis {kwargs.get('host', kwargs.get('path'))}:{kwargs.get('port', '')}/{kwargs.get('db', 0)}"
    return "memory (immediate)"


def load_jobs(app: Flask) -> None:
    """Import the modules that register outbox handlers and periodic jobs: those of Followup
    (add yours here) and those named in CRM_JOB_MODULES (comma-separated; tests use it)."""
    import importlib

    for name in filter(None, (m.strip() for m in app.config.get("CRM_JOB_MODULES", "").split(","))):
        importlib.import_module(name)


@contextlib.contextmanager
def app_context() -> Iterator[None]:
    """A fresh app context (and so a session of its own) for one job."""
    app = current_app._get_current_object() if has_app_context() else _bound.get("app")
    if app is None:
        raise RuntimeError("crm.queue is not bound to an app: call create_app() first")
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def _after_commit(session) -> None:
    if session.info.pop(outbox.DUE_FLAG, False):
        nudge()


def _after_rollback(session) -> None:
    session.info.pop(outbox.DUE_FLAG, None)


def nudge() -> None:
    """Have a worker dispatch now. Best effort: the workers' polling finds the rows anyway."""
    try:
        dispatch_outbox()
    except Exception:  # noqa: BLE001 - the rows are safe in the database; polling picks them up
        log.warning("could not enqueue the outbox dispatch; the next poll will", exc_info=True)


def dispatch() -> int:
    """Claim due outbox rows and enqueue a job for each, until none is due or the queue is full."""
    total = 0
    while True:
        room = BATCH if huey.immediate else min(BATCH, MAX_IN_FLIGHT - huey.storage.queue_size())
        claimed = outbox.claim_due(room)
        for message_id, token, kind in claimed:
            run_outbox_message(message_id, token, kind)
        total += len(claimed)
        if len(claimed) < BATCH:
            return total


@huey.task(name="outbox.dispatch")
def dispatch_outbox() -> None:
    with app_context():
        dispatch()


@huey.task(name="outbox.run")
def run_outbox_message(message_id: int, token: str, kind: str | None = None) -> None:
    with app_context():
        outbox.run(message_id, token, kind)


_crontabs: dict[str, Callable] = {}
PERIODIC: dict[str, Callable] = {}  # kind -> the Huey periodic task that adds its row


def _schedule(expression: str) -> Callable:
    if expression not in _crontabs:
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(f"a schedule is five crontab fields (minute hour day month weekday): {expression!r}")
        _crontabs[expression] = crontab(*fields)
    return _crontabs[expression]


def periodic(kind: str, schedule_setting: str, default_schedule: str, *,
             transactional: bool = True) -> Callable[[outbox.HandlerFunc], outbox.HandlerFunc]:
    """Run `func(payload)` on the crontab in setting `schedule_setting` (default
    `default_schedule`), once per matching minute across all workers, as outbox kind `kind`."""

    def register(func: outbox.HandlerFunc) -> outbox.HandlerFunc:
        outbox.handler(kind, transactional=transactional)(func)

        def due(timestamp) -> bool:
            app = _bound.get("app")
            expression = app.config.get(schedule_setting, default_schedule) if app else default_schedule
            return _schedule(expression)(timestamp)

        @huey.periodic_task(due, name=f"periodic.{kind}")
        def add_periodic_row() -> None:
            with app_context(), writing():
                minute = clock.now().replace(second=0).isoformat()
                outbox.add(kind, {"minute": minute}, key=f"periodic:{kind}:{minute}")
                db.session.commit()

        PERIODIC[kind] = add_periodic_row
        return func

    return register


@periodic("maintenance.purge", "CRM_PURGE_SCHEDULE", "17 * * * *")
def purge_expired_records(payload: dict) -> None:
    """Hourly: idempotency records past their 24 h, outbox rows handled long ago, webhook
    deliveries older than 30 days."""
    idempotency.purge_expired()
    outbox.purge_handled()
    webhooks.purge_deliveries()


@periodic("trash.purge", "CRM_TRASH_PURGE_SCHEDULE", "41 3 * * *")
def purge_trash(payload: dict) -> None:
    """Daily: what has been in the trash for 30 days is erased for good."""
    from crm.services import trash

    trash.purge()


@periodic("due.run", "CRM_DUE_SCHEDULE", "* * * * *", transactional=False)
def run_due_work(payload: dict) -> None:
    """Due reminders, daily digests, then the mail they queued (crm.services.jobs): every minute,
    and at each reminder's time (crm.services.reminders adds a `due.run` row for it). Each claims
    what it does with its own conditional updates, so a late or repeated run sends nothing twice."""
    from crm.services import jobs

    jobs.run_due()


class Dispatcher(BaseProcess):
    """A worker's own poll of the outbox, every CRM_QUEUE_POLL_SECONDS (sub-minute, unlike
    Huey's periodic tasks)."""

    process_name = "Dispatcher"

    def __init__(self, huey_instance: Huey, app: Flask, stop_flag: threading.Event):
        super().__init__(huey_instance)
        self.app = app
        self.stop_flag = stop_flag
        self.interval = float(app.config["CRM_QUEUE_POLL_SECONDS"])

    def loop(self, now=None) -> None:
        try:
            with self.app.app_context():
                try:
                    dispatch()
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - keep polling; the error is logged
            self._logger.exception("outbox dispatch failed")
        self.stop_flag.wait(self.interval)


class Worker(Consumer):
    """Huey's consumer (worker threads, scheduler with periodic jobs) plus the outbox poll."""

    def __init__(self, app: Flask, threads: int = 2, embedded: bool = False):
        if huey.immediate:
            raise RuntimeError("CRM_QUEUE_IMMEDIATE is on: jobs run in the caller, there is nothing to consume")
        super().__init__(huey, workers=threads, periodic=True, initial_delay=0.05, backoff=1.5,
                         max_delay=IDLE_POLL_SECONDS, scheduler_interval=1, worker_type="thread")
        self.embedded = embedded
        # One line per job is too many; the consumer's own messages (start, stop) stay.
        logging.getLogger("huey").setLevel(logging.WARNING)
        logging.getLogger("huey.consumer").setLevel(logging.INFO)
        self.dispatcher = self._create_process(Dispatcher(huey, app, self.stop_flag), "Dispatcher")

    def start(self) -> None:
        super().start()
        self.dispatcher.start()

    def _set_signal_handlers(self) -> None:
        # Embedded in `python app.py`, the web server keeps its own signal handling.
        if not self.embedded:
            super()._set_signal_handlers()


def start_embedded_worker(app: Flask, threads: int = 2) -> Worker:
    """Start a consumer on daemon threads of this process (`python app.py`)."""
    worker = Worker(app, threads=threads, embedded=True)
    worker.start()
    return worker
