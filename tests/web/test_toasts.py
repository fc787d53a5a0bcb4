"""Every action confirms itself: a toast in HX-Trigger for htmx, a flashed line (with a working
Undo form) for a plain post."""

from __future__ import annotations

import html
import json
import re


def test_completing_with_htmx_sends_a_toast_whose_undo_reopens_the_row(web):
    task_id = web.task("Call Ada")
    response = web.post(f"/tasks/{task_id}/complete", htmx=True)
    event = json.loads(response.headers["HX-Trigger"])["followup:toast"]
    assert event["message"] == "Completed “Call Ada”."
    assert event["undo_url"] == f"/tasks/{task_id}/reopen" and event["undo_target"] == f"#task-{task_id}"

    undo = web.post(event["undo_url"], htmx=True)
    assert web.text(undo).lstrip().startswith(f'<li id="task-{task_id}"')
    assert web.load_task(task_id).status == "pending"
    assert json.loads(undo.headers["HX-Trigger"])["followup:toast"]["message"] == "Reopened “Call Ada”."


def test_completing_without_javascript_shows_the_message_and_an_undo_form(web):
    task_id = web.task("Call Ada")
    response = web.post(f"/tasks/{task_id}/complete", {"next": "/tasks?view=done"})
    page = web.text(web.get(response.headers["Location"]))
    assert "Completed “Call Ada”." in html.unescape(page)
    form = re.search(r'<div class="flash".*?<form method="post" action="([^"]+)"', page, re.S)
    assert form and form.group(1) == f"/tasks/{task_id}/reopen"
    web.post(form.group(1), {})
    assert web.load_task(task_id).status == "pending"


def test_a_toast_keeps_the_other_events_of_the_answer(app):
    from flask import Response, g

    from crm.web.toasts import EVENT, add_toast_header

    with app.test_request_context(headers={"HX-Request": "true"}):
        g.toasts = [{"message": "Marked read.", "undo_url": None, "undo_target": None}]
        response = add_toast_header(Response(headers={"HX-Trigger": "notifications-changed"}))
        events = json.loads(response.headers["HX-Trigger"])
    assert set(events) == {"notifications-changed", EVENT} and events[EVENT]["message"] == "Marked read."
