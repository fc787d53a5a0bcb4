"""The JSON API blueprint, /api/v1 (SPEC §2-5)."""

from __future__ import annotations

import time
from functools import cache

from flask import Blueprint, Flask, current_app, g, request
from limits import RateLimitItem, parse
from werkzeug.exceptions import ClientDisconnected, HTTPException
from werkzeug.routing import BaseConverter

from crm.credentials import rate_limit_key
from crm.database import SAFE_METHODS, end_request_transaction
from crm.extensions import csrf, db, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class RecordIdConverter(BaseConverter):
    """`<id(task):record_id>`: only a well-formed id of that kind reaches the view.

    Anything else is a 404 from routing (SPEC: a malformed id is a 404), and words that share a
    path with ids (`/activities/feed`) get the 405 of their own route, not a record lookup."""

    def __init__(self, url_map, kind: str):
        from crm.schemas import id_pattern

        super().__init__(url_map)
        self.kind = kind
        self.regex = id_pattern(kind).removeprefix("^").removesuffix("$")


def public(view):
    """Mark a view as needing no API key (the OpenAPI document)."""
    view.public = True
    return view


@bp.before_request
def authenticate_request():
    from crm.api.auth import authenticate

    if request.method == "OPTIONS":
        return None  # a CORS preflight carries no key; flask-cors answers it
    count_request()
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "public", False):
        authenticate()
    if request.method not in SAFE_METHODS:
        # The key lookup's read ends here, and the whole body (at most MAX_CONTENT_LENGTH) is
        # received before the view looks anything up: a slow upload holds no transaction and no
        # row lock. The write lock is the service's alone (crm.database.writing).
        db.session.commit()
        try:
            request.get_data(cache=True)
        except ClientDisconnected:
            # The client went quiet (crm/serving.py's timeout) or away: never parse half a body.
            from crm.api.errors import ApiError

            raise ApiError(408, "request_timeout", "The request body stopped arriving before it was complete.",
                           headers={"Connection": "close"}) from None
    reject_undeclared_query(view)
    return None


def reject_undeclared_query(view) -> None:
    """An operation that declares no query parameters takes none (SPEC §2: unknown ones are errors)."""
    from crm.api.errors import ApiError
    from crm.api.operations import operation_of

    op = operation_of(view)
    if request.args and op is not None and op.query is None:
        raise ApiError(400, "validation_error", "The request has invalid query parameters.",
                       {name: ["Unknown parameter."] for name in request.args})


@bp.after_request
def finish_request(response):
    # Ended here already, so that the key's last-used stamp below runs in a transaction of its own.
    end_request_transaction(response)
    key_id = g.pop("touch_key_id", None)
    if key_id:
        from crm.services.accounts import touch_api_key

        touch_api_key(key_id)
    response.headers.setdefault("Cache-Control", "no-store")
    ratelimit_headers(response)
    return response


# --- Rate limit: one bucket per key across every endpoint ------------------------------------
# Counted here, with Flask-Limiter's storage and strategy (`limiter.limiter`: memory:// is
# crm/limits_memory.py, or Redis), but not through its per-request machinery: resolving the
# blueprint's limits, exemption scopes and meta limits on every request cost more than the count
# itself (docs/performance.md). Flask-Limiter still serves the web UI's sign-in limits.

SCOPE = "api"


@cache
def _parsed_limit(text: str) -> RateLimitItem:
    return parse(text)


def count_request() -> None:
    """One hit on the presented key's bucket (by address without a key), before authentication,
    so that wrong keys are limited too; over the limit, 429."""
    from crm.api.errors import HTTP_CODES, ApiError

    if not limiter.enabled:
        return
    item = _parsed_limit(current_app.config["CRM_RATE_LIMIT"])
    strategy = limiter.limiter
    key = rate_limit_key()
    allowed = strategy.hit(item, key, SCOPE)
    g.rate_limit = (item, strategy.get_window_stats(item, key, SCOPE))
    if not allowed:
        raise ApiError(429, *HTTP_CODES[429])


def ratelimit_headers(response) -> None:
    """The key's one bucket, as `X-RateLimit-*` and the IETF draft's `RateLimit-Policy` /
    `RateLimit` fields; `Retry-After` only on a 429."""
    counted = g.get("rate_limit")
    if counted is None:
        return
    item, window = counted
    amount = item.amount
    reset_in = max(0, int(window.reset_time - time.time()))
    headers = response.headers
    headers["X-RateLimit-Limit"] = str(amount)
    headers["X-RateLimit-Remaining"] = str(window.remaining)
    headers["X-RateLimit-Reset"] = str(int(window.reset_time))
    headers["RateLimit-Policy"] = f'"key";q={amount};w={item.get_expiry()}'
    headers["RateLimit"] = f'"key";r={window.remaining};t={reset_in}'
    if response.status_code == 429:
        headers["Retry-After"] = str(max(1, reset_in))
    else:
        headers.pop("Retry-After", None)


def skip_flask_limiter_for_api(app: Flask) -> None:
    """Flask-Limiter's check before every request is not run for API requests (count_request has
    counted them); it still runs for the web UI's."""
    funcs = app.before_request_funcs.setdefault(None, [])
    check = limiter._check_request_limit

    def check_unless_api():
        if request.blueprint != bp.name:
            check()

    funcs[:] = [check_unless_api if f == check else f for f in funcs]
    assert check_unless_api in funcs, "Flask-Limiter's before_request hook was not found"


CORS_REQUEST_HEADERS = ["X-Api-Key", "Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                        "If-None-Match", "X-Request-Id"]
CORS_EXPOSED_HEADERS = ["ETag", "Location", "X-Request-Id", "Idempotent-Replayed", "Retry-After",
                        "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit",
                        "RateLimit-Policy"]


def enable_cors(app: Flask) -> None:
    """Browsers on the origins in CRM_CORS_ORIGINS may call /api/ (none by default). Keys only:
    credentials (cookies) are never allowed across origins, and the API reads none anyway."""
    from flask_cors import CORS

    origins = [o.strip() for o in app.config.get("CRM_CORS_ORIGINS", "").split(",") if o.strip()]
    if origins:
        CORS(app, resources={r"/api/*": {"origins": origins}}, supports_credentials=False,
             allow_headers=CORS_REQUEST_HEADERS, expose_headers=CORS_EXPOSED_HEADERS, max_age=600,
             methods=["GET", "POST", "PATCH", "DELETE"])


def init_app(app: Flask) -> None:
    from crm.api import (  # noqa: F401 - registers the routes
        activities,
        notifications,
        openapi,
        records,
        tasks,
        trash,
        users,
        webhooks,
    )
    from crm.api.errors import (
        http_error_as_json,
        internal_error_as_json,
        is_api_request,
        register_error_handlers,
    )

    app.url_map.converters["id"] = RecordIdConverter
    skip_flask_limiter_for_api(app)
    enable_cors(app)
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(openapi.docs_bp)
    register_error_handlers(app)

    @app.errorhandler(HTTPException)
    def on_http_error(err: HTTPException):
        if is_api_request():
            return http_error_as_json(err)
        from crm.web.errors import http_error_page

        return http_error_page(err)

    @app.errorhandler(Exception)
    def on_unexpected(err: Exception):
        if is_api_request():
            return internal_error_as_json(err)
        from crm.web.errors import internal_error_page

        return internal_error_page(err)
