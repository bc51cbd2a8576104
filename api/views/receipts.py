from __future__ import annotations

from flask import g
from flask.views import MethodView

from api.parsing import Blueprint
from api.fast_dump import json_answer, plan_dump
from api.schemas.receipts import QuoteSchema, ReceiptInSchema, ReturnInSchema, ReturnOutSchema
from connectors.receipts import make_position
from hub.extensions import db
from hub.moments import parse_moment, utcnow
from hub.programs.operations import get_program
from hub.receipts.operations import ReturnRequest, SaleRequest, calculate_receipt, commit_sale, get_receipt, return_sale

blp = Blueprint("receipts", __name__, url_prefix="/api/v1/receipts",
                description="Calculate, commit and return receipts")
SOURCE = "api"
# Instances, not classes: webargs builds a schema from a class on every request.
RECEIPT_IN, RETURN_IN = ReceiptInSchema(), ReturnInSchema()


def sale_request(data: dict) -> SaleRequest:
    program = get_program(db.session, g.tenant_id)
    spend = data.get("spend_bonuses")
    return SaleRequest(
        external_id=data["external_id"],
        moment=parse_moment(data.get("moment"), program.timezone, utcnow()),
        positions=tuple(
            make_position(id=p["id"], price=p["price"], quantity=p["quantity"],
                          groups=p.get("groups"), product=p.get("product"), name=p.get("name"),
                          till_discount=p["till_discount"], certificate=p.get("certificate", False))
            for p in data["positions"]),
        customer=data.get("customer") or None, store=data.get("store"), cashier=data.get("cashier"),
        payment_method=(data.get("payment") or {}).get("method"),
        spend=None if spend in (None, "max") else spend, spend_max=spend == "max",
        promo_codes=tuple(data.get("promo_codes") or ()),
        certificates=tuple((c["number"], c["amount"]) for c in data.get("certificates") or ()))


DUMP_QUOTE = plan_dump(QuoteSchema())     # the till's hottest answer (api/fast_dump.py)


@blp.route("/calculate")
class Calculate(MethodView):
    @blp.arguments(RECEIPT_IN)
    @blp.response(200, QuoteSchema)
    def post(self, data):
        return json_answer(DUMP_QUOTE, calculate_receipt(db.session, g.tenant_id, sale_request(data)))


@blp.route("")
class Receipts(MethodView):
    @blp.arguments(RECEIPT_IN)
    @blp.response(201, QuoteSchema)
    @blp.alt_response(200, schema=QuoteSchema, description="The same receipt again: the first answer")
    def post(self, data):
        # The parsed request is the idempotency key's body: 100 and 100.0 roubles, or a
        # quantity of 1 and 1.0, are the same receipt sent again, not a different one.
        answer, created = commit_sale(db.session, g.tenant_id, SOURCE, sale_request(data), data)
        return json_answer(DUMP_QUOTE, answer, 201 if created else 200)


@blp.route("/<path:external_id>/returns")
class Returns(MethodView):
    @blp.arguments(RETURN_IN)
    @blp.response(201, ReturnOutSchema)
    @blp.alt_response(200, schema=ReturnOutSchema, description="The same return again: the first answer")
    def post(self, data, external_id):
        program = get_program(db.session, g.tenant_id)
        req = ReturnRequest(
            external_id=data["external_id"],
            moment=parse_moment(data.get("moment"), program.timezone, utcnow()),
            quantities=None if not data.get("positions") else
            {p["id"]: p["quantity"] for p in data["positions"]})
        answer, created = return_sale(db.session, g.tenant_id, SOURCE, external_id, req,
                                      {"receipt": external_id, **data})
        return answer, 201 if created else 200


@blp.route("/<path:external_id>")
class ReceiptResource(MethodView):
    @blp.response(200, QuoteSchema)
    def get(self, external_id):
        receipt = get_receipt(db.session, g.tenant_id, external_id)
        return receipt.response
