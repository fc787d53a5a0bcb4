"""Idempotency keys: the first response to a POST is replayed for 24 h to the same key and body."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from crm.database import writing
from crm.extensions import db
from crm.models import IdempotencyKey, utcnow

TTL = timedelta(hours=24)
# A claim never finished (its process died) is taken over after this long.
ABANDONED_AFTER = timedelta(minutes=5)


@dataclass
class Claim:
    state: str  # "new", "replay", "in_progress", "reused"
    record_id: int | None = None
    status: int | None = None
    body: str | None = None
    headers: dict | None = None


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same: method, path and the meaning of the JSON body (keys in
    any order, any spacing, `1.0` and `1`), so a client that serialises again on retry still gets
    its replay. A body that is not JSON is compared byte for byte."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical_body(body)).hexdigest()


def canonical_body(body: bytes) -> bytes:
    if not body.strip():
        return b""
    try:
        value = json.loads(body, parse_float=Decimal, parse_int=Decimal)
        return b"json:" + _canonical(value).encode()
    except (ValueError, RecursionError):  # not JSON (or absurdly deep): the request fails anyway
        return b"raw:" + body


def _canonical(value) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _canonical(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a JSON number")
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return json.dumps(value, ensure_ascii=False)


def claim(api_key_id: str, key: str, fingerprint: str) -> Claim:
    """Claim `key` for a new request, or say why it cannot be (replay, in progress, reused)."""
    for _attempt in range(3):
        with writing():
            row = IdempotencyKey(api_key_id=api_key_id, key=key, request_hash=fingerprint)
            db.session.add(row)
            try:
                db.session.commit()
                return Claim("new", record_id=row.id)
            except IntegrityError:
                db.session.rollback()
            existing = db.session.execute(
                select(IdempotencyKey).where(IdempotencyKey.api_key_id == api_key_id, IdempotencyKey.key == key)
            ).scalar_one_or_none()
            if existing is None:
                continue
            now = utcnow()
            expired = existing.created_at < now - TTL
            abandoned = existing.response_status is None and existing.created_at < now - ABANDONED_AFTER
            if expired or abandoned:
                db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id))
                db.session.commit()
                continue
            db.session.rollback()
            if existing.request_hash != fingerprint:
                return Claim("reused")
            if existing.response_status is None:
                return Claim("in_progress")
            return Claim("replay", status=existing.response_status, body=existing.response_body,
                         headers=existing.response_headers or {})
    return Claim("in_progress")


def finish(record_id: int, status: int, body: str, headers: dict) -> None:
    with writing():
        db.session.rollback()
        db.session.execute(
            update(IdempotencyKey).where(IdempotencyKey.id == record_id)
            .values(response_status=status, response_body=body, response_headers=headers)
        )
        db.session.commit()


def release(record_id: int) -> None:
    """Forget a claim whose request failed on our side, so that a retry can run."""
    with writing():
        db.session.rollback()
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
        db.session.commit()


def purge_expired() -> int:
    with writing():
        result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - TTL))
        db.session.commit()
    return result.rowcount or 0
