"""The migrations and the models agree: `flask db migrate` on an unchanged model proposes nothing."""


def test_db_check_finds_no_drift_between_models_and_migrations(runner):
    # The app fixture's database was built by the migrations alone (SQLite or PostgreSQL).
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
