"""The participant's review of a purchase (/my/<tenant>/review/<receipt id>): the link the
review request message carries. Only the signed-in customer whose receipt it is sees it."""
from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from hub.clock import utcnow
from hub.errors import Invalid
from hub.extensions import db
from hub.reviews.models import REVIEW_TEXT_MAX
from hub.web.my.blueprint import _customer, bp
from hub.reviews.operations import RATING_NAMES, customer_receipt, find_review, save_review, store_names


def _own_receipt():
    """(customer, receipt), a redirect to the login page (and back here afterwards), or a 404."""
    customer = _customer()
    if customer is None:
        return None, redirect(url_for("my.login", next=request.path))
    receipt = customer_receipt(db.session, g.tenant_id, customer.id, request.view_args["receipt_id"])
    if receipt is None:
        abort(404)
    return customer, receipt


@bp.route("/review/<receipt_id>", methods=["GET", "POST"])
def review(receipt_id: str):
    customer, receipt = _own_receipt()
    if customer is None:
        return receipt
    existing = find_review(db.session, g.tenant_id, customer.id, receipt.id)
    errors, form = {}, {}
    if request.method == "POST":
        form = request.form
        try:
            save_review(db.session, g.tenant_id, customer.id, receipt.id, form.get("rating"), form.get("text"),
                        utcnow())
        except Invalid as exc:
            db.session.rollback()
            errors = exc.details
        else:
            return redirect(url_for("my.review_thanks", receipt_id=receipt.id), code=303)
    page = render_template("my/review.html", c=customer, receipt=receipt, review=existing, errors=errors,
                           form=form, names=RATING_NAMES, max_len=REVIEW_TEXT_MAX,
                           store=store_names(db.session, g.tenant_id, [receipt.store]).get(receipt.store))
    db.session.rollback()
    return page, (422 if errors else 200)


@bp.get("/review/<receipt_id>/thanks")
def review_thanks(receipt_id: str):
    customer, receipt = _own_receipt()
    if customer is None:
        return receipt
    existing = find_review(db.session, g.tenant_id, customer.id, receipt.id)
    if existing is None:
        return redirect(url_for("my.review", receipt_id=receipt.id))
    page = render_template("my/review_thanks.html", c=customer, receipt=receipt, review=existing, names=RATING_NAMES)
    db.session.rollback()
    return page
