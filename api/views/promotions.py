"""Promotions and their promo codes: CRUD for the owner's integrations."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from api.parsing import Blueprint
from api.schemas.promotions import (
    CodeBatchInSchema, CodeBatchSchema, CodeBlockSchema, CodeSchema, PromotionSchema,
)
from hub.extensions import db
from hub.promotions import operations as service

blp = Blueprint("promotions", __name__, url_prefix="/api/v1",
                description="Promotions (N+M, discounts, happy hours, first purchase, birthday, "
                            "bonus multipliers, personal offers) and promo codes")
PROMOTION_IN, BATCH_IN, BLOCK_IN = PromotionSchema(), CodeBatchInSchema(), CodeBlockSchema()


@blp.route("/promotions")
class Promotions(MethodView):
    @blp.response(200, PromotionSchema(many=True))
    def get(self):
        return service.list_promotions(db.session, g.tenant_id)

    @blp.arguments(PROMOTION_IN)
    @blp.response(201, PromotionSchema)
    def post(self, data):
        return service.create_promotion(db.session, g.tenant_id, data)


@blp.route("/promotions/<string:promotion_id>")
class PromotionResource(MethodView):
    @blp.response(200, PromotionSchema)
    def get(self, promotion_id):
        return service.get_promotion(db.session, g.tenant_id, promotion_id)

    @blp.arguments(PROMOTION_IN)
    @blp.response(200, PromotionSchema)
    def put(self, data, promotion_id):
        return service.update_promotion(db.session, g.tenant_id, promotion_id, data)

    @blp.response(204)
    def delete(self, promotion_id):
        service.archive_promotion(db.session, g.tenant_id, promotion_id)


@blp.route("/promotions/<string:promotion_id>/codes")
class PromotionCodes(MethodView):
    @blp.response(200, CodeSchema(many=True))
    def get(self, promotion_id):
        return service.list_codes(db.session, g.tenant_id, promotion_id)

    @blp.arguments(BATCH_IN)
    @blp.response(201, CodeBatchSchema)
    def post(self, data, promotion_id):
        return service.create_codes(db.session, g.tenant_id, promotion_id, data)


@blp.route("/promo-codes/<string:code>")
class PromoCodeResource(MethodView):
    @blp.response(200, CodeSchema)
    def get(self, code):
        return service.code_view(service.get_code(db.session, g.tenant_id, code))

    @blp.arguments(BLOCK_IN)
    @blp.response(200, CodeSchema)
    def patch(self, data, code):
        return service.block_code(db.session, g.tenant_id, code, data["blocked"])
