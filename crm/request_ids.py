"""Request ids: every response carries `X-Request-Id` (a sane one sent by the client or a proxy is
kept, else a new one), API error bodies quote it, and every log record made while serving the
request carries it as `request_id`, so a support ticket's id finds the request's log lines."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, g, has_request_context, request

HEADER = "X-Request-Id"
SANE = re.compile(r"^[A-Za-z0-9._:+/=-]{8,128}$")


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _assign() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if SANE.match(given) else uuid.uuid4().hex


def _stamp(response):
    request_id = current_request_id()
    if request_id:
        response.headers[HEADER] = request_id
    return response


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = current_request_id() or "-"
    return record


def init_app(app: Flask) -> None:
    # First of the before-request hooks, so that everything after it (authentication, the rate
    # limit, errors) already has the id.
    app.before_request_funcs.setdefault(None, []).insert(0, _assign)
    app.after_request(_stamp)


# At import, so that no record is formatted without it (crm.logs uses %(request_id)s).
logging.setLogRecordFactory(_record_with_request_id)
