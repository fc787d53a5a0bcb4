"""Webhooks (SPEC §12): subscriptions, test pings, redeliveries, the log, and delivery.

The record services emit events through crm.services.webhook_events (delivery rows and their
outbox rows, in the change's transaction); this module is what happens to them after.

Delivering (`deliver`, the `webhook.deliver` outbox handler, run by the workers):

- **Claim.** One conditional UPDATE takes the delivery (`pending` and due, or `sending` with a
  lapsed lease after a worker died mid-request) and only when no earlier delivery of the same
  record to the same subscription is still `pending`/`sending`: events of one record go in order.
  An attempt is made at most once per claim; a worker killed mid-request leaves the lease to run
  out, and the outbox row (claimed again after its own, longer lease) retries it: at least once.
- **The request.** The URL is checked again (https, no private address) and the connection is
  made to the very address checked, so a DNS answer that changes meanwhile cannot redirect it.
  Standard Webhooks headers, signed with the `standardwebhooks` library; 10 s timeout; no
  redirects followed; a 2xx answer is success; the status, duration and the answer's first 1 KB
  are kept.
- **Retries.** Otherwise the delivery waits CRM_WEBHOOK_RETRY_SECONDS doubling per attempt (at
  most 12 h) for CRM_WEBHOOK_RETRY_HOURS (72) after it was created; then it has `failed`, the
  subscription is disabled and its creator gets a `webhook_disabled` notification.
- When a delivery is over (succeeded or failed), the next one of its record is woken.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from flask import current_app, has_app_context
from markupsafe import escape
from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import aliased
from standardwebhooks.webhooks import Webhook as Signer

from crm import clock
from crm.database import writes, writing
from crm.extensions import db
from crm.fields import format_datetime
from crm.models import WEBHOOK_EVENT_PATTERNS, User, Webhook, WebhookDelivery, new_id
from crm.services import notifications, outbox
from crm.services.errors import NotFound, ValidationFailed
from crm.services.pagination import Page, SortKey, paginate
from crm.services.records import check_etag, get_record
from crm.services.webhook_events import queue_deliveries

log = logging.getLogger(__name__)

EVENT_PATTERNS = WEBHOOK_EVENT_PATTERNS
PING = "ping"
TIMEOUT_SECONDS = 10.0
RESPONSE_KEPT = 1024  # characters of the answer kept in the log
RETENTION = timedelta(days=30)
MAX_RETRY_DELAY = timedelta(hours=12)
DELIVERY_LEASE = timedelta(seconds=60)  # well above the 10 s timeout, well below the outbox lease
USER_AGENT = "Followup-Webhooks/1"
DEFAULTS = {"CRM_WEBHOOK_RETRY_SECONDS": 30.0, "CRM_WEBHOOK_RETRY_HOURS": 72.0}
OPEN_STATES = ("pending", "sending")
DELIVERY_SORTS = {"created_at": SortKey(WebhookDelivery.created_at, kind="datetime")}
WEBHOOK_SORTS = {"created_at": SortKey(Webhook.created_at, kind="datetime")}


def setting(name: str):
    if has_app_context():
        return current_app.config.get(name, DEFAULTS.get(name))
    return DEFAULTS.get(name)


def flag(name: str) -> bool:
    """CRM_WEBHOOK_ALLOW_PRIVATE / CRM_WEBHOOK_ALLOW_HTTP: the app's config, else the environment."""
    value = current_app.config.get(name) if has_app_context() else None
    if value is None:
        value = os.environ.get(name, "")
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


# --- Event patterns --------------------------------------------------------------------------

def check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_PATTERNS]
    if unknown:
        raise ValidationFailed.field("events", f"Unknown events: {', '.join(unknown[:10])}. "
                                               f"Known: {', '.join(EVENT_PATTERNS)}.")
    if not events:
        raise ValidationFailed.field("events", "Give at least one event (or `*`).")
    return list(dict.fromkeys(events))


# --- The URL and its address (SSRF) ---------------------------------------------------------

class UnsafeUrl(ValueError):
    """The URL may not be called: its scheme, or an address its host resolves to."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (the Host header, TLS name)
    port: int
    path: str  # path and query
    address: str  # the checked IP the connection goes to


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def resolve(url: str) -> Target:
    """Check `url` and resolve its host: https only (http with CRM_WEBHOOK_ALLOW_HTTP), and every
    address the host resolves to must be public (unless CRM_WEBHOOK_ALLOW_PRIVATE). Returns the
    address to connect to; raises UnsafeUrl with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UnsafeUrl(f"Not a valid URL: {err}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("Must be an absolute https:// URL.")
    if scheme == "http" and not flag("CRM_WEBHOOK_ALLOW_HTTP"):
        raise UnsafeUrl("Must be https:// (plain http is allowed only with CRM_WEBHOOK_ALLOW_HTTP=true).")
    if parts.username or parts.password:
        raise UnsafeUrl("Must not contain a user name or password.")
    host = parts.hostname
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise UnsafeUrl(f"The host {host} does not resolve ({err}).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeUrl(f"The host {host} does not resolve.")
    if not flag("CRM_WEBHOOK_ALLOW_PRIVATE"):
        for address in addresses:
            if _forbidden(ipaddress.ip_address(address.split("%", 1)[0])):
                raise UnsafeUrl(
                    f"The host {host} resolves to {address}, a loopback, private, link-local, multicast "
                    "or reserved address (allowed only with CRM_WEBHOOK_ALLOW_PRIVATE=true).")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, addresses[0])


def check_url(url: str) -> str:
    try:
        resolve(url)
    except UnsafeUrl as err:
        raise ValidationFailed.field("url", str(err)) from None
    return url


# --- Subscriptions ----------------------------------------------------------------------------

def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def get_webhook(workspace_id: str, webhook_id: str, *, for_update: bool = False) -> Webhook:
    return get_record(Webhook, workspace_id, webhook_id, for_update=for_update)


def _apply(webhook: Webhook, data: dict) -> None:
    if "url" in data:
        webhook.url = check_url(data["url"])
    if "events" in data:
        webhook.events = check_events(data["events"])
    if "description" in data:
        webhook.description = data["description"]
    if "active" in data:
        webhook.active = bool(data["active"])
        if webhook.active:
            webhook.disabled_at = None


@writes
def create_webhook(workspace_id: str, user_id: str | None, data: dict) -> Webhook:
    webhook = Webhook(workspace_id=workspace_id, created_by=user_id, secret=new_secret(), active=True,
                      description=None)
    _apply(webhook, data)
    db.session.add(webhook)
    db.session.commit()
    return webhook


@writes
def update_webhook(webhook: Webhook, data: dict, if_match: str | None = None) -> Webhook:
    check_etag(webhook, if_match)
    _apply(webhook, data)
    webhook.updated_at = clock.now()
    db.session.commit()
    return webhook


@writes
def delete_webhook(webhook: Webhook, if_match: str | None = None) -> None:
    """Its deliveries go with it (a pending one is not sent)."""
    check_etag(webhook, if_match)
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    db.session.delete(webhook)
    db.session.commit()


def list_webhooks(workspace_id: str, params: dict) -> Page:
    return paginate(select(Webhook).where(Webhook.workspace_id == workspace_id), sort="created_at",
                    keys=WEBHOOK_SORTS, id_column=Webhook.id, cursor=params.get("cursor"),
                    limit=params.get("limit", 50), include_total=params.get("include_total", False))


# --- Events ----------------------------------------------------------------------------------

@writes
def send_test(webhook: Webhook) -> WebhookDelivery:
    """A `ping` event to this subscription (also when it is disabled: to check a fixed receiver)."""
    payload = {"id": new_id("evt"), "type": PING, "created_at": format_datetime(clock.now()),
               "data": {"webhook_id": webhook.id, "url": webhook.url}}
    delivery = queue_deliveries(webhook.workspace_id, [webhook.id], payload, record_key=None, manual=True)[0]
    db.session.commit()
    return delivery


@writes
def redeliver(webhook: Webhook, delivery_id: str) -> WebhookDelivery:
    """Send a logged delivery again, now: the same body and `webhook-id`, as a new delivery."""
    original = get_delivery(webhook, delivery_id)
    payload = json.loads(original.body)
    delivery = queue_deliveries(webhook.workspace_id, [webhook.id], payload, record_key=None, manual=True,
                      message_id=original.message_id)[0]
    db.session.commit()
    return delivery


def get_delivery(webhook: Webhook, delivery_id: str) -> WebhookDelivery:
    delivery = db.session.execute(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                      WebhookDelivery.webhook_id == webhook.id,
                                      WebhookDelivery.created_at >= clock.precise_now() - RETENTION)
    ).scalar_one_or_none()
    if delivery is None:
        raise NotFound(f"No delivery with id {delivery_id!r}.")
    return delivery


def list_deliveries(webhook: Webhook, params: dict) -> Page:
    """The last 30 days' deliveries, newest first."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id,
                                         WebhookDelivery.created_at >= clock.precise_now() - RETENTION)
    return paginate(stmt, sort="-created_at", keys=DELIVERY_SORTS, id_column=WebhookDelivery.id,
                    cursor=params.get("cursor"), limit=params.get("limit", 50),
                    include_total=params.get("include_total", False))


def purge_deliveries() -> int:
    """Delete deliveries older than 30 days (the hourly purge)."""
    with writing():
        result = db.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.created_at < clock.precise_now() - RETENTION,
                                          WebhookDelivery.state.in_(("succeeded", "failed"))))
        db.session.commit()
    return result.rowcount or 0


# --- Delivering ------------------------------------------------------------------------------

@dataclass
class Outcome:
    status_code: int | None = None
    response_body: str | None = None
    error: str | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signed_headers(secret: str, message_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for `body`."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Signer(secret).sign(message_id, sent_at, body),
    }


def post(target: Target, body: str, headers: dict[str, str]) -> Outcome:
    """POST to the checked address (the Host header and TLS name are the URL's host)."""
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    if ":" in target.host and not host_header.startswith("["):
        host_header = f"[{target.host}]" if target.port in (80, 443) else f"[{target.host}]:{target.port}"
    timeout = urllib3.Timeout(total=TIMEOUT_SECONDS)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, server_hostname=target.host,
                                           assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
                                           timeout=timeout, retries=False, maxsize=1)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False,
                                          maxsize=1)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST", target.path, body=body.encode(), redirect=False, retries=False, preload_content=False,
            headers={**headers, "Host": host_header, "Content-Type": "application/json",
                     "User-Agent": USER_AGENT})
        try:
            raw = response.read(RESPONSE_KEPT * 4, decode_content=True)
        finally:
            response.release_conn()
        text = raw.decode("utf-8", "replace")[:RESPONSE_KEPT]
        return Outcome(response.status, text, None if 200 <= response.status < 300
                       else f"The receiver answered {response.status}.",
                       int((time.monotonic() - started) * 1000))
    except urllib3.exceptions.HTTPError as err:
        reason = getattr(err, "reason", None) or err
        return Outcome(None, None, f"{type(err).__name__}: {reason}"[:500],
                       int((time.monotonic() - started) * 1000))
    finally:
        pool.close()


def _delivery_lease() -> timedelta:
    """Shorter than the outbox's lease, so that a dead worker's delivery can be claimed again by
    the time its outbox row is."""
    return min(DELIVERY_LEASE, timedelta(seconds=float(outbox.setting("CRM_OUTBOX_LEASE_SECONDS")) / 2))


def _claim(delivery_id: str, now: datetime) -> bool:
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.webhook_id == WebhookDelivery.webhook_id, earlier.record_key == WebhookDelivery.record_key,
        earlier.state.in_(OPEN_STATES),
        or_(earlier.created_at < WebhookDelivery.created_at,
            and_(earlier.created_at == WebhookDelivery.created_at, earlier.id < WebhookDelivery.id)))
    result = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id,
               or_(and_(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now),
                   and_(WebhookDelivery.state == "sending", WebhookDelivery.lease_until < now)),
               or_(WebhookDelivery.record_key.is_(None), ~blocked))
        .values(state="sending", attempts=WebhookDelivery.attempts + 1, lease_until=now + _delivery_lease(),
                last_attempt_at=now.replace(microsecond=0))
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)


def deliver(delivery_id: str) -> str | None:
    """Make the delivery's next attempt if it is due and its turn; returns its state after, or
    None when there was nothing to do."""
    now = clock.precise_now()
    with writing():
        claimed = _claim(delivery_id, now)
        db.session.commit()
    if not claimed:
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    webhook = db.session.get(Webhook, delivery.webhook_id)
    attempt, manual, message_id, body = delivery.attempts, delivery.manual, delivery.message_id, delivery.body
    active, url, secret = webhook.active, webhook.url, webhook.secret
    db.session.commit()  # no transaction open while the receiver answers
    give_up = not active and not manual
    if give_up:
        outcome = Outcome(error="The webhook is disabled.")
    else:
        try:
            target = resolve(url)
        except UnsafeUrl as err:
            outcome = Outcome(error=str(err)[:500])
        else:
            outcome = post(target, body, signed_headers(secret, message_id, body, clock.system_now()))
    return _finish(delivery_id, attempt, outcome, give_up=give_up)


def _retry_delay(attempt: int) -> timedelta:
    return min(timedelta(seconds=float(setting("CRM_WEBHOOK_RETRY_SECONDS")) * 2 ** (attempt - 1)),
               MAX_RETRY_DELAY)


def _finish(delivery_id: str, attempt: int, outcome: Outcome, *, give_up: bool) -> str | None:
    now = clock.precise_now()
    with writing():
        delivery = db.session.execute(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == "sending",
                                          WebhookDelivery.attempts == attempt)).scalar_one_or_none()
        if delivery is None:  # our lease ran out and another worker took the delivery over
            db.session.rollback()
            return None
        delivery.status_code = outcome.status_code
        delivery.duration_ms = outcome.duration_ms
        delivery.response_body = outcome.response_body
        delivery.error = outcome.error
        delivery.lease_until = None
        next_at = now + _retry_delay(attempt)
        window = timedelta(hours=float(setting("CRM_WEBHOOK_RETRY_HOURS")))
        if outcome.ok:
            delivery.state, delivery.next_attempt_at = "succeeded", None
        elif give_up or delivery.manual or next_at > delivery.created_at + window:
            delivery.state, delivery.next_attempt_at = "failed", None
            if not give_up and not delivery.manual:
                _disable(delivery)
        else:
            delivery.state, delivery.next_attempt_at = "pending", next_at
            outbox.add("webhook.deliver", {"delivery_id": delivery.id}, available_at=next_at)
        if delivery.state != "pending" and delivery.record_key is not None:
            _wake_next(delivery)
        state = delivery.state
        db.session.commit()
    return state


def _wake_next(delivery: WebhookDelivery) -> None:
    following = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
        .where(WebhookDelivery.webhook_id == delivery.webhook_id, WebhookDelivery.record_key == delivery.record_key,
               WebhookDelivery.state == "pending", WebhookDelivery.id != delivery.id)
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id).limit(1)).first()
    if following is not None:
        outbox.add("webhook.deliver", {"delivery_id": following.id}, available_at=following.next_attempt_at)


def _disable(delivery: WebhookDelivery) -> None:
    """Deliveries failed for the whole retry window: disable the subscription, tell its creator."""
    webhook = db.session.get(Webhook, delivery.webhook_id, with_for_update=True)
    if webhook is None or not webhook.active:
        return
    webhook.active = False
    webhook.disabled_at = clock.now()
    webhook.updated_at = clock.now()
    owner = db.session.get(User, webhook.created_by) if webhook.created_by else None
    title = f"Webhook disabled: {webhook.url}"[:255]
    body = (f"Deliveries to {webhook.url} failed for {setting('CRM_WEBHOOK_RETRY_HOURS'):g} hours "
            f"(last error: {delivery.error or 'none'}). Fix the receiver, then enable the webhook "
            "again in Settings → Webhooks; failed deliveries can be redelivered from its log.")
    notifications.notify(owner, "webhook_disabled", title, body,
                         email=(title, body, f"<p>{escape(body)}</p>"))
    log.warning("webhook %s disabled after failing deliveries", webhook.id)


@outbox.handler("webhook.deliver", transactional=False)
def _deliver_job(payload: dict) -> None:
    deliver(payload["delivery_id"])
