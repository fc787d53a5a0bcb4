"""Error pages for the browser."""

import logging

from flask import Response, current_app, render_template, session
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException

log = logging.getLogger("crm.web")

MESSAGES = {
    400: "The request could not be understood. If you were filling in a form, reload the page and try again.",
    403: "You do not have permission to do that.",
    404: "There is nothing here. It may have been deleted, or the link is wrong.",
    405: "That action is not allowed here.",
    413: "That is too much data to send at once.",
    429: "Too many attempts. Wait a minute and try again.",
}


def _existing_csrf_token() -> str:
    """The session's CSRF token if it has one; never a new one.

    A cross-site form post arrives without the (SameSite=Lax) session cookie and is refused; had its
    error page minted a token, the new session cookie in the answer would replace the user's own
    and sign them out."""
    if current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in session:
        return generate_csrf()
    return ""


def _page(status: int, title: str, message: str) -> Response:
    try:
        body = render_template("errors/error.html", status=status, title=title, message=message,
                               csrf_token=_existing_csrf_token)
    except Exception:  # noqa: BLE001 - the error page must not fail in turn
        log.exception("Error page failed to render")
        body = f"<!doctype html><title>{status}</title><p>{message}</p>"
    return Response(body, status=status, mimetype="text/html")


def http_error_page(err: HTTPException) -> Response:
    if err.response is not None:  # the raiser made its own answer (the sign-in throttle's page)
        return err.response
    status = err.code or 500
    if status < 400:  # routing redirects (trailing slash) are exceptions too
        return err.get_response()
    if status >= 500:
        return _page(status, "Something went wrong", "Something went wrong on our side. It has been logged.")
    response = _page(status, err.name, MESSAGES.get(status, err.description or err.name))
    if status == 405 and getattr(err, "valid_methods", None):
        response.headers["Allow"] = ", ".join(err.valid_methods)
    if status == 429:
        response.headers["Retry-After"] = str(getattr(err, "retry_after", None) or 60)
    return response


def internal_error_page(err: Exception) -> Response:
    log.exception("Unhandled error", exc_info=err)
    return _page(500, "Something went wrong", "Something went wrong on our side. It has been logged.")
