"""Short confirmations after an action ("Task completed", "Deleted — Undo").

One call, `toast(message, undo_url=...)`, works for both kinds of request: an htmx request gets
the toast in its `HX-Trigger` header (event `followup:toast`, shown by static/app.js); a plain form
post gets it as a flashed message on the page it is redirected to (base.html), where Undo is a
real form, so it works without JavaScript.
"""

from __future__ import annotations

import json

from flask import Response, flash, g, request

from crm.web.rendering import is_htmx

EVENT = "followup:toast"
CHANGED = "followup:changed"  # after every successful htmx POST: parts of the page that summarise refresh
UNDO_CATEGORY_PREFIX = "undo:"
LINK_CATEGORY_PREFIX = "link:"


def toast(message: str, *, undo_url: str | None = None, undo_target: str | None = None,
          link_url: str | None = None) -> None:
    """Confirm an action to the user of the current request.

    `undo_url` takes a POST that undoes the action. With htmx, its answer replaces `undo_target`
    (a CSS selector, e.g. the row) when that is on the page; an undo endpoint that cannot answer
    with a fragment sends `HX-Refresh: true` instead. `link_url` adds an "Open" link (to what was
    just made, which the current list may not show).
    """
    if is_htmx():
        g.setdefault("toasts", []).append({"message": message, "undo_url": undo_url, "undo_target": undo_target,
                                           "link_url": link_url})
    elif undo_url:
        flash(message, UNDO_CATEGORY_PREFIX + undo_url)
    else:
        flash(message, LINK_CATEGORY_PREFIX + link_url if link_url else "message")


def add_toast_header(response: Response) -> Response:
    """Merge this request's toasts into `HX-Trigger` (which may already name other events), and
    say `followup:changed` after a successful htmx POST (the Today page's counts listen)."""
    toasts = g.pop("toasts", None)
    changed = is_htmx() and request.method == "POST" and response.status_code < 400
    if not toasts and not changed:
        return response
    events: dict = {}
    existing = response.headers.get("HX-Trigger")
    if existing:
        try:
            parsed = json.loads(existing)
            events = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            events = {name.strip(): None for name in existing.split(",") if name.strip()}
    if toasts:
        events[EVENT] = toasts[-1]
    if changed:
        events[CHANGED] = None
    response.headers["HX-Trigger"] = json.dumps(events, ensure_ascii=True)
    return response
