"""/api/v1/webhooks (SPEC §12): subscriptions, their delivery log, test pings, redeliveries.

Scope `webhooks:write`, and the key must be an admin's (a member's key gets 403, whatever its
scopes). The rules are crm.services.webhooks'."""

from functools import wraps

from flask import g, url_for

from crm.api import bp
from crm.api.auth import require_scope
from crm.api.common import (
    dump,
    if_match,
    json_response,
    list_response,
    load_body,
    load_query,
    no_content,
    resource_response,
)
from crm.api.errors import ApiError
from crm.api.idempotency import idempotent
from crm.api.operations import operation
from crm.api.params import PageParams
from crm.extensions import db
from crm.models import User
from crm.schemas import (
    EmptyBody,
    WebhookCreatedOut,
    WebhookDeliveryOut,
    WebhookInput,
    WebhookOut,
    WebhookUpdate,
)
from crm.services import webhooks

webhook_out = WebhookOut()
created_out = WebhookCreatedOut()
delivery_out = WebhookDeliveryOut()
ADMINS_ONLY = "Webhooks are managed with an admin's API key only."


def admins_only(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        user = db.session.get(User, g.caller.user_id)
        if user is None or not user.is_admin:
            raise ApiError(403, "insufficient_permissions", ADMINS_ONLY, {"role": ["admin"]})
        return view(*args, **kwargs)

    return wrapper


def delivery_response(webhook, delivery, status: int):
    headers = {"ETag": f'"{delivery.etag}"'}
    if status == 201:
        headers["Location"] = url_for("api.get_webhook_delivery", record_id=webhook.id, delivery_id=delivery.id)
    return json_response({"data": dump(delivery_out, delivery), "included": []}, status, headers)


@bp.post("/webhooks")
@require_scope("webhooks:write")
@admins_only
@idempotent
@operation(summary="Create a webhook", tag="webhooks", body=WebhookInput, out=WebhookCreatedOut, created=True,
           description="The answer holds the signing `secret` (`whsec_...`); it is shown only here.")
def create_webhook():
    webhook = webhooks.create_webhook(g.workspace_id, g.caller.user_id, load_body())
    return resource_response(webhook, created_out, 201, location_endpoint="api.get_webhook")


@bp.get("/webhooks")
@require_scope("webhooks:write")
@admins_only
@operation(summary="List webhooks", tag="webhooks", query=PageParams, out=WebhookOut, many=True,
           description="Oldest first.")
def list_webhooks():
    return list_response(webhooks.list_webhooks(g.workspace_id, load_query()), webhook_out)


@bp.get("/webhooks/<id(webhook):record_id>")
@require_scope("webhooks:write")
@admins_only
@operation(summary="Get a webhook", tag="webhooks", out=WebhookOut)
def get_webhook(record_id):
    return resource_response(webhooks.get_webhook(g.workspace_id, record_id), webhook_out)


@bp.patch("/webhooks/<id(webhook):record_id>")
@require_scope("webhooks:write")
@admins_only
@operation(summary="Update a webhook", tag="webhooks", body=WebhookUpdate, partial=True, out=WebhookOut,
           description="`active: true` enables a webhook that was disabled after failing deliveries.")
def update_webhook(record_id):
    webhook = webhooks.get_webhook(g.workspace_id, record_id, for_update=True)
    data = load_body()
    return resource_response(webhooks.update_webhook(webhook, data, if_match()), webhook_out)


@bp.delete("/webhooks/<id(webhook):record_id>")
@require_scope("webhooks:write")
@admins_only
@operation(summary="Delete a webhook", tag="webhooks", deletes=True,
           description="Its delivery log goes with it; deliveries not yet made are not.")
def delete_webhook(record_id):
    webhooks.delete_webhook(webhooks.get_webhook(g.workspace_id, record_id, for_update=True), if_match())
    return no_content()


@bp.post("/webhooks/<id(webhook):record_id>/test")
@require_scope("webhooks:write")
@admins_only
@idempotent
@operation(summary="Send a test ping", tag="webhooks", body=EmptyBody, body_optional=True,
           out=WebhookDeliveryOut, created=True,
           description="Queues a `ping` event to this webhook (also when it is disabled) and answers "
                       "its delivery; the attempt is made at once by a worker.")
def test_webhook(record_id):
    webhook = webhooks.get_webhook(g.workspace_id, record_id)
    load_body()
    delivery = webhooks.send_test(webhook)
    return delivery_response(webhook, _reread(delivery), 201)


@bp.get("/webhooks/<id(webhook):record_id>/deliveries")
@require_scope("webhooks:write")
@admins_only
@operation(summary="List a webhook's deliveries", tag="webhooks", query=PageParams, out=WebhookDeliveryOut,
           many=True, description="The last 30 days, newest first: event, attempts, the last "
                                  "attempt's status code, duration and the first 1 KB of its answer.")
def list_webhook_deliveries(record_id):
    webhook = webhooks.get_webhook(g.workspace_id, record_id)
    return list_response(webhooks.list_deliveries(webhook, load_query()), delivery_out)


@bp.get("/webhooks/<id(webhook):record_id>/deliveries/<id(webhook_delivery):delivery_id>")
@require_scope("webhooks:write")
@admins_only
@operation(summary="Get a delivery", tag="webhooks", out=WebhookDeliveryOut)
def get_webhook_delivery(record_id, delivery_id):
    webhook = webhooks.get_webhook(g.workspace_id, record_id)
    return resource_response(webhooks.get_delivery(webhook, delivery_id), delivery_out)


@bp.post("/webhooks/<id(webhook):record_id>/deliveries/<id(webhook_delivery):delivery_id>/redeliver")
@require_scope("webhooks:write")
@admins_only
@idempotent
@operation(summary="Redeliver", tag="webhooks", body=EmptyBody, body_optional=True, out=WebhookDeliveryOut,
           created=True,
           description="Sends the delivery's event again, now, as a new delivery with the same body and "
                       "`webhook-id` (receivers that saw it already can tell).")
def redeliver_webhook_delivery(record_id, delivery_id):
    webhook = webhooks.get_webhook(g.workspace_id, record_id)
    load_body()
    delivery = webhooks.redeliver(webhook, delivery_id)
    return delivery_response(webhook, _reread(delivery), 201)


def _reread(delivery):
    """The delivery as it is now (an attempt may have been made since the commit)."""
    db.session.expire(delivery)
    return delivery
