"""Reviews in the owner's cabinet: what participants said about their purchases, newest
first, filtered by rating, with the average rating and how many of each."""
from __future__ import annotations

from flask import g, render_template, request
from sqlalchemy import select

from hub.extensions import db
from hub.customers.models import Customer
from hub.receipts.models import Receipt
from hub.reviews.models import Review
from hub.text import plural_form
from hub.web.cabinet.blueprint import bp
from hub.reviews.operations import RATING_NAMES, RATINGS, review_query, summary
from hub.web.ui.auth import CABINET_ROLES, require_roles
from hub.paging import newest_first

PAGE = 50


@bp.get("/reviews")
@require_roles(*CABINET_ROLES)
def reviews():
    raw = request.args.get("rating", "")
    rating = int(raw) if raw.isdigit() and int(raw) in RATINGS else None
    rows, nxt = newest_first(review_query(g.tenant_id, rating), Review.created_at, Review.id,
                             request.args.get("after", ""), PAGE)
    customers, receipts = {}, {}
    if rows:
        customers = {c.id: c for c in db.session.scalars(select(Customer).where(
            Customer.tenant_id == g.tenant_id, Customer.id.in_({r.customer_id for r in rows})))}
        receipts = {r.id: r for r in db.session.scalars(select(Receipt).where(
            Receipt.tenant_id == g.tenant_id, Receipt.id.in_({r.receipt_id for r in rows})))}
    totals = summary(db.session, g.tenant_id)
    word = plural_form(totals["count"], "отзыв", "отзыва", "отзывов")
    page = render_template("cabinet/reviews.html", rows=rows, next_cursor=nxt, rating=rating, totals=totals,
                           customers=customers, receipts=receipts, names=RATING_NAMES, ratings=RATINGS,
                           first=not request.args.get("after"), word=word)
    db.session.rollback()
    return page
