"""Server-side sessions: sign-out, a password change, deactivation and an admin's "sign out
everywhere" end sessions for good, copied cookies included."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import User, UserSession
from tests.conftest import make_account
from tests.web.conftest import signed_in_client
from tests.web.test_auth import csrf_from, sign_in


def copy_of(app, client):
    """Another browser holding a copy of the client's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def signed_in(client) -> bool:
    return client.get("/tasks").status_code == 200


def session_rows(app, user_id: str) -> int:
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id)).scalar_one()


def test_signing_out_ends_the_session_for_a_copied_cookie(app, client):
    make_account(app)
    assert sign_in(client).status_code in (302, 303)
    thief = copy_of(app, client)
    assert signed_in(thief)
    client.post("/logout", data={"csrf_token": csrf_from(client, "/settings")})
    assert client.get("/tasks").status_code == 302
    response = thief.get("/tasks")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_signing_out_leaves_the_users_other_sessions(app):
    make_account(app)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop), sign_in(phone)
    laptop.post("/logout", data={"csrf_token": csrf_from(laptop, "/settings")})
    assert not signed_in(laptop) and signed_in(phone)


def test_a_cookie_without_a_server_side_session_signs_no_one_in(app, web):
    # What a cookie signed before the upgrade (or forged with the key) holds: a user id only.
    old = app.test_client()
    with old.session_transaction() as session:
        session["_user_id"] = web.user_id
        session["_fresh"] = True
    assert not signed_in(old)


def test_a_password_change_ends_every_session_of_that_user(app, web, teammate):
    from crm.services import accounts

    second = signed_in_client(app, teammate.user_id)
    with app.app_context():
        accounts.set_password(db.session.get(User, teammate.user_id), "a brand new password")
    assert not signed_in(teammate.client) and not signed_in(second)
    assert signed_in(web.client)  # someone else's session is untouched
    assert session_rows(app, teammate.user_id) == 0
    fresh = app.test_client()
    assert sign_in(fresh, email="mia@acme.test", password="a brand new password").status_code in (302, 303)
    assert signed_in(fresh)


def test_changing_ones_own_password_may_keep_the_current_session(app, web):
    from crm.services import accounts

    other_browser = signed_in_client(app, web.user_id)
    with web.client.session_transaction() as session:
        mine = session["_sid"]
    with app.app_context():
        accounts.set_password(db.session.get(User, web.user_id), "a brand new password", keep_session=mine)
    assert signed_in(web.client) and not signed_in(other_browser)


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, web, teammate):
    thief = copy_of(app, teammate.client)
    assert web.post(f"/settings/users/{teammate.user_id}/deactivate").status_code == 303
    assert not signed_in(teammate.client) and not signed_in(thief)
    assert web.post(f"/settings/users/{teammate.user_id}/reactivate").status_code == 303
    assert not signed_in(teammate.client) and not signed_in(thief)
    assert session_rows(app, teammate.user_id) == 0


def test_admin_signs_a_user_out_everywhere_from_settings(app, web, teammate):
    phone = signed_in_client(app, teammate.user_id)
    page = web.text(web.get("/settings"))
    assert f'action="/settings/users/{teammate.user_id}/sign-out"' in page
    assert "Sign out everywhere" in page
    response = web.post(f"/settings/users/{teammate.user_id}/sign-out")
    assert response.status_code == 303
    assert "Mia Member is signed out everywhere (2 sessions ended)." in web.text(web.get("/settings"))
    assert not signed_in(teammate.client) and not signed_in(phone)
    assert signed_in(web.client)


def test_admin_signing_themselves_out_everywhere_lands_on_sign_in(app, web):
    other_browser = signed_in_client(app, web.user_id)
    response = web.post(f"/settings/users/{web.user_id}/sign-out")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not signed_in(web.client) and not signed_in(other_browser)


def test_members_cannot_sign_others_out(app, web, teammate):
    assert teammate.post(f"/settings/users/{web.user_id}/sign-out").status_code == 403
    assert signed_in(web.client)


def test_admin_cannot_sign_out_a_user_of_another_workspace(app, web, other_web):
    assert web.post(f"/settings/users/{other_web.user_id}/sign-out").status_code == 404
    assert signed_in(other_web.client)


def test_sign_out_everywhere_needs_the_csrf_token(app, web, teammate):
    assert web.post(f"/settings/users/{teammate.user_id}/sign-out", csrf=False).status_code == 400
    assert signed_in(teammate.client)


def test_a_session_ends_after_the_session_lifetime(app, web):
    with app.app_context():
        db.session.execute(update(UserSession).where(UserSession.user_id == web.user_id).values(
            created_at=UserSession.created_at - app.permanent_session_lifetime - timedelta(seconds=1)))
        db.session.commit()
    assert not signed_in(web.client)


def test_a_signed_in_page_looks_the_session_up_once(app, web, count_queries):
    web.get("/tasks")
    with count_queries() as statements:
        assert web.get("/tasks").status_code == 200
    looked_up = [s for s in statements if "user_sessions" in s]
    assert len(looked_up) == 1
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for s in statements)
