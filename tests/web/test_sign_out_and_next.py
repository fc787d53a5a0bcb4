"""Sign-out needs the CSRF token; a cross-site post cannot sign anyone out; a CR/LF in `next` is harmless."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest

from tests.conftest import make_account
from tests.web.conftest import CSRF_FIELD

SIGN_OUT_FORM = re.compile(r'<form method="post" action="/logout"[^>]*>(.*?)</form>', re.S)


def signed_in(web) -> bool:
    return web.get("/tasks").status_code == 200


def browser_takes_cookies(victim, response) -> None:
    """What a browser does with a cross-site answer: its Set-Cookie headers replace the user's cookies."""
    for header in response.headers.getlist("Set-Cookie"):
        for name, morsel in SimpleCookie(header).items():
            if morsel["expires"] or morsel["max-age"] == "0":
                victim.client.delete_cookie(name)
            else:
                victim.client.set_cookie(name, morsel.value)


def test_sign_out_with_the_token_signs_out(web):
    response = web.post("/logout")
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    assert web.get("/tasks").status_code == 302


def test_a_sign_out_post_without_the_token_keeps_the_user_signed_in(web):
    assert web.post("/logout", csrf=False).status_code == 400
    assert web.post("/logout", {"csrf_token": "forged"}, csrf=False).status_code == 400
    assert signed_in(web)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_other_methods_on_sign_out_keep_the_user_signed_in(web, method):
    response = web.client.open("/logout", method=method)
    assert response.status_code in (200, 405)
    assert signed_in(web)


def test_the_sign_out_button_is_a_plain_form_with_the_token(web):
    page = web.text(web.get("/tasks"))
    form = SIGN_OUT_FORM.search(page)
    assert form, "no sign-out form on the page"
    assert 'type="submit"' in form.group(1)
    token = CSRF_FIELD.search(form.group(1)).group(1)
    # Submitted as a browser without JavaScript would: just the form's fields.
    response = web.client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert web.get("/tasks").status_code == 302


@pytest.mark.parametrize("path,data", [
    ("/logout", {}),
    ("/tasks", {"title": "Forged"}),
    ("/login", {"email": "owner@acme.test", "password": "wrong"}),
    ("/settings/time-zone", {"time_zone": "Asia/Tokyo"}),
    ("/tasks/task_01M8T62W8BX5NEJP3KP6W8G2JD", {}),  # a GET-only page: 405
    ("/no/such/page", {}),  # 404
])
def test_a_cross_site_form_post_does_not_sign_the_user_out(app, web, path, data):
    # A cross-site form post carries no SameSite=Lax cookie: it arrives as from a stranger.
    stranger = app.test_client()
    response = stranger.post(path, data=data, headers={"Origin": "https://evil.test"})
    assert 400 <= response.status_code < 500
    assert not any(h.startswith("session=") for h in response.headers.getlist("Set-Cookie"))
    browser_takes_cookies(web, response)
    assert signed_in(web)


def test_a_cross_site_post_too_large_to_read_does_not_sign_the_user_out(app, web):
    stranger = app.test_client()
    response = stranger.post("/tasks", data={"title": "x" * (2 * 1024 * 1024)})
    assert response.status_code in (400, 413)
    browser_takes_cookies(web, response)
    assert signed_in(web)


@pytest.mark.parametrize("evil", [
    "/tasks\r\nSet-Cookie: session=forged",
    "/tasks\nLocation: https://evil.test/",
    "/tasks\r",
    "/\t/evil.test/",
    "/\x00/tasks",
    "/tasks\x7f",
])
def test_control_characters_in_next_give_the_default_redirect(app, web, evil):
    # Signed in, /login sends the user on to `next`.
    response = web.get("/login", query_string={"next": evil})
    assert (response.status_code, response.headers["Location"]) == (302, "/tasks")
    assert "evil" not in "".join(response.headers.getlist("Set-Cookie"))
    # After a form post.
    response = web.post("/tasks", {"title": "Redirected", "next": evil})
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks")
    # Signing in.
    client = app.test_client()
    token = CSRF_FIELD.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": "owner@acme.test", "password": "correct horse",
                                           "csrf_token": token, "next": evil})
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks")


def test_the_sign_in_page_shows_with_a_control_character_in_next(app, client):
    make_account(app)
    response = client.get("/login", query_string={"next": "/tasks\r\nX: y"})
    assert response.status_code == 200
    assert "\r\nX: y" not in response.get_data(as_text=True)


def test_a_plain_next_still_redirects_including_non_ascii(web):
    response = web.post("/tasks", {"title": "Redirected", "next": "/tasks?q=caf%C3%A9&view=all"})
    assert (response.status_code, response.headers["Location"]) == (303, "/tasks?q=caf%C3%A9&view=all")
    response = web.get("/login", query_string={"next": "/tasks?q=café"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/tasks?q=caf")
