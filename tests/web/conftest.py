"""A signed-in browser-like client for the HTML pages: CSRF tokens, htmx headers, sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from crm.extensions import db
from tests.conftest import make_account

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def config_overrides():
    return {"CRM_LOGIN_RATE_LIMIT": "1000/minute", "CRM_LOGIN_ACCOUNT_RATE_LIMIT": "1000/minute",
            "CRM_UI_PAGE_SIZE": 50}


@dataclass
class Web:
    """A client signed in as one user; `htmx=True` sends what htmx sends."""

    app: object
    client: object
    user_id: str
    workspace_id: str
    _token: str | None = None

    def headers(self, htmx: bool, extra: dict | None = None) -> dict:
        headers = {"HX-Request": "true", "HX-Current-URL": "http://localhost/tasks"} if htmx else {}
        return {**headers, **(extra or {})}

    def csrf_token(self) -> str:
        if self._token is None:
            page = self.client.get("/settings")
            self._token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
        return self._token

    def get(self, path: str, htmx: bool = False, headers: dict | None = None, **kw):
        return self.client.get(path, headers=self.headers(htmx, headers), **kw)

    def post(self, path: str, data: dict | None = None, htmx: bool = False, csrf: bool = True,
             headers: dict | None = None, **kw):
        data = dict(data or {})
        extra = dict(headers or {})
        if csrf and htmx:
            extra["X-CSRFToken"] = self.csrf_token()  # as hx-headers on <body> sends it
        elif csrf:
            data["csrf_token"] = self.csrf_token()
        return self.client.post(path, data=data, headers=self.headers(htmx, extra), **kw)

    def text(self, response) -> str:
        return response.get_data(as_text=True)

    # --- records made through the services ---------------------------------------------

    def user(self):
        from crm.models import User

        return db.session.get(User, self.user_id)

    def task(self, title: str = "A task", **data) -> str:
        """A task made as the API would make it (same schema, same service)."""
        from datetime import datetime

        from crm.schemas import TaskInput
        from crm.services import tasks

        data = {k: (v.isoformat() + "Z" if isinstance(v, datetime) else v) for k, v in data.items()}
        with self.app.app_context():
            loaded = TaskInput().load({"title": title, **data})
            return tasks.create_task(self.workspace_id, self.user().id, loaded).id

    def activity(self, **data) -> str:
        from crm.schemas import ActivityInput
        from crm.services import activities

        with self.app.app_context():
            loaded = ActivityInput().load({"type": "call", **data})
            return activities.log_activity(self.workspace_id, self.user().id, loaded)[0].id

    def contact(self, first: str, last: str, **data) -> str:
        from crm.services import records

        with self.app.app_context():
            return records.create_contact(self.workspace_id, {"first_name": first, "last_name": last, **data}).id

    def company(self, name: str) -> str:
        from crm.services import records

        with self.app.app_context():
            return records.create_company(self.workspace_id, {"name": name}).id

    def deal(self, name: str, **data) -> str:
        from crm.services import records

        with self.app.app_context():
            return records.create_deal(self.workspace_id, {"name": name, **data}).id

    def load_task(self, task_id: str):
        from crm.models import Task

        with self.app.app_context():
            task = db.session.get(Task, task_id)
            if task is not None:
                db.session.expunge(task)
            return task

    def load_activity(self, activity_id: str):
        from crm.models import Activity

        with self.app.app_context():
            activity = db.session.get(Activity, activity_id)
            if activity is not None:
                db.session.expunge(activity)
            return activity

    def set_time_zone(self, name: str) -> None:
        from crm.services import accounts

        with self.app.app_context():
            accounts.set_time_zone(self.user(), name)


def signed_in_client(app, user_id: str):
    """A client holding a live server-side session of the user, as signing in leaves it."""
    from crm.models import User
    from crm.services import accounts

    with app.app_context():
        token = accounts.start_session(db.session.get(User, user_id), app.permanent_session_lifetime)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_sid"] = token
        session["_fresh"] = True
    return client


@pytest.fixture
def web(app):
    ws_id, user_id, _secret = make_account(app)
    return Web(app, signed_in_client(app, user_id), user_id, ws_id)


@pytest.fixture
def other_web(app, web):
    """Someone in a different workspace."""
    ws_id, user_id, _secret = make_account(app, workspace="Globex", email="boss@globex.test", name="Gus Globex")
    return Web(app, signed_in_client(app, user_id), user_id, ws_id)


@pytest.fixture
def teammate(app, web):
    """A member of `web`'s workspace, signed in on their own client."""
    _ws, user_id, _secret = make_account(app, email="mia@acme.test", name="Mia Member", role="member")
    return Web(app, signed_in_client(app, user_id), user_id, web.workspace_id)
