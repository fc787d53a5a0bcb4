import logging
import warnings

from flask import current_app

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# The app configures logging; alembic.ini's logging section is not applied.
logger = logging.getLogger('alembic.env')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


# Tables made by raw SQL in migrations (SQLite's FTS5 index and its shadow tables), which the
# models do not describe; autogenerate must neither drop them nor report them as drift.
RAW_SQL_TABLE_PREFIXES = ("tasks_fts", "activities_fts")
# Expression indexes: SQLite cannot reflect them and PostgreSQL reflects their expression in its
# own spelling, so autogenerate would always see a change. Their migration states them.
EXPRESSION_INDEXES = frozenset({"ix_tasks_ws_timeline"})
warnings.filterwarnings("ignore", message=".*expression-based index.*")
# Columns added in place on SQLite (ALTER TABLE ADD COLUMN ... REFERENCES ... ON DELETE SET NULL):
# SQLAlchemy reads ON DELETE only from table-level FOREIGN KEY clauses, so their foreign keys
# would always look changed. tests/cli/test_db_check.py reads them with PRAGMA foreign_key_list.
SQLITE_INLINE_FOREIGN_KEYS = frozenset({("tasks", "activity_id"), ("tasks", "next_task_id"),
                                        ("tasks", "recurrence_of")})


def include_object(obj, name, type_, reflected, compare_to):
    """Leave out what the models do not own on this backend: raw-SQL tables, and indexes
    declared for one dialect only (`Index(...).ddl_if(dialect=...)`) on the others."""
    if type_ == "foreign_key_constraint" and context.get_context().dialect.name == "sqlite":
        columns = {(obj.parent.name, c.name) for c in obj.columns}
        if columns & SQLITE_INLINE_FOREIGN_KEYS:
            return False
    if type_ == "index" and name in EXPRESSION_INDEXES:
        return False
    if type_ == "table" and reflected and compare_to is None:
        return not (name or "").startswith(RAW_SQL_TABLE_PREFIXES)
    if type_ == "index" and not reflected:
        ddl_if = getattr(obj, "_ddl_if", None)
        if ddl_if is not None and ddl_if.dialect and ddl_if.dialect != context.get_context().dialect.name:
            return False
    if type_ == "index" and reflected and compare_to is None:
        table = getattr(obj, "table", None)
        if table is not None and (table.name or "").startswith(RAW_SQL_TABLE_PREFIXES):
            return False
    return True


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True,
        include_object=include_object,
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    conf_args.setdefault("include_object", include_object)
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        # SQLite: foreign keys off while migrating. A batch operation copies a table and drops
        # the old one, and with foreign keys on, DROP TABLE first deletes every row: ON DELETE
        # CASCADE / SET NULL would empty api_keys and unlink every task's owner when `users` is
        # rebuilt. The pragma only works outside a transaction, so it goes to the driver before
        # the migration's transaction begins; the keys are checked before they are turned on again.
        raw = connection.connection.dbapi_connection if connection.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                **conf_args
            )

            with context.begin_transaction():
                context.run_migrations()
        finally:
            if raw is not None:
                if connection.in_transaction():
                    connection.commit()
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                raw.execute("PRAGMA foreign_keys = ON")
                if broken:
                    raise RuntimeError(f"foreign keys broken by a migration: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
