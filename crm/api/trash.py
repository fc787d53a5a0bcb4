"""/api/v1/trash and POST /api/v1/<kind>/{id}/restore (SPEC §13)."""

from flask import g

from crm.api import bp
from crm.api.auth import require_scope
from crm.api.common import json_response, load_body, load_query, resource_response
from crm.api.errors import ApiError
from crm.api.idempotency import idempotent
from crm.api.operations import operation
from crm.api.params import TrashListParams
from crm.schemas import (
    ActivityOut,
    CompanyOut,
    ContactOut,
    DealOut,
    EmptyBody,
    TaskOut,
    TrashItemOut,
)
from crm.services import accounts, trash

# kind: (path, the scope to restore it, the scope to see it in the trash, output schema)
RESTORABLE = {
    "task": ("tasks", "tasks:write", "tasks:read", TaskOut),
    "activity": ("activities", "activities:write", "activities:read", ActivityOut),
    "contact": ("contacts", "records:write", "records:read", ContactOut),
    "company": ("companies", "records:write", "records:read", CompanyOut),
    "deal": ("deals", "records:write", "records:read", DealOut),
}
trash_item_out = TrashItemOut()


@bp.get("/trash")
@operation(summary="List the trash", tag="trash", query=TrashListParams, out=TrashItemOut, many=True,
           description="What can still be restored, newest deletion first: only the kinds the key "
                       "may read (asking for another kind is a 403). Each item is erased for good "
                       "at its `erase_at`, 30 days after its deletion.")
def list_trash():
    params = load_query()
    readable = tuple(k for k, (_p, _w, read, _o) in RESTORABLE.items() if accounts.has_scope(g.caller.scopes, read))
    refused = [k for k in params.get("kind") or () if k not in readable]
    if refused:
        missing = sorted({RESTORABLE[k][2] for k in refused})
        raise ApiError(403, "insufficient_permissions", f"This API key lacks the scope {', '.join(missing)}.",
                       {"missing_scopes": missing})
    page = trash.list_trash(g.workspace_id, params, kinds=readable)
    return json_response({"data": [trash_item_out.dump(item) for item in page.items],
                          "has_more": page.has_more, "next_cursor": page.next_cursor})


def _register(kind: str, path: str, write_scope: str, out_schema: type) -> None:
    out = out_schema()
    a = "an" if kind[0] in "aeiou" else "a"

    @require_scope(write_scope)
    @idempotent
    @operation(summary=f"Restore {a} {kind} from the trash", tag=path, body=EmptyBody, body_optional=True,
               out=out_schema,
               description=f"Within 30 days of its deletion: the {kind} comes back with its links "
                           "(and the links to it that deleting it had cleared). Not in the trash, "
                           "or erased: 404.")
    def restore(record_id):
        load_body()
        return resource_response(trash.restore(kind, g.workspace_id, record_id), out)

    bp.add_url_rule(f"/{path}/<id({kind}):record_id>/restore", f"restore_{kind}", restore, methods=["POST"])


for _kind, (_path, _write, _read, _out) in RESTORABLE.items():
    _register(_kind, _path, _write, _out)
