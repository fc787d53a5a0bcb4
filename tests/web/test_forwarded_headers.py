"""X-Forwarded-* headers count only from the configured proxies (CRM_TRUSTED_PROXIES), and
X-Forwarded-Prefix/-Port only when configured: a direct client's forged ones change nothing."""

from __future__ import annotations

import pytest

from crm import create_app
from tests.conftest import BASE_CONFIG, make_account
from tests.web.test_sign_in_throttle import attempt

DIRECT = "203.0.113.9"  # a client reaching the app without the proxy
PROXY = "10.0.0.5"
FORGED = {"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.test",
          "X-Forwarded-Prefix": "//evil.test", "X-Forwarded-Port": "8443"}


@pytest.fixture
def config_overrides():
    return {"CRM_PROXY_HOPS": 1, "CRM_TRUSTED_PROXIES": f"127.0.0.1, ::1, {PROXY}/32",
            "CRM_LOGIN_RATE_LIMIT": "3/minute", "CRM_LOGIN_ACCOUNT_RATE_LIMIT": "1000/minute"}


def sign_in_redirect(app, peer: str, headers: dict):
    return app.test_client().get("/tasks", environ_base={"REMOTE_ADDR": peer}, headers=headers)


def session_cookie(app, peer: str, headers: dict) -> str:
    response = app.test_client().get("/login", environ_base={"REMOTE_ADDR": peer}, headers=headers)
    return response.headers["Set-Cookie"]


def test_a_direct_client_cannot_rewrite_urls_or_the_scheme(app):
    make_account(app)
    response = sign_in_redirect(app, DIRECT, FORGED)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/tasks"
    assert "; Secure" not in session_cookie(app, DIRECT, FORGED)


def test_a_trusted_proxy_sets_the_scheme_but_not_the_prefix_unless_configured(app):
    make_account(app)
    assert sign_in_redirect(app, PROXY, FORGED).headers["Location"] == "/login?next=/tasks"
    assert "; Secure" in session_cookie(app, PROXY, FORGED)


def test_a_forged_forwarded_for_from_a_direct_client_does_not_reset_the_count(app):
    make_account(app)
    statuses = [attempt(app, email=f"guess{i}@acme.test", address=DIRECT,
                        headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


def test_a_trusted_proxy_passes_on_each_clients_address(app):
    make_account(app)
    first = [attempt(app, email=f"guess{i}@acme.test", address=PROXY,
                     headers={"X-Forwarded-For": "192.0.2.1"}).status_code for i in range(4)]
    assert first == [401, 401, 401, 429]
    other_client = attempt(app, password="correct horse", address=PROXY, headers={"X-Forwarded-For": "192.0.2.2"})
    assert other_client.status_code == 303


def test_prefix_and_port_count_from_a_trusted_proxy_when_configured(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "CRM_AUTO_MIGRATE": False,
                      "CRM_PROXY_HOPS": 1, "CRM_TRUSTED_PROXIES": PROXY, "CRM_PROXY_TRUST_PREFIX": True,
                      "CRM_PROXY_TRUST_PORT": True})
    make_account(app)
    behind = {"X-Forwarded-Prefix": "/crm", "X-Forwarded-Proto": "https"}
    assert sign_in_redirect(app, PROXY, behind).headers["Location"] == "/crm/login?next=/tasks"
    assert sign_in_redirect(app, DIRECT, behind).headers["Location"] == "/login?next=/tasks"
    # Loopback is not in this list: nginx on the same host would need 127.0.0.1 there.
    assert sign_in_redirect(app, "127.0.0.1", behind).headers["Location"] == "/login?next=/tasks"


def test_an_invalid_trusted_proxy_entry_refuses_to_start(database_url):
    with pytest.raises(ValueError, match="CRM_TRUSTED_PROXIES: 'proxy.internal' is not an IP address"):
        create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "CRM_AUTO_MIGRATE": False,
                    "CRM_PROXY_HOPS": 1, "CRM_TRUSTED_PROXIES": "10.0.0.5, proxy.internal"})


@pytest.mark.parametrize("peer, trusted", [
    ("10.0.0.5", True), ("::ffff:10.0.0.5", True), ("10.0.0.6", False), ("127.0.0.1", False),
    ("", False), ("fe80::1%eth0", False),
])
def test_which_peers_are_trusted(peer, trusted):
    from crm.security import TrustedProxyFix, parse_networks

    fix = TrustedProxyFix(lambda environ, start: [], parse_networks("10.0.0.5, 2001:db8::/32"), 1)
    assert fix.is_trusted(peer) is trusted
    assert TrustedProxyFix(None, parse_networks("unix"), 1).is_trusted("") is True
