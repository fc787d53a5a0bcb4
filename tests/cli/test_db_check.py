"""The migrations and the models agree: `flask db migrate` on an unchanged model proposes nothing."""


def test_db_check_finds_no_drift_between_models_and_migrations(runner):
    # The app fixture's database was built by the migrations alone (SQLite or PostgreSQL).
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_sqlite_foreign_keys_added_in_place_null_their_links_on_delete(app):
    """The columns migrations/env.py leaves out of the foreign-key comparison on SQLite."""
    from crm.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            rows = db.session.execute(db.text(
                "SELECT kcu.column_name, rc.delete_rule FROM information_schema.referential_constraints rc "
                "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name "
                "WHERE kcu.table_name = 'tasks'")).all()
            found = {column: rule for column, rule in rows}
        else:
            rows = db.session.execute(db.text("PRAGMA foreign_key_list(tasks)")).all()
            found = {row[3]: row[6] for row in rows}
    for column in ("activity_id", "next_task_id", "recurrence_of"):
        assert found.get(column) == "SET NULL", (column, found)
