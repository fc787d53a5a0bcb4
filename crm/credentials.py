"""The API key a request presents, and the key the rate limit counts it by. Only Flask's request
is needed here, so the limiter (crm.extensions) and the API's authentication share it without
importing each other."""

from __future__ import annotations

import hashlib

from flask import request


def presented_secret() -> str | None:
    secret = request.headers.get("X-Api-Key")
    if secret:
        return secret.strip()
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def rate_limit_key() -> str:
    """Count requests per presented key (hashed), or per address when none is given."""
    secret = presented_secret()
    if secret:
        return "key:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")
