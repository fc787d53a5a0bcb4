"""API keys: authentication, scopes, and the key the rate limit counts by."""

from __future__ import annotations

from functools import wraps

from flask import g

from crm.api.errors import ApiError
from crm.credentials import presented_secret
from crm.services import accounts


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
