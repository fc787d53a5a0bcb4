"""`flask crm ...`: set-up and maintenance from the command line (SPEC §7)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from crm.database import upgrade_database, writing
from crm.services import accounts
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


@crm_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", default=None, help="Without it, the user cannot sign in to the web UI until one is set.")
@click.option("--admin", is_flag=True, help="Give the user the admin role.")
@click.option("--workspace", "workspace_ref", default=None, help="Workspace id or name (default: the first).")
def create_user_command(email, name, password, admin, workspace_ref):
    """Create a user; prints its id."""
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


@crm_cli.command("create-api-key")
@click.option("--email", required=True)
@click.option("--scopes", default=None, help="Comma-separated scopes (default: all).")
@click.option("--label", default=None)
def create_api_key_command(email, scopes, label):
    """Create an API key for a user; prints only the secret."""
    with writing():
        user = accounts.find_user_by_email(email)
        if user is None:
            fail(f"No user with email {email!r}.")
        try:
            _key, secret = accounts.create_api_key(user, scopes=accounts.parse_scopes(scopes), label=label)
        except ServiceError as err:
            fail(describe(err))
    click.echo(secret)


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
        counts = seed_demo(workspace, task_count=task_count, activity_count=activity_count)
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
