"""API keys: authentication, scopes, and the key the rate limit counts by."""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import g, request

from crm.api.errors import ApiError
from crm.services import accounts


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


def authenticate() -> None:
    caller = accounts.authenticate_key(presented_secret() or "")
    if caller is None:
        raise ApiError(401, "unauthorized", "A valid API key is required (X-Api-Key or Authorization: Bearer).",
                       headers={"WWW-Authenticate": 'Bearer realm="api"'})
    g.touch_key_id = caller.key_id if accounts.needs_touch(caller) else None
    g.caller = caller
    g.workspace_id = caller.workspace_id


def require_scope(*scopes: str):
    """The key must hold every scope listed (a :write scope also grants :read)."""

    def decorator(view):
        view.required_scopes = scopes

        @wraps(view)
        def wrapper(*args, **kwargs):
            missing = [s for s in scopes if not accounts.has_scope(g.caller.scopes, s)]
            if missing:
                raise ApiError(403, "insufficient_permissions",
                               f"This API key lacks the scope {', '.join(missing)}.",
                               {"missing_scopes": missing})
            return view(*args, **kwargs)

        wrapper.required_scopes = scopes
        return wrapper

    return decorator
