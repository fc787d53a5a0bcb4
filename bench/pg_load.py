"""Load the seeded SQLite database into PostgreSQL, fast: the same rows, with COPY.

`flask crm migrate-to-postgres` copies with multi-row INSERTs into fully indexed tables, which
is right for an install and too slow for two million benchmark rows. This does what a bulk load
does: schema from the migrations, secondary indexes of the big tables dropped, rows streamed in
with COPY, indexes rebuilt, VACUUM ANALYZE. The rows are the ones the importer validated.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, create_engine, select, text

BIG_TABLES = ("tasks", "activities", "activity_attendees")


def load(sqlite_app, target_url: str, report: Callable[[str], None] = print, batch: int = 20000) -> dict[str, int]:
    from crm import create_app
    from crm.extensions import db

    # Schema at head (the app migrates on creation).
    target_app = create_app({"SQLALCHEMY_DATABASE_URI": target_url})
    with target_app.app_context():
        db.engine.dispose()
    dsn = target_url.replace("postgresql+psycopg://", "postgresql://")
    counts: dict[str, int] = {}
    with sqlite_app.app_context(), psycopg.connect(dsn) as pg:
        source = db.engine
        tables = list(db.metadata.sorted_tables)
        index_defs = []
        for name in BIG_TABLES:
            rows = pg.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint)", (name,)).fetchall()
            for index_name, definition in rows:
                pg.execute(f'DROP INDEX "{index_name}"')
                index_defs.append((index_name, definition))
        with source.connect() as conn:
            for table in tables:
                began = time.perf_counter()
                columns = [c.name for c in table.columns]
                json_positions = [i for i, c in enumerate(table.columns) if isinstance(c.type, JSON)]
                copied = 0
                quoted = ", ".join(f'"{c}"' for c in columns)
                with pg.cursor() as cur, cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                    result = conn.execute(select(table).execution_options(yield_per=batch))
                    for chunk in result.partitions(batch):
                        for row in chunk:
                            values = list(row)
                            for i in json_positions:
                                if values[i] is not None:
                                    values[i] = Jsonb(values[i])
                            copy.write_row(values)
                        copied += len(chunk)
                counts[table.name] = copied
                report(f"  {table.name}: {copied:,} rows in {time.perf_counter() - began:.0f} s")
        for index_name, definition in index_defs:
            began = time.perf_counter()
            pg.execute(definition)
            report(f"  index {index_name}: {time.perf_counter() - began:.0f} s")
        for table in tables:
            for column in table.primary_key.columns:
                if column.autoincrement is True or (column.autoincrement == "auto" and column.type.python_type is int):
                    pg.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                               f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)")
        pg.commit()
    engine = create_engine(target_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return counts
