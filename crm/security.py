"""Security headers for every response, a session cookie that is Secure over HTTPS, and
forwarded headers trusted only from the configured proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Only the app's own files: no inline scripts or styles, no eval, no framing.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or (has_request_context() and request.is_secure))


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.session_interface = HttpsAwareSessionInterface()
    app.after_request(add_security_headers)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


UNIX_SOCKET = "unix"  # in CRM_TRUSTED_PROXIES: trust a peer on gunicorn's Unix socket (no address)


def parse_networks(text: str) -> tuple[Network | str, ...]:
    """`10.0.0.5, 10.1.0.0/16, ::1, unix` as networks; a bad entry is a ValueError naming it."""
    networks: list[Network | str] = []
    for entry in (part.strip() for part in (text or "").split(",")):
        if not entry:
            continue
        if entry.lower() == UNIX_SOCKET:
            networks.append(UNIX_SOCKET)
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"CRM_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR network.") from None
    return tuple(networks)


class TrustedProxyFix:
    """ProxyFix for requests whose peer is one of the trusted proxies; any other peer's
    X-Forwarded-* headers are ignored (a direct client can forge them). X-Forwarded-Prefix and
    -Port are honoured only when configured, even from a trusted proxy."""

    def __init__(self, wsgi_app, networks: Iterable[Network | str], hops: int, *, prefix: bool = False,
                 port: bool = False):
        self.wsgi_app = wsgi_app
        self.networks = tuple(networks)
        self.fixed = ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                              x_port=hops if port else 0, x_prefix=hops if prefix else 0)

    @classmethod
    def from_config(cls, wsgi_app, config: Mapping) -> TrustedProxyFix:
        return cls(wsgi_app, parse_networks(config["CRM_TRUSTED_PROXIES"]), config["CRM_PROXY_HOPS"],
                   prefix=config["CRM_PROXY_TRUST_PREFIX"], port=config["CRM_PROXY_TRUST_PORT"])

    def is_trusted(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").split("%", 1)[0])
        except ValueError:
            return UNIX_SOCKET in self.networks  # no IP address: a Unix socket's peer
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(not isinstance(network, str) and ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.is_trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.wsgi_app(environ, start_response)
