"""Settings: own time zone, API keys (secret shown once), and users (admins)."""

from __future__ import annotations

import zoneinfo

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from crm.models import ROLES, SCOPES
from crm.services import accounts, mail, notifications
from crm.services.errors import ValidationFailed
from crm.web import bp
from crm.web.calendar_feed import feed_url
from crm.web.forms import errors_from
from crm.web.rendering import render

TIME_ZONES = sorted(zoneinfo.available_timezones())


def settings_context() -> dict:
    """The settings page's notifications section."""
    return {"notification_settings": notifications.preferences_of(current_user.id),
            "email_configured": mail.smtp_configured(), "kind_labels": notifications.KIND_LABELS}


def settings_page(status: int = 200, **context):
    context.setdefault("errors", {})
    context.setdefault("form", {})
    users = accounts.workspace_users(current_user.workspace_id, include_inactive=True) if current_user.is_admin else []
    return render(
        "settings/index.html", status=status, time_zones=TIME_ZONES, scopes=SCOPES, roles=ROLES,
        api_keys=accounts.list_api_keys(current_user), users=users, calendar_url=feed_url(current_user),
        **settings_context(), **context,
    )


_settings_page = settings_page


def _back():
    return redirect(url_for("web.settings"), code=303)


@bp.get("/settings")
def settings():
    return _settings_page()


@bp.post("/settings/time-zone")
def set_time_zone():
    try:
        accounts.set_time_zone(current_user, request.form.get("time_zone", ""))
    except ValidationFailed as exc:
        return _settings_page(422, errors=errors_from(exc))
    flash("Time zone saved.")
    return _back()


@bp.post("/settings/api-keys")
def create_api_key():
    scopes = request.form.getlist("scopes")
    try:
        scopes = accounts.parse_scopes(",".join(scopes)) if scopes else None
        if scopes is None:
            raise ValidationFailed.field("scopes", "Pick at least one scope.")
    except ValidationFailed as exc:
        return _settings_page(422, errors=errors_from(exc), form=request.form)
    key, secret = accounts.create_api_key(current_user, scopes=scopes, label=request.form.get("label"))
    # Rendered, not redirected: the secret must not travel in a URL or a cookie.
    return _settings_page(201, new_key=key, new_secret=secret)


@bp.post("/settings/api-keys/<key_id>/revoke")
def revoke_api_key(key_id: str):
    accounts.revoke_api_key(current_user, key_id)
    flash("API key revoked.")
    return _back()


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


@bp.post("/settings/users")
def add_user():
    _require_admin()
    form = request.form
    try:
        accounts.create_user(current_user.workspace, email=form.get("email", ""), name=form.get("name", ""),
                             password=form.get("password") or None, role=form.get("role", "member"))
    except ValidationFailed as exc:
        return _settings_page(422, errors=errors_from(exc), form=form)
    flash("User added.")
    return _back()


@bp.post("/settings/users/<user_id>/deactivate")
def deactivate_user(user_id: str):
    _require_admin()
    user = accounts.get_workspace_user(current_user.workspace_id, user_id)
    try:
        accounts.set_user_active(current_user, user, False)
    except ValidationFailed as exc:
        return _settings_page(422, errors=errors_from(exc))
    flash(f"{user.name} can no longer sign in.")
    return _back()


@bp.post("/settings/users/<user_id>/reactivate")
def reactivate_user(user_id: str):
    _require_admin()
    user = accounts.get_workspace_user(current_user.workspace_id, user_id)
    accounts.set_user_active(current_user, user, True)
    flash(f"{user.name} can sign in again.")
    return _back()


@bp.post("/settings/users/<user_id>/sign-out")
def sign_out_user_everywhere(user_id: str):
    _require_admin()
    user = accounts.get_workspace_user(current_user.workspace_id, user_id)
    ended = accounts.sign_out_everywhere(current_user, user)
    if user.id == current_user.id:
        return redirect(url_for("web.login"), code=303)
    flash(f"{user.name} is signed out everywhere ({ended} session{'' if ended == 1 else 's'} ended).")
    return _back()
