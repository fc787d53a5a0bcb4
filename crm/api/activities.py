"""/api/v1/activities and the feed."""

from flask import g

from crm.api import bp
from crm.api.auth import require_scope
from crm.api.common import (
    if_match,
    json_response,
    list_response,
    load_body,
    load_query,
    no_content,
    resource_response,
)
from crm.api.idempotency import idempotent
from crm.api.params import ActivityListParams, FeedParams
from crm.fields import format_datetime
from crm.schemas import ActivityInput, ActivityOut, ActivityUpdate, TaskOut
from crm.services import activities
from crm.services.feed import feed

activity_out = ActivityOut()
task_out = TaskOut()


@bp.post("/activities")
@require_scope("activities:write")
@idempotent
def create_activity():
    activity, created = activities.log_activity(g.workspace_id, g.user, load_body(ActivityInput()))
    return resource_response(activity, activity_out, 201 if created else 200,
                             location_endpoint="api.get_activity" if created else None)


@bp.get("/activities")
@require_scope("activities:read")
def list_activities():
    page = activities.list_activities(g.workspace_id, load_query(ActivityListParams()))
    return list_response(page, activity_out)


@bp.get("/activities/feed")
@require_scope("activities:read", "tasks:read")
def activity_feed():
    page = feed(g.workspace_id, load_query(FeedParams()))
    data = [
        {
            "kind": item.kind,
            "at": format_datetime(item.at),
            "data": (activity_out if item.kind == "activity" else task_out).dump(item.record),
        }
        for item in page.items
    ]
    payload = {"data": data, "has_more": page.has_more, "next_cursor": page.next_cursor}
    if page.total is not None:
        payload["total"] = page.total
    return json_response(payload)


@bp.get("/activities/<record_id>")
@require_scope("activities:read")
def get_activity(record_id):
    return resource_response(activities.get_activity(g.workspace_id, record_id), activity_out)


@bp.patch("/activities/<record_id>")
@require_scope("activities:write")
def update_activity(record_id):
    activity = activities.get_activity(g.workspace_id, record_id, for_update=True)
    data = load_body(ActivityUpdate(), partial=True)
    return resource_response(activities.update_activity(activity, data, if_match()), activity_out)


@bp.delete("/activities/<record_id>")
@require_scope("activities:write")
def delete_activity(record_id):
    activities.delete_activity(activities.get_activity(g.workspace_id, record_id, for_update=True), if_match())
    return no_content()
