"""/api/v1/tasks"""

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
from crm.api.errors import ApiError
from crm.api.idempotency import idempotent
from crm.api.operations import operation
from crm.api.params import TaskListParams
from crm.schemas import (
    BulkOut,
    BulkTaskInput,
    EmptyBody,
    TaskBatchInput,
    TaskCompletion,
    TaskInput,
    TaskOut,
    TaskUpdate,
)
from crm.services import bulk, tasks

task_out = TaskOut()
bulk_out = BulkOut()


@bp.post("/tasks")
@require_scope("tasks:write")
@idempotent
@operation(summary="Create a task", tag="tasks", body=TaskInput, out=TaskOut, created=True)
def create_task():
    task = tasks.create_task(g.workspace_id, g.caller.user_id, load_body())
    return resource_response(task, task_out, 201, location_endpoint="api.get_task")


@bp.post("/tasks/batch")
@require_scope("tasks:write")
@idempotent
@operation(summary="Create tasks in one request", tag="tasks", body=TaskBatchInput, out=TaskOut, batch=True,
           description="Up to 100 tasks, each by the rules of `POST /tasks`, in one transaction: all are "
                       "created, or none (a 400 names each wrong field as `items.<index>.<field>`). The "
                       "answer lists the tasks in the order given, each with `status` 201.")
def create_tasks():
    created = tasks.create_tasks(g.workspace_id, g.caller.user_id, load_body()["items"])
    return batch_response([(task, True) for task in created], task_out)


@bp.get("/tasks")
@require_scope("tasks:read")
@operation(summary="List tasks", tag="tasks", query=TaskListParams, out=TaskOut, many=True)
def list_tasks():
    return list_response(tasks.list_tasks(g.workspace_id, load_query(), rows=True), task_out)


@bp.get("/tasks/<id(task):record_id>")
@require_scope("tasks:read")
@operation(summary="Get a task", tag="tasks", out=TaskOut)
def get_task(record_id):
    return resource_response(tasks.get_task(g.workspace_id, record_id), task_out)


@bp.patch("/tasks/<id(task):record_id>")
@require_scope("tasks:write")
@operation(summary="Update a task", tag="tasks", body=TaskUpdate, partial=True, out=TaskOut)
def update_task(record_id):
    task = tasks.get_task(g.workspace_id, record_id, for_update=True)
    data = load_body()
    return resource_response(tasks.update_task(task, data, if_match(), actor_id=g.caller.user_id), task_out)


@bp.delete("/tasks/<id(task):record_id>")
@require_scope("tasks:write")
@operation(summary="Delete a task", tag="tasks", deletes=True)
def delete_task(record_id):
    tasks.delete_task(tasks.get_task(g.workspace_id, record_id, for_update=True), if_match())
    return no_content()


@bp.post("/tasks/<id(task):record_id>/complete")
@require_scope("tasks:write")
@idempotent
@operation(summary="Complete a task", tag="tasks", body=TaskCompletion, body_optional=True, out=TaskOut,
           description="Sets status `completed`. Completing a completed task changes nothing. "
                       "For a recurring task, the series' next occurrence is created once and its id "
                       "is `next_task_id` in the answer (null when the series ends).")
def complete_task(record_id):
    task = tasks.get_task(g.workspace_id, record_id, for_update=True)
    data = load_body()
    task = tasks.complete_task(task, if_match=if_match(), actor_id=g.caller.user_id, **data)
    return resource_response(task, task_out)


@bp.post("/tasks/<id(task):record_id>/reopen")
@require_scope("tasks:write")
@idempotent
@operation(summary="Reopen a task", tag="tasks", body=EmptyBody, body_optional=True, out=TaskOut,
           description="Back to `pending`; `completed_at` is cleared. A recurring task's next "
                       "occurrence stays.")
def reopen_task(record_id):
    task = tasks.get_task(g.workspace_id, record_id, for_update=True)
    load_body()
    return resource_response(tasks.reopen_task(task, if_match()), task_out)


@bp.post("/tasks/bulk")
@require_scope("tasks:write")
@idempotent
@operation(summary="Act on many tasks at once", tag="tasks", body=BulkTaskInput, out=BulkOut, plain=True,
           description="One action on up to 500 tasks, in one transaction: all of them change, or "
                       "none does and the 400 answer's `details` names each offending id as "
                       "`ids.<id>`. `complete` creates a recurring task's next occurrence once; "
                       "`delete` moves the tasks to the trash; `restore` takes them out of it; "
                       "`update` applies `data` as PATCH would.")
def bulk_tasks():
    body = load_body()
    if "data" in body and body["action"] != "update":
        raise ApiError(400, "validation_error", "The request has invalid fields.",
                       {"data": ["Only the update action takes data."]})
    result = bulk.run(g.workspace_id, g.caller.user_id, body["ids"], body["action"], body.get("data"))
    return json_response({"data": bulk_out.dump({"updated": result.updated, "ids": result.ids})})

