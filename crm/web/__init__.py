"""The HTML side: pages and htmx fragments (SPEC §6)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from crm.extensions import login_manager
from crm.services.errors import AmbiguousReference, NotFound, ValidationFailed

bp = Blueprint("web", __name__)

PUBLIC_ENDPOINTS = frozenset({"web.login", "web.setup", "web.calendar_feed"})


@bp.before_request
def require_sign_in():
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    from crm.web.rendering import is_htmx

    login_url = url_for("web.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        # A fragment request cannot follow a redirect to a full page: ask htmx to navigate.
        response = Response(status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


@bp.after_request
def vary_on_htmx(response: Response) -> Response:
    # One URL answers with a page or a fragment, so caches must key on HX-Request.
    response.vary.add("HX-Request")
    response.headers.setdefault("Cache-Control", "no-store")
    from crm.web.toasts import add_toast_header

    return add_toast_header(response)


@bp.errorhandler(NotFound)
def record_not_found(_err: NotFound):
    """Unknown ids, and ids of another workspace, are the same plain 404 page."""
    from werkzeug.exceptions import NotFound as HttpNotFound

    from crm.web.errors import http_error_page

    return http_error_page(HttpNotFound())


@bp.errorhandler(ValidationFailed)
@bp.errorhandler(ValidationError)
@bp.errorhandler(AmbiguousReference)
def unexpected_invalid_input(_err: Exception):
    """Forms catch these themselves; anything else (a bad query value) is a 400 page, not JSON."""
    from werkzeug.exceptions import BadRequest

    from crm.web.errors import http_error_page

    return http_error_page(BadRequest())


def load_user(user_id: str):
    """The user of a live server-side session (ended by sign-out, password change, deactivation)."""
    from flask import current_app, session

    from crm.services import accounts

    return accounts.session_user(user_id, session.get("_sid"), current_app.permanent_session_lifetime)


def init_app(app: Flask) -> None:
    from crm.web import (  # noqa: F401 - registers the routes
        activities,
        auth,
        calendar,
        calendar_feed,
        notifications,
        quick_add,
        records,
        settings,
        snooze,
        tasks,
        today,
    )
    from crm.web.rendering import register_template_helpers
    from crm.web.webhooks import bp as _webhook_routes  # noqa: F401, I001 - registers the routes

    notifications.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "web.login"
    register_template_helpers(app)
    app.register_blueprint(bp)
