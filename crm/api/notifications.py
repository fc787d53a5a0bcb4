"""/api/v1/notifications and /api/v1/users/me/notification-settings: the key's own user's.

Any valid key reads and marks its own user's notifications and settings (they are the user's
own, like a session's); no scope is needed."""

from flask import g

from crm.api import bp
from crm.api.common import (
    if_match,
    json_response,
    list_response,
    load_body,
    load_query,
    resource_response,
)
from crm.api.idempotency import idempotent
from crm.api.openapi import operation
from crm.api.params import NotificationListParams
from crm.extensions import db
from crm.models import User
from crm.schemas import (
    EmptyBody,
    NotificationOut,
    NotificationSettingsInput,
    NotificationSettingsOut,
    ReadAllOut,
)
from crm.services import mail, notifications

notification_out = NotificationOut()
settings_out = NotificationSettingsOut()
read_all_out = ReadAllOut()


@bp.get("/notifications")
@operation(summary="List your notifications", tag="notifications", query=NotificationListParams,
           out=NotificationOut, many=True, description="Newest first.")
def list_notifications():
    return list_response(notifications.list_notifications(g.caller.user_id, load_query()), notification_out)


@bp.post("/notifications/<id(notification):record_id>/read")
@idempotent
@operation(summary="Mark a notification read", tag="notifications", body=EmptyBody, body_optional=True,
           out=NotificationOut, description="Marking a read one again keeps its first `read_at`.")
def read_notification(record_id):
    load_body()
    return resource_response(notifications.mark_read(g.caller.user_id, record_id, if_match()), notification_out)


@bp.post("/notifications/read-all")
@idempotent
@operation(summary="Mark all your notifications read", tag="notifications", body=EmptyBody, body_optional=True,
           out=ReadAllOut, plain=True)
def read_all_notifications():
    load_body()
    return json_response({"data": read_all_out.dump({"updated": notifications.mark_all_read(g.caller.user_id)})})


def _settings_response():
    settings = {**notifications.preferences_of(g.caller.user_id), "email_configured": mail.smtp_configured()}
    return json_response({"data": settings_out.dump(settings)})


@bp.get("/users/me/notification-settings")
@operation(summary="Get your notification settings", tag="notifications", out=NotificationSettingsOut,
           plain=True)
def get_notification_settings():
    return _settings_response()


@bp.patch("/users/me/notification-settings")
@operation(summary="Change your notification settings", tag="notifications", body=NotificationSettingsInput,
           out=NotificationSettingsOut, plain=True,
           description="Only the kinds, channels and digest fields given change.")
def update_notification_settings():
    data = load_body()
    notifications.update_preferences(db.session.get(User, g.caller.user_id), data)
    return _settings_response()
