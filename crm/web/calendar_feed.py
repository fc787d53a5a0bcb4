"""The secret calendar feed URL (/calendar/<token>.ics, no session) and its Settings controls."""

from __future__ import annotations

from flask import Response, abort, current_app, redirect, request, url_for
from flask_login import current_user

from crm.services import calendar
from crm.web import bp
from crm.web.toasts import toast


def feed_base_url() -> str:
    """Where links in the feed point: CRM_BASE_URL when set (behind a proxy), else this host."""
    return (current_app.config.get("CRM_BASE_URL") or request.host_url).rstrip("/")


def feed_url(user) -> str:
    return feed_base_url() + url_for("web.calendar_feed", token=calendar.calendar_token(user))


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    user = calendar.user_by_calendar_token(token)
    if user is None:
        abort(404)
    response = Response(calendar.calendar_feed(user, feed_base_url()), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="followup.ics"'
    # The URL is the secret: shared caches must not keep it.
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.post("/settings/calendar-token")
def regenerate_calendar_token():
    calendar.regenerate_calendar_token(current_user)
    toast("New calendar URL made. The old one no longer works: subscribe again with this one.")
    return redirect(url_for("web.settings") + "#calendar-head", code=303)
