"""Copy a whole install (every workspace, user, key, record, task and activity) into an empty
PostgreSQL database, ids kept, then check the row counts."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import Integer, bindparam, func, select, text

from crm.extensions import db


class CopyError(Exception):
    pass


def _target_app(target_url: str) -> Flask:
    from crm import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": target_url, "CRM_AUTO_MIGRATE": True})


def copy_database(target_url: str, *, batch_size: int = 2000, report: Callable[[str], None] = print) -> dict[str, int]:
    """Copy the current app's database into the empty database at `target_url`.

    Reads in one transaction (a consistent snapshot, also while the app serves) and writes in one
    transaction, so the target is either complete or untouched.
    """
    if not target_url.startswith("postgresql"):
        raise CopyError("The target must be a PostgreSQL URL (postgresql+psycopg://user:pass@host/db).")
    tables = list(db.metadata.sorted_tables)
    with _target_app(target_url).app_context():
        target_engine = db.engine
    counts: dict[str, int] = {}
    with db.engine.connect() as source, target_engine.connect() as target:
        with source.begin(), target.begin():
            for table in tables:
                if target.execute(select(func.count()).select_from(table)).scalar_one():
                    raise CopyError(f"The target database is not empty (table {table.name} has rows).")
            for table in tables:
                copied = 0
                # Links within a table (a task's series and next occurrence) may point at a row
                # copied later: they are written once every row is there.
                own_links = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
                # ...with the values of columns an UPDATE would otherwise stamp (updated_at).
                stamped = [c.name for c in table.columns if c.onupdate is not None]
                later: list[dict] = []
                rows = source.execute(select(table).execution_options(yield_per=batch_size)).mappings()
                for chunk in rows.partitions(batch_size):
                    values = [dict(r) for r in chunk]
                    for row in values:
                        if any(row[c] is not None for c in own_links):
                            later.append({"_id": row["id"], **{c: row[c] for c in own_links + stamped}})
                            row.update(dict.fromkeys(own_links))
                    target.execute(table.insert(), values)
                    copied += len(chunk)
                if later:
                    update = table.update().where(table.c.id == bindparam("_id")).values(
                        {c: bindparam(c) for c in own_links + stamped})
                    for start in range(0, len(later), batch_size):
                        target.execute(update, later[start:start + batch_size])
                counts[table.name] = copied
                report(f"{table.name}: {copied} rows")
            _reset_sequences(target, tables)
            for table in tables:
                in_source = source.execute(select(func.count()).select_from(table)).scalar_one()
                in_target = target.execute(select(func.count()).select_from(table)).scalar_one()
                if in_source != in_target or in_target != counts[table.name]:
                    raise CopyError(f"Row counts differ for {table.name}: {in_source} in the source, {in_target} copied.")
    target_engine.dispose()
    return counts


def _reset_sequences(target, tables) -> None:
    """Integer ids were copied as they were; move their sequences past them."""
    for table in tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                target.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"))
