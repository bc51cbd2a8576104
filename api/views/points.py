"""Stores and cashiers: named by the POS systems' own codes."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from api import fields, validate
from api.parsing import Blueprint
from api.schemas.base import Schema
from hub.extensions import db
from hub.tenants.models import Cashier, Store
from hub.tenants.operations import list_points, save_point

blp = Blueprint("points", __name__, url_prefix="/api/v1",
                description="Stores and cashiers (created on first sight in a receipt, or here)")


class PointInSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(load_default="", validate=validate.Length(max=200))


class PointSchema(Schema):
    id = fields.String()
    code = fields.String()
    name = fields.String()


class PointListSchema(Schema):
    items = fields.List(fields.Nested(PointSchema))


def _resource(model):
    class Points(MethodView):
        @blp.response(200, PointListSchema)
        def get(self):
            return {"items": list_points(db.session, g.tenant_id, model)}

        @blp.arguments(PointInSchema)
        @blp.response(201, PointSchema)
        @blp.alt_response(200, schema=PointSchema, description="Already known: updated")
        def post(self, data):
            row, created = save_point(db.session, g.tenant_id, model, data["code"], data["name"])
            return row, 201 if created else 200
    Points.__name__ = f"{model.__name__}s"
    return Points


blp.route("/stores")(_resource(Store))
blp.route("/cashiers")(_resource(Cashier))
