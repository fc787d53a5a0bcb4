"""The JSON API blueprint, /api/v1 (SPEC §2-5)."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from crm.database import end_request_transaction
from crm.extensions import csrf, limiter

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

    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "public", False):
        authenticate()
    reject_undeclared_query(view)
    return None


def reject_undeclared_query(view) -> None:
    """An operation that declares no query parameters takes none (SPEC §2: unknown ones are errors)."""
    from crm.api.errors import ApiError
    from crm.api.openapi import operation_of

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
    return response


def _rate_limit() -> str:
    return current_app.config["CRM_RATE_LIMIT"]


# Once, at import: applying it in init_app would stack one more limit per app created.
limiter.limit(_rate_limit)(bp)


def init_app(app: Flask) -> None:
    from crm.api import activities, notifications, openapi, records, tasks, users  # noqa: F401 - registers the routes
    from crm.api.errors import (
        http_error_as_json,
        internal_error_as_json,
        is_api_request,
        register_error_handlers,
    )

    app.url_map.converters["id"] = RecordIdConverter
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
