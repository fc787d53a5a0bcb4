"""Two gunicorn servers (2 workers each) sharing a Redis server: the failed sign-in count is one
count, not one per process."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from crm import create_app
from crm.extensions import db
from tests.conftest import make_account
from tests.servers import gunicorn_server, redis_server

pytestmark = pytest.mark.slow
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def failed_sign_in(base: str, email: str) -> tuple[int, str]:
    """One sign-in attempt from a fresh browser; returns (status, page)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/login", timeout=30) as page:
        token = CSRF_FIELD.search(page.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": "wrong password"}).encode()
    try:
        with opener.open(urllib.request.Request(f"{base}/login", data=form), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_failed_sign_ins_are_counted_once_across_servers_through_redis(database_url, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "s" * 32})
    make_account(app)
    with app.app_context():
        db.engine.dispose()
    with redis_server() as redis_url:
        env = {"DATABASE_URL": database_url, "SECRET_KEY": "s" * 32, "CRM_RATELIMIT_STORAGE_URL": redis_url,
               "CRM_LOGIN_RATE_LIMIT": "1000/minute", "CRM_LOGIN_ACCOUNT_RATE_LIMIT": "4/minute"}
        with gunicorn_server({**env, "CRM_INSTANCE_PATH": str(tmp_path / "a")}) as a, \
                gunicorn_server({**env, "CRM_INSTANCE_PATH": str(tmp_path / "b")}) as b:
            answers = [failed_sign_in(base, "owner@acme.test") for base in (a, b) * 3]
            other_account = failed_sign_in(b, "someone@acme.test")
    assert [status for status, _page in answers] == [401] * 4 + [429] * 2
    assert "Too many failed sign-ins for this email. Try again in" in answers[-1][1]
    assert other_account[0] == 401
