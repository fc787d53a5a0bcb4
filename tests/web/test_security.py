"""Security headers, CSRF on every state-changing request, and the htmx configuration."""

from __future__ import annotations

import json
import re

import pytest

STATE_CHANGING = [
    "/tasks", "/tasks/{task}/edit", "/tasks/{task}/complete", "/tasks/{task}/reopen", "/tasks/{task}/delete",
    "/activities", "/activities/{activity}/edit", "/activities/{activity}/delete", "/settings/time-zone",
    "/settings/api-keys", "/settings/users", "/logout",
]


def test_pages_carry_the_security_headers(web, client):
    for response in (web.get("/tasks"), client.get("/login"), web.get("/nowhere"), client.get("/healthz")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts_or_styles(web):
    web.task("Styled?")
    text = web.text(web.get("/tasks"))
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text) == []
    assert "<style" not in text and " style=" not in text and " hx-on" not in text


def test_htmx_is_configured_for_csp_and_422_swaps(web):
    text = web.text(web.get("/tasks"))
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", text).group(1))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    assert {"code": "422", "swap": True} in config["responseHandling"]
    assert '/static/htmx-2.0.11.min.js' in text


def test_body_sends_the_csrf_token_to_htmx(web):
    text = web.text(web.get("/tasks"))
    headers = json.loads(re.search(r"<body data-hx-headers='([^']+)'>", text).group(1))
    assert headers["X-CSRFToken"]


@pytest.mark.parametrize("path", STATE_CHANGING)
def test_posts_without_csrf_token_are_refused(web, path):
    task_id = web.task("Protected")
    activity_id = web.activity(subject="Protected")
    url = path.format(task=task_id, activity=activity_id)
    for htmx in (False, True):
        response = web.post(url, {"title": "changed", "subject": "changed", "time_zone": "Asia/Tokyo"},
                            htmx=htmx, csrf=False)
        assert response.status_code == 400
        assert "<html" in web.text(response) or htmx
    assert web.load_task(task_id).title == "Protected" and web.load_task(task_id).status == "pending"
    assert web.load_activity(activity_id).subject == "Protected"


def test_a_wrong_csrf_token_is_refused(web):
    response = web.post("/tasks", {"title": "x"}, htmx=True, csrf=False, headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400


def test_the_api_stays_exempt_from_csrf(api):
    assert api.post("/tasks", {"title": "From a script"}).status_code == 201


def test_html_error_pages_are_not_json(web):
    response = web.get("/tasks/task_nope")
    assert response.status_code == 404 and "<html" in web.text(response)
    assert web.get("/tasks?cursor=broken").status_code == 400
