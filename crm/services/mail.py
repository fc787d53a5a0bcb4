"""E-mail: composing multipart messages, the outbox they wait in, and sending them over SMTP.

Mail is decided inside a transaction (a reminder fires, a digest is due) and written to
`mail_outbox` in that same transaction; `deliver_due` sends what is waiting, outside any request,
claiming each row first so that two workers never send one twice. A failed send is logged and
retried with exponential backoff, then given up after MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import or_, select, update

from crm import clock
from crm.database import writing
from crm.extensions import db
from crm.models import MailOutbox

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=5)
SMTP_TIMEOUT = 30
DEFAULT_FROM = "Followup <followup@localhost>"


class MailNotConfigured(Exception):
    """CRM_SMTP_URL is not set (or not an smtp:// or smtps:// URL)."""


def smtp_configured() -> bool:
    url = current_app.config.get("CRM_SMTP_URL") or ""
    return urlsplit(url).scheme in ("smtp", "smtps") and bool(urlsplit(url).hostname)


def base_url() -> str:
    return (current_app.config.get("CRM_BASE_URL") or "http://localhost:5000").rstrip("/")


def link(path: str) -> str:
    """An absolute link for a mail (CRM_BASE_URL + path)."""
    return base_url() + path


def compose(template: str, **context) -> tuple[str, str]:
    """The text and HTML parts from templates/mail/<template>.txt and .html."""
    env = current_app.jinja_env
    context = {"base_url": base_url(), **context}
    text = env.get_template(f"mail/{template}.txt").render(**context)
    html = env.get_template(f"mail/{template}.html").render(**context)
    return text, html


def build_message(to_address: str, subject: str, text_body: str, html_body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config.get("CRM_MAIL_FROM") or DEFAULT_FROM
    message["To"] = to_address
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="followup")
    message.set_content(text_body)
    message.add_alternative(html_body, subtype="html")
    return message


def send(message: EmailMessage) -> None:
    """Send one message now, over CRM_SMTP_URL: `smtp://user:pass@host:587` upgrades with
    STARTTLS (required before a password is sent, except to a loopback host), `smtps://` is TLS
    from the start. Raises on failure."""
    url = current_app.config.get("CRM_SMTP_URL") or ""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailNotConfigured("E-mail is not configured: set CRM_SMTP_URL (smtp://user:pass@host:587).")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    context = ssl.create_default_context()
    if parts.scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=SMTP_TIMEOUT,
                                              context=context)
    else:
        smtp = smtplib.SMTP(parts.hostname, parts.port or 587, timeout=SMTP_TIMEOUT)
    try:
        smtp.ehlo()
        if parts.scheme == "smtp":
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif user and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
                raise smtplib.SMTPException(f"{parts.hostname} does not offer STARTTLS: the password is not sent in clear.")
        if user:
            smtp.login(user, password or "")
        smtp.send_message(message)
        smtp.quit()
    finally:
        smtp.close()  # without a QUIT after a failure: the connection may be unusable


def queue_mail(to_address: str, subject: str, text_body: str, html_body: str) -> MailOutbox | None:
    """Add a mail to the outbox in the caller's transaction; nothing when SMTP is not configured."""
    if not smtp_configured() or not to_address:
        return None
    row = MailOutbox(to_address=to_address, subject=subject[:255], text_body=text_body, html_body=html_body,
                     created_at=clock.now(), next_attempt_at=clock.now(), attempts=0)
    db.session.add(row)
    return row


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2, 4, 8 ... up to 6 h."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def _due(now: datetime):
    """Never tried yet (whatever its stamp says), or its retry time has come."""
    return or_(MailOutbox.attempts == 0, MailOutbox.next_attempt_at <= now)


def _claim(row_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.id == row_id, MailOutbox.sent_at.is_(None), MailOutbox.failed_at.is_(None),
               _due(now),
               or_(MailOutbox.claimed_until.is_(None), MailOutbox.claimed_until < now))
        .values(claimed_until=now + CLAIM_LEASE, attempts=MailOutbox.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


DELIVER_BATCH = 200


def deliver_due(now: datetime | None = None, limit: int = DELIVER_BATCH) -> int:
    """Send the mails whose time has come; returns how many were sent. The claim and the result
    are each a short write of their own: no lock is held while the SMTP server answers."""
    now = now or clock.now()
    if not smtp_configured():
        return 0
    due = db.session.execute(
        select(MailOutbox.id)
        .where(MailOutbox.sent_at.is_(None), MailOutbox.failed_at.is_(None), _due(now))
        .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(limit)
    ).scalars().all()
    db.session.commit()
    sent = 0
    for row_id in due:
        with writing():
            claimed = _claim(row_id, now)
        if not claimed:
            continue  # another worker has it
        row = db.session.get(MailOutbox, row_id)
        message = build_message(row.to_address, row.subject, row.text_body, row.html_body)
        db.session.commit()
        error: Exception | None = None
        try:
            send(message)
        except Exception as err:  # noqa: BLE001 - any failure is retried
            error = err
        with writing():
            row = db.session.get(MailOutbox, row_id)
            if error is not None:
                _record_failure(row, now, error)
            else:
                row.sent_at = clock.now()
                row.claimed_until = None
                row.last_error = None
                sent += 1
            db.session.commit()
    return sent


def _record_failure(row: MailOutbox, now: datetime, err: Exception) -> None:
    row.last_error = f"{type(err).__name__}: {err}"[:2000]
    row.claimed_until = None
    if row.attempts >= MAX_ATTEMPTS:
        row.failed_at = now
        log.error("mail %s to %s given up after %s attempts: %s", row.id, row.to_address, row.attempts,
                  row.last_error)
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)
        log.warning("mail %s to %s failed (attempt %s), retrying at %s: %s", row.id, row.to_address,
                    row.attempts, row.next_attempt_at.isoformat(), row.last_error)
