"""`flask crm ...`: set-up and maintenance from the command line (SPEC §7)."""

from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path
from typing import BinaryIO

import click
import orjson
from flask.cli import AppGroup

from crm.database import upgrade_database, writing
from crm.extensions import db
from crm.files import open_private
from crm.services import accounts, transfer
from crm.services.errors import ServiceError, ValidationFailed

crm_cli = AppGroup("crm", help="Followup CRM administration.")


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def describe(err: ServiceError) -> str:
    if isinstance(err, ValidationFailed):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in err.details.items())
    return str(err)


@crm_cli.command("init")
def init_command():
    """Create or upgrade the database."""
    from flask import current_app

    upgrade_database(current_app)
    click.echo("Database is up to date.")


@crm_cli.command("create-workspace")
@click.argument("name")
def create_workspace_command(name):
    """Create a workspace; prints its id."""
    with writing():
        try:
            workspace = accounts.create_workspace(name)
        except ServiceError as err:
            fail(describe(err))
    click.echo(workspace.id)


def read_new_password(*, prompt: bool, from_stdin: bool) -> str | None:
    """A new password typed twice at a hidden prompt, or the first line of stdin (for scripts);
    None when neither was asked for. Never from the command line, where shell history and the
    process list would keep it."""
    if prompt and from_stdin:
        fail("Give either --password-prompt or --password-stdin, not both.")
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            fail("No password on stdin (it reads the first line).")
        return password
    if prompt:
        return click.prompt("New password", hide_input=True, confirmation_prompt=True)
    return None


password_stdin_option = click.option(
    "--password-stdin", "password_stdin", is_flag=True,
    help="Read the password from the first line of stdin (for scripts).")


@crm_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password-prompt", "password_prompt", is_flag=True,
              help="Ask for the password (twice, hidden). Without a password the user signs in "
                   "only after `flask crm set-password`, and can still use API keys.")
@password_stdin_option
@click.option("--password", "legacy_password", default=None, hidden=True,
              help="Deprecated: the password would stay in shell history and the process list.")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
@click.option("--workspace", "workspace_ref", default=None, help="Workspace id or name (default: the first).")
def create_user_command(email, name, password_prompt, password_stdin, legacy_password, admin, workspace_ref):
    """Create a user; prints its id."""
    password = read_new_password(prompt=password_prompt, from_stdin=password_stdin)
    if legacy_password is not None:
        if password is not None:
            fail("--password is deprecated; give only --password-prompt or --password-stdin.")
        click.echo("Warning: --password is deprecated (shell history and the process list keep it); "
                   "use --password-prompt or --password-stdin.", err=True)
        password = legacy_password
    with writing():
        if workspace_ref:
            workspace = accounts.find_workspace(workspace_ref)
            if workspace is None:
                fail(f"No workspace with id or name {workspace_ref!r}.")
        else:
            workspace = accounts.first_workspace() or accounts.create_workspace("My workspace")
        try:
            user = accounts.create_user(workspace, email=email, name=name, password=password,
                                        role="admin" if admin else "member")
        except ServiceError as err:
            fail(describe(err))
    click.echo(user.id)


@crm_cli.command("set-password")
@click.option("--email", required=True, help="The user's e-mail address.")
@password_stdin_option
def set_password_command(email, password_stdin):
    """Set a user's password (asks twice, hidden; or --password-stdin).

    Recovers a forgotten password (the demo's too) without editing the database."""
    if accounts.find_user_by_email(email) is None:
        fail(f"No user with email {email!r}.")
    db.session.commit()  # end the read: no transaction stays open while the prompt waits
    password = read_new_password(prompt=not password_stdin, from_stdin=password_stdin)
    with writing():
        user = accounts.find_user_by_email(email)
        if user is None:
            fail(f"No user with email {email!r}.")
        try:
            accounts.set_password(user, password)
        except ServiceError as err:
            fail(describe(err))
        active = user.is_active
    click.echo(f"Password set for {user.email}.")
    if not active:
        click.echo("Note: this user is deactivated and cannot sign in until an admin reactivates them.",
                   err=True)


@crm_cli.command("create-api-key")
@click.option("--email", required=True)
@click.option("--scopes", default=None, help="Comma-separated scopes (default: all).")
@click.option("--label", default=None)
def create_api_key_command(email, scopes, label):
    """Create an API key for a user; prints only the secret."""
    with writing():
        try:
            user = accounts.find_user_by_email(email)
            if user is None:
                fail(f"No user with email {email!r}.")
            _key, secret = accounts.create_api_key(user, scopes=accounts.parse_scopes(scopes), label=label)
        except ServiceError as err:
            fail(describe(err))
    click.echo(secret)


@crm_cli.command("purge-trash")
def purge_trash_command():
    """Erase for good what has been in the trash for 30 days (the daily job does it too)."""
    from crm.services import trash

    click.echo(f"Erased {trash.purge()} records from the trash.")


@crm_cli.command("seed-demo")
@click.option("--workspace", "workspace_ref", default=None, help="Workspace id or name (default: the first).")
@click.option("--tasks", "task_count", default=300, show_default=True)
@click.option("--activities", "activity_count", default=400, show_default=True)
def seed_demo_command(workspace_ref, task_count, activity_count):
    """Fill a workspace with realistic demo data."""
    from crm.services.demo import seed_demo

    with writing():
        workspace = accounts.find_workspace(workspace_ref) if workspace_ref else accounts.first_workspace()
        if workspace is None:
            if workspace_ref:
                fail(f"No workspace with id or name {workspace_ref!r}.")
            workspace = accounts.create_workspace("Demo workspace")
        try:
            counts = seed_demo(workspace, task_count=task_count, activity_count=activity_count)
        except ServiceError as err:
            fail(describe(err))
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))


@crm_cli.command("migrate-to-postgres")
@click.argument("target_url")
def migrate_to_postgres_command(target_url):
    """Copy this install into an empty PostgreSQL database (ids kept) and verify the row counts."""
    from crm.services.copy_database import CopyError, copy_database

    try:
        counts = copy_database(target_url, report=lambda line: click.echo(line))
    except CopyError as err:
        fail(str(err))
    except Exception as err:  # noqa: BLE001 - a connection failure, say, is reported plainly
        fail(f"{type(err).__name__}: {err}")
    click.echo(f"Copied {sum(counts.values())} rows in {len(counts)} tables; row counts verified.")
    click.echo(f"Now set DATABASE_URL={target_url} and restart the app.")


def workspace_or_fail(workspace_ref: str | None):
    """The workspace named by id or name, else the first one; exits when there is none."""
    workspace = accounts.find_workspace(workspace_ref) if workspace_ref else accounts.first_workspace()
    if workspace is None:
        fail(f"No workspace with id or name {workspace_ref!r}." if workspace_ref else "There is no workspace yet.")
    return workspace


def format_from(path: str, given: str | None) -> str:
    if given:
        return given
    return "csv" if path.lower().endswith(".csv") else "jsonl"


class RateText:
    """The text after a progress bar: counts and rows per second."""

    def __init__(self):
        self.started = time.monotonic()
        self.done = 0
        self.counts: dict[str, int] = {}

    def rate(self) -> float:
        return self.done / max(time.monotonic() - self.started, 1e-6)

    def __call__(self, _item=None) -> str:
        parts = [f"{n} {what}" for what, n in self.counts.items()]
        return ", ".join([*parts, f"{self.rate():,.0f} rows/s"])


@crm_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def backup_command(path, force):
    """Write a consistent copy of the database to PATH while the app keeps serving.

    SQLite: an online copy with SQLite's backup API, checked with PRAGMA integrity_check.
    PostgreSQL: runs pg_dump (custom format) when it is installed, else prints the command.
    """
    from flask import current_app

    from crm.services.backup import BackupError, backup_database

    target = Path(path)
    if target.exists() and not force:
        fail(f"{path} exists; give --force to overwrite it.")
    try:
        result = backup_database(current_app.config["SQLALCHEMY_DATABASE_URI"], target)
    except BackupError as err:
        fail(str(err))
    click.echo(result)


@crm_cli.command("export")
@click.option("--workspace", "workspace_ref", default=None, help="Workspace id or name (default: the first).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Default: csv when the output file ends in .csv, else jsonl.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(transfer.KINDS),
              help="Only these kinds (repeatable). Default: all, linked records first.")
@click.option("-o", "--output", default="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write (default: stdout).")
def export_command(workspace_ref, fmt, kinds, output):
    """Export tasks and activities, with the companies, contacts and deals they link to."""
    workspace = workspace_or_fail(workspace_ref)
    fmt = format_from(output, fmt)
    kinds = kinds or transfer.KINDS
    total = transfer.export_count(workspace.id, kinds)
    stream = sys.stdout if output == "-" else open_private(output, "w", encoding="utf-8", newline="")
    status = RateText()
    try:
        if fmt == "csv":
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(transfer.COLUMNS)
        with click.progressbar(length=total, label="Exporting", file=sys.stderr,
                               item_show_func=status) as bar:
            for row in transfer.export_rows(workspace.id, kinds):
                if fmt == "csv":
                    writer.writerow([transfer.csv_cell(c, row.get(c)) for c in transfer.COLUMNS])
                else:
                    stream.write(orjson.dumps(row).decode() + "\n")
                status.done += 1
                if status.done % 500 == 0:
                    bar.update(500)
            bar.update(status.done % 500)
    finally:
        if stream is not sys.stdout:
            stream.close()
    click.echo(f"Exported {status.done} rows in {time.monotonic() - status.started:.1f} s.", err=True)


def read_jsonl(raw: BinaryIO):
    for number, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as err:
            yield number, transfer.RowError(number, f"Not valid JSON: {err}.")


def read_csv(raw: BinaryIO, kind_hint: str | None):
    # Undecodable bytes become lone surrogates, which the schemas reject on their field.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.DictReader(text)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield start, transfer.RowError(start, f"Not valid CSV: {err}.")
            continue
        yield start, transfer.row_from_csv(cells, kind_hint)


@crm_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--workspace", "workspace_ref", default=None, help="Workspace id or name (default: the first).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Default: csv when the file name ends in .csv, else jsonl.")
@click.option("--kind", "kind_hint", type=click.Choice(transfer.KINDS), default=None,
              help="Kind of the rows that have no kind column.")
@click.option("--user", "user_email", default=None,
              help="Email of the user recorded as creator (default: the workspace's first admin).")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100000))
def import_command(file, workspace_ref, fmt, kind_hint, user_email, batch_size):
    """Import rows from FILE (- for stdin): each is validated like an API request.

    Bad rows are reported by line number; the good ones are saved in batches. Rows whose id
    (or, for activities, source and external_id) is already in the workspace are skipped, so
    running the same file twice creates nothing new. Exits 1 when any row was rejected.
    """
    fmt = format_from(getattr(file, "name", None) or "", fmt)
    data = file.read()
    total = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1) - (1 if fmt == "csv" else 0)
    with writing():
        workspace = workspace_or_fail(workspace_ref)
        user = (accounts.find_user_by_email(user_email, workspace.id) if user_email
                else transfer.default_importing_user(workspace.id))
        if user_email and (user is None or user.workspace_id != workspace.id):
            fail(f"No user with email {user_email!r} in workspace {workspace.name!r}.")
        importer = transfer.Importer(workspace.id, user, default_kind=kind_hint)
        source = io.BytesIO(data)
        rows = read_csv(source, kind_hint) if fmt == "csv" else read_jsonl(source)
        status = RateText()
        status.counts = {"new": 0, "existing": 0, "rejected": 0}
        errors: list[transfer.RowError] = []
        with click.progressbar(length=max(total, 0), label="Importing", file=sys.stderr,
                               item_show_func=status) as bar:
            for batch in transfer.batched(rows, batch_size):
                report = importer.import_batch(batch)
                status.done += report.rows
                status.counts["new"] += report.created
                status.counts["existing"] += report.existing
                status.counts["rejected"] += len(report.errors)
                errors.extend(report.errors)
                bar.update(report.rows)
    for err in sorted(errors, key=lambda e: e.line):
        click.echo(f"line {err.line}: {err.message}", err=True)
    elapsed = time.monotonic() - status.started
    click.echo(
        f"{status.done} rows: {status.counts['new']} imported, {status.counts['existing']} already present, "
        f"{status.counts['rejected']} rejected, in {elapsed:.1f} s ({status.rate():,.0f} rows/s)."
    )
    if errors:
        sys.exit(1)


@crm_cli.command("rebuild-search")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100000))
def rebuild_search_command(batch_size):
    """Fold the names and search text of every record again, and update the search indexes.

    The upgrade that brought transliteration did this once; run it after an upgrade of Unidecode
    that changes a transliteration. Each batch is committed on its own, so the app can keep
    serving; only rows whose folded text changes are written.
    """
    from crm.extensions import db
    from crm.services.refold import refold

    with writing(), db.engine.connect() as connection:
        changed = refold(connection, batch_size=batch_size, commit_batches=True, report=click.echo)
    click.echo(f"{sum(changed.values())} rows folded again.")


@crm_cli.command("run-due")
def run_due_command():
    """Run the periodic work once: due reminders, digests, waiting mail. Prints what each did."""
    from crm.services import jobs

    for name, count in jobs.run_due().items():
        click.echo(f"{name}: {count}")


@crm_cli.command("send-test-email")
@click.argument("address")
def send_test_email_command(address):
    """Send a test e-mail to ADDRESS now, over CRM_SMTP_URL."""
    from crm.services import mail

    text, html = mail.compose("test")
    try:
        mail.send(mail.build_message(address, "Followup test e-mail", text, html))
    except Exception as err:  # noqa: BLE001 - reported to the user
        fail(f"could not send to {address}: {type(err).__name__}: {err}")
    click.echo(f"Sent a test e-mail to {address}.")


@crm_cli.command("worker")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Jobs run at once by this worker.")
def worker_command(threads):
    """Run the job queue: outbox rows, reminders, e-mail, periodic jobs. Several may run at once."""
    from flask import current_app

    from crm import queue

    if current_app.config["CRM_QUEUE_IMMEDIATE"]:
        fail("CRM_QUEUE_IMMEDIATE is on: jobs run where they are enqueued; there is nothing to consume.")
    click.echo(f"Worker started ({threads} threads, queue {queue.describe_storage()}).")
    queue.Worker(current_app._get_current_object(), threads=threads).run()
