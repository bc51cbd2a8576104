"""Gift certificates: issue, sell (activate), check the balance, redeem as payment, refund on
a return, block."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from api.parsing import Blueprint
from api.schemas.promotions import (
    CertificateActivateSchema, CertificateBlockSchema, CertificateIssueSchema,
    CertificateListSchema, CertificateRedeemSchema, CertificateRefundSchema, CertificateSchema,
)
from hub.extensions import db
from hub.moments import parse_moment, utcnow
from hub.certificates import operations as service
from hub.programs.operations import get_program

blp = Blueprint("certificates", __name__, url_prefix="/api/v1/certificates",
                description="Gift certificates: sold at the till, redeemed as payment")
ISSUE, ACTIVATE, REDEEM, REFUND, BLOCK = (CertificateIssueSchema(), CertificateActivateSchema(),
                                          CertificateRedeemSchema(), CertificateRefundSchema(),
                                          CertificateBlockSchema())


def _moment(data: dict):
    return parse_moment(data.get("moment"), get_program(db.session, g.tenant_id).timezone, utcnow())


@blp.route("")
class Certificates(MethodView):
    @blp.response(200, CertificateListSchema)
    def get(self):
        return {"certificates": service.list_certificates(db.session, g.tenant_id, utcnow())}

    @blp.arguments(ISSUE)
    @blp.response(201, CertificateListSchema)
    def post(self, data):
        return {"certificates": service.issue(db.session, g.tenant_id, data, utcnow())}


@blp.route("/<string:number>")
class Certificate(MethodView):
    @blp.response(200, CertificateSchema)
    def get(self, number):
        return service.get(db.session, g.tenant_id, number, utcnow())

    @blp.arguments(BLOCK)
    @blp.response(200, CertificateSchema)
    def patch(self, data, number):
        return service.block(db.session, g.tenant_id, number, data["blocked"], utcnow())


@blp.route("/<string:number>/activate")
class Activate(MethodView):
    @blp.arguments(ACTIVATE)
    @blp.response(201, CertificateSchema)
    def post(self, data, number):
        answer, created = service.activate(db.session, g.tenant_id, number, data["external_id"],
                                           _moment(data), utcnow())
        return answer, 201 if created else 200


@blp.route("/<string:number>/redeem")
class Redeem(MethodView):
    @blp.arguments(REDEEM)
    @blp.response(201, CertificateSchema)
    def post(self, data, number):
        answer, created = service.redeem(db.session, g.tenant_id, number, data["amount"],
                                         data["external_id"], _moment(data), utcnow())
        return answer, 201 if created else 200


@blp.route("/<string:number>/refunds")
class Refund(MethodView):
    @blp.arguments(REFUND)
    @blp.response(201, CertificateSchema)
    def post(self, data, number):
        answer, created = service.refund(db.session, g.tenant_id, number, data["amount"],
                                         data["external_id"], data["redemption_external_id"],
                                         _moment(data), utcnow())
        return answer, 201 if created else 200
