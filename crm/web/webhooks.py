"""Settings → Webhooks (admins): list, add (the secret shown once), enable/disable, delete, send a
test ping, recent deliveries with redeliver. The rules are crm.services.webhooks'."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from crm.schemas import WebhookInput
from crm.services import webhooks
from crm.services.errors import ValidationFailed
from crm.web import bp
from crm.web.forms import errors_from
from crm.web.rendering import render

RECENT_DELIVERIES = 50


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


def _list_page(status: int = 200, **context):
    context.setdefault("errors", {})
    context.setdefault("form", {})
    hooks = webhooks.list_webhooks(current_user.workspace_id, {"limit": 200}).items
    return render("settings/webhooks.html", status=status, hooks=hooks, event_patterns=webhooks.EVENT_PATTERNS,
                  **context)


@bp.get("/settings/webhooks")
def webhooks_page():
    _require_admin()
    return _list_page()


@bp.post("/settings/webhooks")
def create_webhook():
    _require_admin()
    form = request.form
    data = {"url": form.get("url", ""), "events": form.getlist("events"),
            "description": form.get("description") or None}
    try:
        webhook = webhooks.create_webhook(current_user.workspace_id, current_user.id, WebhookInput().load(data))
    except (ValidationError, ValidationFailed) as exc:
        errors = {name.split(".", 1)[0]: messages for name, messages in errors_from(exc).items()}
        return _list_page(422, errors=errors, form=form)
    # Rendered, not redirected: the secret must not travel in a URL or a cookie.
    return _list_page(201, new_hook=webhook, new_secret=webhook.secret)


def _hook(webhook_id: str):
    _require_admin()
    return webhooks.get_webhook(current_user.workspace_id, webhook_id)


@bp.get("/settings/webhooks/<webhook_id>")
def webhook_page(webhook_id: str):
    hook = _hook(webhook_id)
    deliveries = webhooks.list_deliveries(hook, {"limit": RECENT_DELIVERIES}).items
    return render("settings/webhook.html", hook=hook, deliveries=deliveries)


@bp.post("/settings/webhooks/<webhook_id>/active")
def set_webhook_active(webhook_id: str):
    hook = _hook(webhook_id)
    active = request.form.get("active") == "true"
    webhooks.update_webhook(hook, {"active": active})
    flash(f"Webhook {'enabled' if active else 'disabled'}.")
    return redirect(url_for("web.webhooks_page"), code=303)


@bp.post("/settings/webhooks/<webhook_id>/delete")
def delete_webhook(webhook_id: str):
    webhooks.delete_webhook(_hook(webhook_id))
    flash("Webhook deleted.")
    return redirect(url_for("web.webhooks_page"), code=303)


@bp.post("/settings/webhooks/<webhook_id>/test")
def test_webhook(webhook_id: str):
    hook = _hook(webhook_id)
    webhooks.send_test(hook)
    flash("Test ping sent; its delivery is listed below.")
    return redirect(url_for("web.webhook_page", webhook_id=webhook_id), code=303)


@bp.post("/settings/webhooks/<webhook_id>/deliveries/<delivery_id>/redeliver")
def redeliver_webhook_delivery(webhook_id: str, delivery_id: str):
    hook = _hook(webhook_id)
    webhooks.redeliver(hook, delivery_id)
    flash("Redelivery queued; it is listed below.")
    return redirect(url_for("web.webhook_page", webhook_id=webhook_id), code=303)
