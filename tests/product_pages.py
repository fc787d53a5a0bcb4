"""Every product page, in one table: the accessibility (axe-core) and HTML validity (vnu) checks
walk it, in the browser and through the test client. A page added to the product is added here.

Each entry is a name and a function from the seeded ids (`seed_product_pages`) to the page's URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProductPage:
    name: str
    url: Callable[[dict], str]


# Seen signed out. The setup page is seen on a fresh install, before any user exists.
SETUP_PAGE = ProductPage("setup", lambda ids: "/setup")
SIGNED_OUT_PAGES = [
    ProductPage("login", lambda ids: "/login"),
]

# Seen signed in, as the workspace's admin (so Settings shows the users section).
PAGES = [
    ProductPage("tasks-my", lambda ids: "/tasks"),
    ProductPage("tasks-today", lambda ids: "/tasks?view=today&owner=any"),
    ProductPage("tasks-overdue", lambda ids: "/tasks?view=overdue&owner=any"),
    ProductPage("tasks-upcoming", lambda ids: "/tasks?view=upcoming&owner=any"),
    ProductPage("tasks-done", lambda ids: "/tasks?view=done&owner=any"),
    ProductPage("tasks-all", lambda ids: "/tasks?view=all&owner=any"),
    ProductPage("tasks-empty", lambda ids: "/tasks?q=nothing-matches-this"),
    ProductPage("task", lambda ids: f"/tasks/{ids['task']}"),
    ProductPage("task-edit", lambda ids: f"/tasks/{ids['task']}/edit"),
    ProductPage("task-new", lambda ids: "/tasks/new"),
    ProductPage("task-delete", lambda ids: f"/tasks/{ids['task']}/delete"),
    ProductPage("activities", lambda ids: "/activities"),
    ProductPage("activity", lambda ids: f"/activities/{ids['activity']}"),
    ProductPage("activity-edit", lambda ids: f"/activities/{ids['activity']}/edit"),
    ProductPage("contacts", lambda ids: "/contacts"),
    ProductPage("contact", lambda ids: f"/contacts/{ids['contact']}"),
    ProductPage("companies", lambda ids: "/companies"),
    ProductPage("company", lambda ids: f"/companies/{ids['company']}"),
    ProductPage("deals", lambda ids: "/deals"),
    ProductPage("deal", lambda ids: f"/deals/{ids['deal']}"),
    ProductPage("settings", lambda ids: "/settings"),
    ProductPage("notifications", lambda ids: "/notifications"),
    ProductPage("today", lambda ids: "/"),
    ProductPage("calendar-week", lambda ids: "/calendar?view=week"),
    ProductPage("calendar-month", lambda ids: "/calendar?view=month"),
    ProductPage("contact-new", lambda ids: "/contacts/new"),
    ProductPage("contact-edit", lambda ids: f"/contacts/{ids['contact']}/edit"),
    ProductPage("company-new", lambda ids: "/companies/new"),
    ProductPage("company-edit", lambda ids: f"/companies/{ids['company']}/edit"),
    ProductPage("deal-new", lambda ids: "/deals/new"),
    ProductPage("deal-edit", lambda ids: f"/deals/{ids['deal']}/edit"),
    ProductPage("task-snooze", lambda ids: f"/tasks/{ids['task']}/snooze"),
]


def seed_product_pages(app, workspace_id: str, user_id: str) -> dict:
    """A workspace that looks used: demo records, tasks of the signed-in user (open, overdue,
    done, described), an activity and a notification. Returns the ids the URLs need."""
    from datetime import timedelta

    from sqlalchemy import select

    from crm.database import writing
    from crm.extensions import db
    from crm.models import Activity, Company, Contact, Deal, Notification, Task, User, utcnow
    from crm.schemas import ActivityInput, TaskInput
    from crm.services import accounts, activities, tasks
    from crm.services.demo import seed_demo

    with app.app_context():
        workspace = accounts.find_workspace(workspace_id)
        seed_demo(workspace, task_count=24, activity_count=24)
        user = db.session.get(User, user_id)
        accounts.set_time_zone(user, "Europe/Berlin")
        contact = db.session.scalars(select(Contact).where(Contact.workspace_id == workspace_id,
                                                           Contact.company_id.is_not(None))).first()
        deal = db.session.scalars(select(Deal).where(Deal.workspace_id == workspace_id)).first()
        now = utcnow()

        def task(title: str, **data) -> str:
            loaded = TaskInput().load({"title": title, **data})
            return tasks.create_task(workspace_id, user_id, loaded).id

        main = task("Send the proposal to Ada", contact_id=contact.id, priority="high",
                    due_at=(now + timedelta(days=1)).isoformat() + "Z",
                    description="Agenda:\n\n1. **Pricing**\n2. Rollout plan\n\n[Proposal](https://example.com/p)")
        task("Call back about the renewal", contact_id=contact.id, due_at=(now - timedelta(days=2)).isoformat() + "Z")
        task("Prepare the quarterly review", deal_id=deal.id, due_at=(now + timedelta(hours=3)).isoformat() + "Z")
        task("Tidy the pipeline notes")
        done = task("Confirm the meeting room", contact_id=contact.id)
        tasks.complete_task(tasks.get_task(workspace_id, done), actor_id=user_id)
        activity = activities.log_activity(workspace_id, user_id, ActivityInput().load({
            "type": "call", "subject": "Talked pricing with Ada", "contact_id": contact.id,
            "body": "She wants the **annual** plan.",
        }))[0]
        with writing():
            db.session.add(Notification(workspace_id=workspace_id, user_id=user_id, kind="assigned", task_id=main,
                                        title="Send the proposal to Ada", body="Olive assigned it to you."))
        company_id = db.session.scalars(select(Company.id).where(Company.id == contact.company_id)).one()
        assert db.session.get(Task, main) and db.session.get(Activity, activity.id)
        return {"task": main, "activity": activity.id, "contact": contact.id, "company": company_id,
                "deal": deal.id}
