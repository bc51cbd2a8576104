"""Reviews participants left about their purchases (the participant's cabinet): list with
filters, keyset pages newest first, and the average rating."""
from __future__ import annotations

from datetime import datetime

from flask import g
from flask.views import MethodView
from marshmallow import ValidationError

from api import fields, validate
from api.parsing import Blueprint
from api.schemas.base import Schema
from hub.extensions import db
from hub.reviews.models import Review
from hub.reviews.operations import RATINGS, review_query, summary
from hub.paging import newest_first

blp = Blueprint("reviews", __name__, url_prefix="/api/v1",
                description="Reviews of purchases left by participants in their cabinet")


def _cursor(value: str) -> None:
    moment, sep, last_id = value.partition("|")
    try:
        datetime.fromisoformat(moment)
    except ValueError:
        sep = ""
    if not sep or not last_id or len(value) > 100:
        raise ValidationError("Неверный курсор: передайте next_cursor из предыдущего ответа.")


class ReviewQuerySchema(Schema):
    rating = fields.Integer(validate=validate.OneOf(RATINGS), metadata={"description": "only this rating (1–5)"})
    customer_id = fields.String(validate=validate.Length(max=36))
    receipt_id = fields.String(validate=validate.Length(max=36))
    after = fields.String(validate=_cursor, metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ReviewSchema(Schema):
    id = fields.String()
    customer_id = fields.String()
    receipt_id = fields.String()
    rating = fields.Integer(metadata={"description": "1 (very bad) … 5 (excellent)"})
    text = fields.String(metadata={"description": "the participant's words, up to 2000 characters; may be empty"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime(metadata={"description": "later than created_at when the participant edited it"})


class ReviewSummarySchema(Schema):
    count = fields.Integer(metadata={"description": "all the tenant's reviews"})
    average = fields.Float(allow_none=True, metadata={"description": "average rating, 2 decimals; null without reviews"})
    by_rating = fields.Dict(keys=fields.String(), values=fields.Integer(),
                            metadata={"description": "rating (\"1\"…\"5\") -> number of reviews"})


class ReviewListSchema(Schema):
    items = fields.List(fields.Nested(ReviewSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as `after` for the next page; null on the last"})
    summary = fields.Nested(ReviewSummarySchema)


@blp.route("/reviews")
class Reviews(MethodView):
    @blp.arguments(ReviewQuerySchema, location="query")
    @blp.response(200, ReviewListSchema)
    def get(self, args):
        """Reviews, newest first; filter by rating, customer or receipt."""
        stmt = review_query(g.tenant_id, args.get("rating"), args.get("customer_id"), args.get("receipt_id"))
        rows, nxt = newest_first(stmt, Review.created_at, Review.id, args.get("after", ""), args["limit"])
        totals = summary(db.session, g.tenant_id)
        db.session.rollback()
        return {"items": rows, "next_cursor": nxt,
                "summary": {**totals, "by_rating": {str(k): v for k, v in totals["by_rating"].items()}}}
