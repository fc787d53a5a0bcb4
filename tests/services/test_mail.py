"""mail.send over STARTTLS (smtp://) and implicit TLS (smtps://) with a password, to a real
aiosmtpd server holding a certificate made for the test."""

from __future__ import annotations

import ssl
import subprocess
from contextlib import contextmanager

import pytest

from crm.services import mail
from tests.mailbox import Mailbox, parts
from tests.servers import free_port, require_tool


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@contextmanager
def tls_server(certificate, *, implicit: bool):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.password == b"s3cret pass")
        return AuthResult(success=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    box = Mailbox()
    port = free_port()
    options = {"ssl_context": context, "auth_require_tls": False} if implicit else {
        "tls_context": context, "require_starttls": True}
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=authenticator, **options)
    controller.start()
    try:
        yield port, box, logins
    finally:
        controller.stop()


def message(app):
    return mail.build_message("ada@example.com", "Hello", "plain text", "<p>html</p>")


@pytest.mark.parametrize("scheme, implicit", [("smtp", False), ("smtps", True)])
def test_send_logs_in_over_tls_and_delivers_both_parts(app, certificate, monkeypatch, scheme, implicit):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test's certificate
    with tls_server(certificate, implicit=implicit) as (port, box, logins):
        app.config["CRM_SMTP_URL"] = f"{scheme}://ada%40acme.test:s3cret%20pass@127.0.0.1:{port}"
        with app.app_context():
            mail.send(message(app))
        (received,) = box.wait_for(1)
    assert logins == [(b"ada@acme.test", b"s3cret pass")]
    assert received["Subject"] == "Hello"
    assert [p.strip() for p in parts(received)] == ["plain text", "<p>html</p>"]


def test_an_untrusted_certificate_fails_before_the_password_is_sent(app, certificate):
    with tls_server(certificate, implicit=False) as (port, box, logins):
        app.config["CRM_SMTP_URL"] = f"smtp://ada:s3cret%20pass@127.0.0.1:{port}"
        with app.app_context(), pytest.raises(ssl.SSLError):
            mail.send(message(app))  # the test's self-signed certificate is not trusted here
    assert logins == [] and box.messages == []
