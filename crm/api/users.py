"""/api/v1/users: read-only (users are managed in the web UI and the CLI).

Listing colleagues needs `users:read` (any `:write` scope grants it: a key that writes assigns
owners); the scope is checked per endpoint, so an endpoint about the key's own user may need none."""

from flask import g

from crm.api import bp
from crm.api.auth import require_scope
from crm.api.common import list_response, load_query, resource_response
from crm.api.operations import operation
from crm.api.params import UserListParams
from crm.models import User
from crm.schemas import UserOut
from crm.services import records

user_out = UserOut()


@bp.get("/users")
@require_scope("users:read")
@operation(summary="List users", tag="users", query=UserListParams, out=UserOut, many=True)
def list_users():
    return list_response(records.list_users(g.workspace_id, load_query(), rows=True), user_out)


@bp.get("/users/me")
@operation(summary="Get the API key's own user", tag="users", out=UserOut,
           description="The user the API key belongs to, as `GET /users/{record_id}` shows it. "
           "List filters take `owner_id=me` and `created_by=me` for the same user.")
def get_me():
    return resource_response(records.get_record(User, g.workspace_id, g.caller.user_id), user_out)


@bp.get("/users/<id(user):record_id>")
@require_scope("users:read")
@operation(summary="Get a user", tag="users", out=UserOut)
def get_user(record_id):
    return resource_response(records.get_record(User, g.workspace_id, record_id), user_out)
