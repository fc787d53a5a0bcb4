"""Sign-in, sign-out, and the first-run set-up."""

from __future__ import annotations

import hashlib
import time

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from crm.extensions import limiter
from crm.services import accounts
from crm.services.errors import AlreadySetUp, ValidationFailed
from crm.web import bp
from crm.web.forms import errors_from
from crm.web.rendering import redirect_next, render, safe_next


def login_rate_limit() -> str:
    return current_app.config["CRM_LOGIN_RATE_LIMIT"]


def login_account_rate_limit() -> str:
    return current_app.config["CRM_LOGIN_ACCOUNT_RATE_LIMIT"]


def client_address() -> str:
    return "login:" + (request.remote_addr or "unknown")


def submitted_account() -> str:
    """The e-mail tried, whether or not it has an account (else the count would tell)."""
    email = request.form.get("email", "").strip().lower()
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def failed_sign_in(response) -> bool:
    return response.status_code == 401  # successes, and forms refused before the check, are not counted


def _too_many(what: str):
    def on_breach(limit):
        wait = max(1, int(limit.reset_at - time.time()))  # as the limiter's own Retry-After counts
        error = f"Too many failed sign-ins {what}. Try again in {wait} second{'' if wait == 1 else 's'}."
        response = render("auth/login.html", status=429, error=error, email=request.form.get("email", ""),
                          next=safe_next(""))
        response.headers["Retry-After"] = str(wait)
        return response

    return on_breach


def _sign_in(user) -> None:
    session.clear()  # a fresh session on sign-in: no fixation
    session["_sid"] = accounts.start_session(user, current_app.permanent_session_lifetime)
    login_user(user)


# One count per address and one per account, in the limiter's storage (shared through Redis
# when CRM_RATELIMIT_STORAGE_URL is redis://); only failed sign-ins count.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"], key_func=client_address, deduct_when=failed_sign_in,
               on_breach=_too_many("from your network"))
@limiter.limit(login_account_rate_limit, methods=["POST"], key_func=submitted_account,
               deduct_when=failed_sign_in, on_breach=_too_many("for this email"))
def login():
    if accounts.user_count() == 0:
        return redirect(url_for("web.setup"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(url_for("web.task_list")))
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        user = accounts.authenticate_password(email, request.form.get("password", ""))
        if user is not None:
            _sign_in(user)
            return redirect_next(url_for("web.task_list"))
        error = "Wrong email or password."
    return render("auth/login.html", status=401 if error else 200, error=error, email=email,
                  next=safe_next(""))


@bp.post("/logout")
def logout():
    accounts.end_session(session.get("_sid"))
    logout_user()
    session.clear()
    return redirect(url_for("web.login"), code=303)


def _already_set_up(exc: AlreadySetUp):
    flash(exc.message)
    return redirect(url_for("web.login"), code=303)


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if accounts.is_set_up():
        if request.method == "POST":  # someone set it up after this form was shown
            return _already_set_up(AlreadySetUp())
        abort(404)
    errors: dict = {}
    form = request.form
    if request.method == "POST":
        try:
            user = accounts.setup_first_admin(
                workspace_name=form.get("workspace", ""), email=form.get("email", ""),
                name=form.get("name", ""), password=form.get("password", ""),
            )
        except AlreadySetUp as exc:  # another set-up got in first
            return _already_set_up(exc)
        except ValidationFailed as exc:
            errors = errors_from(exc)
        else:
            _sign_in(user)
            return redirect(url_for("web.task_list"), code=303)
    return render("auth/setup.html", status=422 if errors else 200, errors=errors, form=form)
