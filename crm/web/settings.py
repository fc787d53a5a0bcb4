"""Settings: own time zone, API keys (secret shown once), and users (admins)."""

from __future__ import annotations

import base64
import zoneinfo

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user

from crm.models import ROLES, SCOPES
from crm.services import accounts, mail, notifications
from crm.services.errors import ValidationFailed
from crm.web import bp
from crm.web.calendar_feed import feed_url
from crm.web.forms import errors_from
from crm.web.rendering import render
from crm.web.toasts import toast

TIME_ZONES = sorted(zoneinfo.available_timezones())


def settings_context() -> dict:
    """The settings page's notifications section."""
    return {"notification_settings": notifications.preferences_of(current_user.id),
            "email_configured": mail.smtp_configured(), "kind_labels": notifications.KIND_LABELS}


def settings_page(status: int = 200, **context):
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("password_user", None)
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
    toast("Time zone saved.")
    return _back()


NEW_KEY_SESSION = "new_api_key"


def _reveal_box() -> Fernet:
    """Encrypts a new key's secret for its one trip through the session cookie (to the one-time view)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"followup api key reveal").derive(
        current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


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
    # Post/redirect/get, so a reload cannot make a second key. The secret rides to the one-time
    # view encrypted in the session cookie (never in a URL or the history) and is dropped there.
    session[NEW_KEY_SESSION] = {"id": key.id, "secret": _reveal_box().encrypt(secret.encode()).decode()}
    return redirect(url_for("web.new_api_key"), code=303)


@bp.get("/settings/api-keys/new")
def new_api_key():
    """The one-time view of a new key's secret: a reload finds it gone."""
    pending = session.pop(NEW_KEY_SESSION, None)
    key = next((k for k in accounts.list_api_keys(current_user) if pending and k.id == pending.get("id")), None)
    try:
        secret = _reveal_box().decrypt(pending["secret"].encode()).decode() if key else None
    except (InvalidToken, KeyError, AttributeError):
        secret = None
    if not secret:
        toast("A new key's secret is shown only once. If you did not copy it, revoke that key and create another.")
        return _back()
    toast("API key created. Copy its secret now.")
    return _settings_page(new_key=key, new_secret=secret)


@bp.post("/settings/api-keys/<key_id>/revoke")
def revoke_api_key(key_id: str):
    accounts.revoke_api_key(current_user, key_id)
    toast("API key revoked.")
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
    toast("User added.")
    return _back()


@bp.post("/settings/users/<user_id>/deactivate")
def deactivate_user(user_id: str):
    _require_admin()
    user = accounts.get_workspace_user(current_user.workspace_id, user_id)
    try:
        accounts.set_user_active(current_user, user, False)
    except ValidationFailed as exc:
        return _settings_page(422, errors=errors_from(exc))
    toast(f"{user.name} can no longer sign in.")
    return _back()


@bp.post("/settings/users/<user_id>/reactivate")
def reactivate_user(user_id: str):
    _require_admin()
    user = accounts.get_workspace_user(current_user.workspace_id, user_id)
    accounts.set_user_active(current_user, user, True)
    toast(f"{user.name} can sign in again.")
    return _back()


@bp.post("/settings/users/<user_id>/sign-out")
def sign_out_user_everywhere(user_id: str):
    _require_admin()
    user = accounts.get_workspace_user(current_user.workspace_id, user_id)
    ended = accounts.sign_out_everywhere(current_user, user)
    if user.id == current_user.id:
        return redirect(url_for("web.login"), code=303)
    toast(f"{user.name} is signed out everywhere ({ended} session{'' if ended == 1 else 's'} ended).")
    return _back()


@bp.post("/settings/password")
def change_password():
    form = request.form
    if form.get("new_password", "") != form.get("confirm_password", ""):
        return _settings_page(422, errors={"confirm_password": ["The two new passwords differ."]})
    try:
        accounts.change_own_password(current_user, form.get("current_password", ""), form.get("new_password", ""),
                                     keep_session=session.get("_sid"))
    except ValidationFailed as exc:
        errors = errors_from(exc)
        if "password" in errors:
            errors["new_password"] = errors.pop("password")
        return _settings_page(422, errors=errors)
    toast("Password changed. Your other sessions are signed out.")
    return _back()


@bp.post("/settings/users/<user_id>/password")
def set_user_password(user_id: str):
    _require_admin()
    user = accounts.get_workspace_user(current_user.workspace_id, user_id)
    try:
        accounts.admin_set_password(current_user, user, request.form.get("password", ""),
                                    keep_session=session.get("_sid"))
    except ValidationFailed as exc:
        errors = errors_from(exc)
        return _settings_page(422, errors={"user_password": [f"{user.name}: " + " ".join(errors.get("password", []))]},
                              password_user=user.id)
    toast(f"Password set for {user.name}. Their sessions are signed out.")
    return _back()
