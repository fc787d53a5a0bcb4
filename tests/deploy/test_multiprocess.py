"""Two app processes sharing one database (the same SQLite file, or one PostgreSQL database):
concurrent writes through both, nothing lost, no request failing; rate limits shared via Redis."""

from __future__ import annotations

import threading

import pytest

from crm import create_app
from crm.extensions import db
from tests.conftest import make_account
from tests.servers import call, gunicorn_server, redis_server

pytestmark = pytest.mark.slow
CLIENTS = 8
ROUNDS = 12  # per client: each round creates a task, patches it, completes it, logs two activities
SECRET = "multiprocess-secret-key-0123456789abcdef"


@pytest.fixture
def shared_database(database_url, tmp_path):
    """The run's backend (a SQLite file, or PostgreSQL with TEST_DATABASE_URL), migrated, with an
    account; returns (DATABASE_URL, api key)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET})
    _ws, _user, key = make_account(app)
    with app.app_context():
        db.engine.dispose()
    return database_url, key


def server_env(url: str, tmp_path, name: str, **extra) -> dict[str, str]:
    return {"DATABASE_URL": url, "SECRET_KEY": SECRET, "CRM_INSTANCE_PATH": str(tmp_path / name),
            "CRM_RATE_LIMIT": "100000/minute", **extra}


def test_two_servers_lose_nothing_under_concurrent_writes(shared_database, tmp_path):
    url, key = shared_database
    with gunicorn_server(server_env(url, tmp_path, "a"), log_path=tmp_path / "a.log") as a, \
            gunicorn_server(server_env(url, tmp_path, "b"), log_path=tmp_path / "b.log") as b:
        statuses: list[int] = []
        created: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            bases = (a, b) if n % 2 else (b, a)
            for i in range(ROUNDS):
                base = bases[i % 2]
                other = bases[(i + 1) % 2]
                results = []
                s, body, _ = call(base, "POST", "/tasks", key, {"title": f"c{n}-t{i}", "tags": [f"c{n}"]})
                results.append(s)
                if s == 201:
                    task_id = body["data"]["id"]
                    with lock:
                        created.append(task_id)
                    results.append(call(other, "PATCH", f"/tasks/{task_id}", key, {"priority": "high"})[0])
                    results.append(call(base, "POST", f"/tasks/{task_id}/complete", key)[0])
                # Every client logs the same synced email: dedup must keep exactly one per round.
                results.append(call(other, "POST", "/activities", key,
                                    {"type": "email", "source": "sync", "external_id": f"mail-{i}"})[0])
                results.append(call(base, "POST", "/activities", key, {"type": "note", "body": f"c{n} r{i}"})[0])
                with lock:
                    statuses.extend(results)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)

        assert len(statuses) == CLIENTS * ROUNDS * 5
        failures = [s for s in statuses if s >= 400]
        assert failures == [], f"{len(failures)} failed requests: {sorted(set(failures))}"
        assert len(created) == CLIENTS * ROUNDS

        status, body, _ = call(a, "GET", "/tasks?limit=200&status=completed&priority=high&include_total=true", key)
        assert body["total"] == CLIENTS * ROUNDS
        status, body, _ = call(b, "GET", "/activities?source=sync&limit=200&include_total=true", key)
        assert body["total"] == ROUNDS
        assert sorted(act["external_id"] for act in body["data"]) == sorted(f"mail-{i}" for i in range(ROUNDS))
        status, body, _ = call(a, "GET", "/activities?type=note&include_total=true&limit=1", key)
        assert body["total"] == CLIENTS * ROUNDS
    for log in ("a.log", "b.log"):
        text = (tmp_path / log).read_text(errors="replace")
        assert "Traceback" not in text and "database is locked" not in text


def test_rate_limit_is_shared_between_processes_through_redis(shared_database, tmp_path):
    url, key = shared_database
    with redis_server() as redis_url:
        env = {"CRM_RATELIMIT_STORAGE_URL": redis_url, "CRM_RATE_LIMIT": "6/minute"}
        with gunicorn_server({**server_env(url, tmp_path, "a"), **env}) as a, \
                gunicorn_server({**server_env(url, tmp_path, "b"), **env}) as b:
            statuses = [call(base, "GET", "/users", key)[0] for base in (a, b) * 4]
    assert statuses == [200] * 6 + [429] * 2
