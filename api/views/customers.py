from __future__ import annotations

from flask import g, request
from flask.views import MethodView

from api.parsing import Blueprint
from api.schemas.customers import (
    BonusInSchema, BonusOutSchema, CustomerInSchema, CustomerListSchema, CustomerOutSchema,
    CustomerPatchSchema, CustomerQuerySchema, LedgerQuerySchema, LedgerSchema,
)
from hub.extensions import db
from hub.moments import parse_moment, utcnow
from hub.customers.bonuses import adjust_bonuses
from hub.customers.operations import (
    find_customers, get_customer, ledger_entries, register_customer, summarize, update_customer,
)
from hub.programs.operations import get_program

blp = Blueprint("customers", __name__, url_prefix="/api/v1/customers",
                description="Loyalty-program participants")


def customer_out(customer, moment=None) -> dict:
    s = summarize(db.session, g.tenant_id, customer, moment or utcnow())
    c = customer
    return {
        "id": c.id, "phone": c.phone, "card_number": c.card_number, "first_name": c.first_name,
        "last_name": c.last_name, "middle_name": c.middle_name, "gender": c.gender,
        "birth_date": c.birth_date, "email": c.email, "address": c.address, "comment": c.comment,
        "tags": c.tags or [], "relatives": c.relatives or [], "consents": c.consents or {},
        "balance": {"available": s.balance.available, "pending": s.balance.pending,
                    "debt": s.balance.debt},
        "level": {"code": s.level.code, "name": s.level.name},
        "next_level": {"code": s.next_level.code, "name": s.next_level.name} if s.next_level else None,
        "total_purchases": c.total_purchases, "to_next_level": s.to_next_level,
        "purchase_count": c.purchase_count, "last_purchase_at": c.last_purchase_at,
        "created_at": c.created_at, "blocked": c.blocked,
    }


def _relatives_json(data: dict) -> dict:
    if data.get("relatives"):
        data["relatives"] = [{**r, "birth_date": r["birth_date"].isoformat()} for r in data["relatives"]]
    return data


@blp.route("")
class Customers(MethodView):
    @blp.arguments(CustomerQuerySchema, location="query")
    @blp.response(200, CustomerListSchema)
    def get(self, query):
        found = find_customers(db.session, g.tenant_id, phone=query.get("phone"), card=query.get("card"),
                               q=query.get("q"))
        return {"items": [customer_out(c) for c in found]}

    @blp.arguments(CustomerInSchema)
    @blp.response(201, CustomerOutSchema)
    def post(self, data):
        customer = register_customer(db.session, g.tenant_id, _relatives_json(data),
                                     source="api", moment=utcnow())
        return customer_out(customer)


@blp.route("/<customer_id>")
class CustomerResource(MethodView):
    @blp.response(200, CustomerOutSchema)
    def get(self, customer_id):
        return customer_out(get_customer(db.session, g.tenant_id, customer_id))

    # Partial at the top only: a relative given in a PATCH still needs its birth date.
    @blp.arguments(CustomerPatchSchema(partial=tuple(CustomerPatchSchema._declared_fields)))
    @blp.response(200, CustomerOutSchema)
    def patch(self, data, customer_id):
        customer = update_customer(db.session, g.tenant_id, customer_id, _relatives_json(data),
                                   source="api", moment=utcnow())
        return customer_out(customer)


@blp.route("/<customer_id>/ledger")
class CustomerLedger(MethodView):
    @blp.arguments(LedgerQuerySchema, location="query")
    @blp.response(200, LedgerSchema)
    def get(self, query, customer_id):
        return {"items": ledger_entries(db.session, g.tenant_id, customer_id,
                                        query["limit"], query["offset"])}


@blp.route("/<customer_id>/bonuses")
class CustomerBonuses(MethodView):
    @blp.arguments(BonusInSchema)
    @blp.response(201, BonusOutSchema)
    @blp.alt_response(200, schema=BonusOutSchema, description="The same Idempotency-Key again: the first answer")
    def post(self, data, customer_id):
        program = get_program(db.session, g.tenant_id)
        moment = parse_moment(data.pop("moment", None), program.timezone, utcnow())
        answer, created = adjust_bonuses(
            db.session, g.tenant_id, customer_id, amount=data["amount"], kind=data["kind"],
            reason=data.get("reason"), valid_days=data.get("valid_days"), moment=moment,
            idempotency_key=request.headers.get("Idempotency-Key"), source="api",
            body=request.get_json(silent=True))
        return answer, 201 if created else 200
