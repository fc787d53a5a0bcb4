"""Page-or-fragment responses, safe redirects, and the helpers templates use."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from crm.services.errors import ValidationFailed
from crm.services.pagination import Page
from crm.services.tasks import is_overdue
from crm.web.markdown import render_markdown
from crm.web.timezones import datetime_local_value, to_local


def is_htmx() -> bool:
    """An htmx fragment request (a history restore wants the whole page)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render(template: str, status: int = 200, headers: dict | None = None, **context) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def page_size() -> int:
    return int(current_app.config.get("CRM_UI_PAGE_SIZE", 50))


def list_page(list_fn, params: dict, *, limit: int | None = None) -> Page:
    """One page of a service list for this request, from the URL's cursor; a bad cursor is a 400.
    The task and activity lists pass their service with `rows=True`: a page only shows its rows,
    and plain rows (crm/services/rows.py) cost a third of ORM objects."""
    params = {**params, "limit": limit or page_size()}
    cursor = request.args.get("cursor")
    if cursor:
        params["cursor"] = cursor[:2000]
    try:
        return list_fn(current_user.workspace_id, params)
    except ValidationFailed:
        abort(400)


def safe_next(default: str) -> str:
    """The `next` form/query value if it is a path on this site, else `default`.

    Control characters are refused: a CR/LF would split the Location header (and browsers drop
    tabs and newlines when they resolve a URL, so "/<TAB>/evil.test" would leave the site)."""
    target = request.values.get("next") or ""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc \
            and "\\" not in target:
        return target
    return default


def redirect_next(default: str) -> Response:
    return redirect(safe_next(default), code=303)


def current_path() -> str:
    """The page the user is on: for an htmx request, the page that made it."""
    if is_htmx() and request.headers.get("HX-Current-URL"):
        parts = urlsplit(request.headers["HX-Current-URL"])
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path.rstrip("?")


# One way to write a date and a time on every page (per locale; English is the only one so far):
# "Sat 5 Dec 2026", "Sat 5 Dec 2026, 14:30", "14:30".
DATE_FORMATS = {"en": {"date": "%a %-d %b %Y", "datetime": "%a %-d %b %Y, %H:%M", "time": "%H:%M"}}
LOCALE = "en"


def format_local(value: datetime | None, style: str = "datetime") -> str:
    """A UTC datetime in the user's time zone; `short` is the same as `datetime` (one format)."""
    local = to_local(value)
    if local is None:
        return ""
    formats = DATE_FORMATS[LOCALE]
    return local.strftime(formats.get(style, formats["datetime"]))


def format_day(value: date | None) -> str:
    """A calendar date (a day heading, a deal's close date), in the same format as format_local's dates."""
    return value.strftime(DATE_FORMATS[LOCALE]["date"]) if value else ""


def label(value: str | None) -> str:
    """An enum value for people: "follow_up" -> "Follow up"."""
    return (value or "").replace("_", " ").capitalize()


def format_duration(seconds: int | None) -> str:
    """3600 -> "1 h", 5400 -> "1 h 30 min", 45 -> "45 s"."""
    if not seconds:
        return "0 min"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs and not hours:
        parts.append(f"{secs} s")
    return " ".join(parts)


_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_-]{1,100}\Z")
_url_patterns: dict[tuple, str | None] = {}


def fast_url_for(endpoint: str, **values) -> str:
    """`url_for` for templates, built once per endpoint and set of path arguments.

    A list page builds eight URLs a row, each about 50 µs in Werkzeug's router: a fifth of a
    50-row page. A URL whose values are all plain ids (letters, digits, `_`, `-`, which a path
    keeps as they are) and all path arguments is the same text whatever the id, so it is built once
    with placeholders and filled in (a URL without values, the navigation's, once); anything else
    (query arguments, `_external`, other characters) goes to Flask's `url_for` as before."""
    if not all(isinstance(v, str) and _PLAIN_VALUE.match(v) for v in values.values()):
        return url_for(endpoint, **values)
    key = (request.script_root, request.host, endpoint, tuple(sorted(values)))
    pattern = _url_patterns.get(key, "")
    if pattern == "":
        pattern = _url_patterns[key] = _placeholder_url(endpoint, sorted(values))
    if pattern is None:
        return url_for(endpoint, **values)
    for name in sorted(values):
        pattern = pattern.replace(f"~{name}~", values[name])
    return pattern


def _placeholder_url(endpoint: str, names: list[str]) -> str | None:
    rules = current_app.url_map._rules_by_endpoint.get(endpoint, [])
    if not rules or any(name.startswith("_") or name not in rules[0].arguments for name in names):
        return None  # query arguments are quoted: left to url_for
    placeholders = {name: f"~{name}~" for name in names}
    url = url_for(endpoint, **placeholders)
    return url if all(p in url for p in placeholders.values()) else None


# The records a task or an activity is linked to, as chips: (attribute, page, name when blank).
_CHIPS = (("contact", "web.contact_page", "Unnamed contact"), ("company", "web.company_page", ""),
          ("deal", "web.deal_page", ""))


def links_of(record) -> Markup:
    """The chips of a record's contact, company and deal (a model or a list row), each a link
    to its page; nothing when it links to none. A Python function: a list calls it per row."""
    chips = []
    for key, endpoint, blank in _CHIPS:
        linked = getattr(record, key)
        if linked is not None:
            url = escape(fast_url_for(endpoint, record_id=linked.id))
            chips.append(f'<a class="chip {key}" href="{url}">{escape(linked.name or blank)}</a>')
    return Markup("".join(chips))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = fast_url_for
    app.add_template_filter(format_duration, "duration")
    app.add_template_filter(format_local, "local")
    app.add_template_filter(format_day, "day")
    app.add_template_filter(datetime_local_value, "input_datetime")
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(label, "label")
    app.add_template_global(is_overdue, "is_overdue")
    app.add_template_global(links_of, "links_of")
    app.add_template_global(current_path, "current_path")
    app.add_template_global(safe_next, "safe_next")

    @app.context_processor
    def signed_in_user():
        # The user itself, not the proxy: templates read `me` many times a page.
        return {"me": current_user._get_current_object() if current_user.is_authenticated else None}
