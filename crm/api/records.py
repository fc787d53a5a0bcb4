"""/api/v1/companies, /contacts, /deals: the same CRUD shape for each."""

from dataclasses import dataclass

from flask import g

from crm.api import bp
from crm.api.auth import require_scope
from crm.api.common import (
    if_match,
    list_response,
    load_body,
    load_query,
    no_content,
    resource_response,
)
from crm.api.idempotency import idempotent
from crm.api.operations import operation
from crm.api.params import CompanyListParams, ContactListParams, DealListParams
from crm.models import Company, Contact, Deal
from crm.schemas import CompanyInput, CompanyOut, ContactInput, ContactOut, DealInput, DealOut
from crm.services import records


@dataclass(frozen=True)
class Resource:
    path: str
    singular: str
    model: type
    input: type
    output: type
    params: type
    create: callable
    update: callable
    delete: callable
    list: callable


RESOURCES = (
    Resource("companies", "company", Company, CompanyInput, CompanyOut, CompanyListParams,
             records.create_company, records.update_company, records.delete_company, records.list_companies),
    Resource("contacts", "contact", Contact, ContactInput, ContactOut, ContactListParams,
             records.create_contact, records.update_contact, records.delete_contact, records.list_contacts),
    Resource("deals", "deal", Deal, DealInput, DealOut, DealListParams,
             records.create_deal, records.update_deal, records.delete_deal, records.list_deals),
)


def register(res: Resource) -> None:
    out = res.output()
    a = "an" if res.singular[0] in "aeiou" else "a"
    tag = res.path

    @require_scope("records:write")
    @idempotent
    @operation(summary=f"Create {a} {res.singular}", tag=tag, body=res.input, out=res.output, created=True)
    def create():
        record = res.create(g.workspace_id, load_body())
        return resource_response(record, out, 201, location_endpoint=f"api.get_{res.singular}")

    @require_scope("records:read")
    @operation(summary=f"List {res.path}", tag=tag, query=res.params, out=res.output, many=True)
    def list_():
        return list_response(res.list(g.workspace_id, load_query(), rows=True), out)

    @require_scope("records:read")
    @operation(summary=f"Get {a} {res.singular}", tag=tag, out=res.output)
    def get(record_id):
        return resource_response(records.get_record(res.model, g.workspace_id, record_id), out)

    @require_scope("records:write")
    @operation(summary=f"Update {a} {res.singular}", tag=tag, body=res.input, partial=True, out=res.output)
    def update(record_id):
        record = records.get_record(res.model, g.workspace_id, record_id, for_update=True)
        data = load_body()
        return resource_response(res.update(record, data, if_match()), out)

    @require_scope("records:write")
    @operation(summary=f"Delete {a} {res.singular}", tag=tag, deletes=True)
    def delete(record_id):
        res.delete(records.get_record(res.model, g.workspace_id, record_id, for_update=True), if_match())
        return no_content()

    base = f"/{res.path}"
    bp.add_url_rule(base, f"create_{res.singular}", create, methods=["POST"])
    bp.add_url_rule(base, f"list_{res.path}", list_, methods=["GET"])
    bp.add_url_rule(f"{base}/<id({res.singular}):record_id>", f"get_{res.singular}", get, methods=["GET"])
    bp.add_url_rule(f"{base}/<id({res.singular}):record_id>", f"update_{res.singular}", update, methods=["PATCH"])
    bp.add_url_rule(f"{base}/<id({res.singular}):record_id>", f"delete_{res.singular}", delete, methods=["DELETE"])


for _resource in RESOURCES:
    register(_resource)
