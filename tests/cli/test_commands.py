"""`flask crm ...` commands, as an administrator runs them."""

from crm.extensions import db
from crm.models import ApiKey, Task, User, Workspace


def test_create_workspace_user_and_key(runner, app, client):
    r = runner.invoke(args=["crm", "create-workspace", "Acme"])
    assert r.exit_code == 0 and r.output.strip().startswith("ws_")
    ws_id = r.output.strip()
    r = runner.invoke(args=["crm", "create-user", "--email", "Ada@Example.com", "--name", "Ada", "--password-stdin",
                            "--admin", "--workspace", "Acme"], input="long enough\n")
    assert r.exit_code == 0 and r.output.strip().startswith("user_")
    r = runner.invoke(args=["crm", "create-api-key", "--email", "ada@example.com", "--scopes", "tasks:read",
                            "--label", "script"])
    assert r.exit_code == 0
    secret = r.output.strip()
    assert "\n" not in secret and len(secret) > 40
    with app.app_context():
        user = db.session.query(User).one()
        assert user.workspace_id == ws_id and user.role == "admin" and user.email == "ada@example.com"
        assert db.session.query(ApiKey).one().scopes == "tasks:read"
    assert client.get("/api/v1/tasks", headers={"X-Api-Key": secret}).status_code == 200
    assert client.post("/api/v1/tasks", json={"title": "x"}, headers={"X-Api-Key": secret}).status_code == 403


def test_create_user_defaults_to_first_workspace_created_if_none(runner, app):
    r = runner.invoke(args=["crm", "create-user", "--email", "a@b.co", "--name", "A"])
    assert r.exit_code == 0
    with app.app_context():
        assert db.session.query(Workspace).count() == 1


def test_errors_are_clear_and_exit_non_zero(runner):
    r = runner.invoke(args=["crm", "create-api-key", "--email", "nobody@example.com"])
    assert r.exit_code != 0 and "No user" in r.output
    runner.invoke(args=["crm", "create-user", "--email", "a@b.co", "--name", "A"])
    r = runner.invoke(args=["crm", "create-user", "--email", "a@b.co", "--name", "A"])
    assert r.exit_code != 0 and "already exists" in r.output
    r = runner.invoke(args=["crm", "create-user", "--email", "c@b.co", "--name", "C", "--workspace", "Nope"])
    assert r.exit_code != 0 and "No workspace" in r.output
    r = runner.invoke(args=["crm", "create-api-key", "--email", "a@b.co", "--scopes", "tasks:fly"])
    assert r.exit_code != 0 and "tasks:fly" in r.output
    r = runner.invoke(args=["crm", "create-workspace", "   "])
    assert r.exit_code != 0


def test_seed_demo_makes_a_living_crm(runner, app):
    runner.invoke(args=["crm", "create-user", "--email", "a@b.co", "--name", "A", "--admin"])
    r = runner.invoke(args=["crm", "seed-demo", "--tasks", "60", "--activities", "40"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        tasks = db.session.query(Task).all()
        assert len(tasks) == 60
        assert {t.status for t in tasks} >= {"pending", "completed"}
        assert sum(1 for t in tasks if t.contact_id) == 60
        assert len({t.owner_id for t in tasks}) >= 2


def test_init_is_idempotent(runner):
    assert runner.invoke(args=["crm", "init"]).exit_code == 0
    assert runner.invoke(args=["crm", "init"]).exit_code == 0
