"""Sign-in, sign-out, and the first-run set-up."""

from __future__ import annotations

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


def client_address() -> str:
    return "login:" + (request.remote_addr or "unknown")


def _sign_in(user) -> None:
    session.clear()  # a fresh session on sign-in: no fixation
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"], key_func=client_address)
def login():
    if accounts.user_count() == 0:
        return redirect(url_for("web.setup"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(url_for("web.task_list")))
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        user = accounts.find_user_by_email(email)
        if accounts.check_password(user, request.form.get("password", "")):
            _sign_in(user)
            return redirect_next(url_for("web.task_list"))
        error = "Wrong email or password."
    return render("auth/login.html", status=401 if error else 200, error=error, email=email,
                  next=safe_next(""))


@bp.post("/logout")
def logout():
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
