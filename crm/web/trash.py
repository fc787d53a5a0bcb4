"""The trash page (/trash) and the restore routes every "Deleted — Undo" posts to."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user

from crm.services import trash
from crm.web import bp
from crm.web.rendering import is_htmx, redirect_next, render
from crm.web.toasts import toast

KIND_LABELS = {"task": "Tasks", "activity": "Activities", "contact": "Contacts", "company": "Companies",
               "deal": "Deals"}
# Where a restored record is shown when the restore has no page to go back to.
RECORD_PAGES = {"task": ("web.task_detail", "task_id"), "activity": ("web.activity_page", "activity_id")}


def restore_url(kind: str, record_id: str, *, next_url: str | None = None) -> str:
    """The URL that takes a record out of the trash (for Undo after a delete)."""
    return url_for("web.restore_from_trash", kind=kind, record_id=record_id, next=next_url)


def deleted_toast(kind: str, name: str | None, record_id: str, *, next_url: str | None = None) -> None:
    """ "Deleted — Undo": every delete in the UI confirms with this."""
    toast(f"Deleted “{name}”." if name else "Deleted.", undo_url=restore_url(kind, record_id, next_url=next_url))


@bp.get("/trash")
def trash_page():
    kind = request.args.get("kind") or ""
    params = {"limit": 50, "cursor": request.args.get("cursor") or None}
    if kind in KIND_LABELS:
        params["kind"] = [kind]
    else:
        kind = ""
    params = {k: v for k, v in params.items() if v is not None}
    page = trash.list_trash(current_user.workspace_id, params)
    more_url = url_for("web.trash_page", kind=kind or None, cursor=page.next_cursor) if page.next_cursor else None
    return render("trash/index.html", page=page, kind=kind, kinds=KIND_LABELS, more_url=more_url)


@bp.post("/trash/<kind>/<record_id>/restore")
def restore_from_trash(kind: str, record_id: str):
    """Restore one record. With htmx: from the trash page the row goes (the empty answer replaces
    it); from a toast's Undo the page reloads (`HX-Refresh`), so the record is back where it was.
    Without JavaScript: back to `next`."""
    if kind not in trash.KINDS:
        abort(404)
    record = trash.restore(kind, current_user.workspace_id, record_id)
    name = getattr(record, "title", None) or getattr(record, "name", None) or getattr(record, "subject", None)
    toast(f"Restored “{name}”." if name else "Restored.")
    if is_htmx():
        from_trash_page = request.headers.get("HX-Target", "").startswith("trash-")
        return render("trash/_restored.html", headers=None if from_trash_page else {"HX-Refresh": "true"})
    endpoint, arg = RECORD_PAGES.get(kind, ("web.trash_page", None))
    return redirect_next(url_for(endpoint, **({arg: record.id} if arg else {})))
