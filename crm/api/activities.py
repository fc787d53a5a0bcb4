"""/api/v1/activities and the feed."""

from flask import g

from crm.api import bp
from crm.api.auth import require_scope
from crm.api.common import (
    batch_response,
    if_match,
    json_response,
    list_response,
    load_body,
    load_query,
    no_content,
    resource_response,
)
from crm.api.idempotency import idempotent
from crm.api.operations import operation
from crm.api.params import ActivityListParams, FeedParams
from crm.fields import format_datetime
from crm.schemas import ActivityBatchInput, ActivityInput, ActivityOut, ActivityUpdate, TaskOut
from crm.services import activities
from crm.services.feed import feed

activity_out = ActivityOut()
task_out = TaskOut()


@bp.post("/activities")
@require_scope("activities:write")
@idempotent
@operation(summary="Log an activity", tag="activities", body=ActivityInput, out=ActivityOut, created=True,
           also_ok=True, description="An activity whose (`source`, `external_id`) exists already is not "
           "created again: the existing one is returned with 200.")
def create_activity():
    activity, created = activities.log_activity(g.workspace_id, g.caller.user_id, load_body())
    return resource_response(activity, activity_out, 201 if created else 200,
                             location_endpoint="api.get_activity" if created else None)


@bp.post("/activities/batch")
@require_scope("activities:write")
@idempotent
@operation(summary="Log activities in one request", tag="activities", body=ActivityBatchInput, out=ActivityOut,
           batch=True, also_ok=True,
           description="Up to 100 activities, each by the rules of `POST /activities`, in one transaction: "
                       "all are logged, or none (a 400 names each wrong field as `items.<index>.<field>`). "
                       "An item whose (`source`, `external_id`) exists already, or came earlier in the same "
                       "batch, is that activity with `status` 200; a new one has `status` 201.")
def create_activities():
    results = activities.log_activities(g.workspace_id, g.caller.user_id, load_body()["items"])
    return batch_response(results, activity_out)


@bp.get("/activities")
@require_scope("activities:read")
@operation(summary="List activities", tag="activities", query=ActivityListParams, out=ActivityOut, many=True)
def list_activities():
    page = activities.list_activities(g.workspace_id, load_query(), rows=True)
    return list_response(page, activity_out)


@bp.get("/activities/feed")
@require_scope("activities:read", "tasks:read")
@operation(summary="The feed: activities and tasks on one timeline", tag="activities", query=FeedParams,
           feed=True, description="Newest first. `at` is an activity's occurred_at, or a task's completed_at "
           "if completed, else its created_at.")
def activity_feed():
    page = feed(g.workspace_id, load_query())
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


@bp.get("/activities/<id(activity):record_id>")
@require_scope("activities:read")
@operation(summary="Get an activity", tag="activities", out=ActivityOut)
def get_activity(record_id):
    return resource_response(activities.get_activity(g.workspace_id, record_id), activity_out)


@bp.patch("/activities/<id(activity):record_id>")
@require_scope("activities:write")
@operation(summary="Update an activity", tag="activities", body=ActivityUpdate, partial=True, out=ActivityOut)
def update_activity(record_id):
    activity = activities.get_activity(g.workspace_id, record_id, for_update=True)
    data = load_body()
    return resource_response(activities.update_activity(activity, data, if_match()), activity_out)


@bp.delete("/activities/<id(activity):record_id>")
@require_scope("activities:write")
@operation(summary="Delete an activity", tag="activities", deletes=True)
def delete_activity(record_id):
    activities.delete_activity(activities.get_activity(g.workspace_id, record_id, for_update=True), if_match())
    return no_content()
