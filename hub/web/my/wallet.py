"""The participant's card as an Apple Wallet pass: the page (/my/<tenant>/card.pkpass).
What a pass is and how it is signed: hub.wallet.operations."""
from __future__ import annotations

from flask import Response, g, redirect, render_template, request, url_for

from hub.brand.operations import brand_of, readable_on
from hub.clock import utcnow
from hub.customers.operations import summarize
from hub.extensions import db
from hub.notify.bots import nearest_expiry
from hub.wallet.operations import NOT_CONFIGURED, PASS_MIME, brand_images, build_pass, pass_json, usable
from hub.web.my.blueprint import _customer, bp
from hub.web.ui.formatting import tenant_tz


@bp.get("/card.pkpass")
def wallet_pass():
    customer = _customer()
    if customer is None:
        return redirect(url_for("my.login", next=request.path))
    config = usable(db.session, g.tenant_id)
    if config is None:
        db.session.rollback()
        return render_template("ui/error.html", title="Apple Wallet", message=NOT_CONFIGURED,
                               back=url_for("my.home")), 404
    row, creds = config
    now = utcnow()
    card = customer.card_number or customer.phone
    brand = brand_of(db.session, g.tenant_id)
    data = pass_json(row, g.tenant_name, customer, card, summarize(db.session, g.tenant_id, customer, now),
                     nearest_expiry(db.session, g.tenant_id, customer.id, now), now, tenant_tz(),
                     {"own_color": brand["own_color"], "text_color": readable_on(brand["color"])})
    db.session.rollback()
    body = build_pass(data, creds, brand_images(brand["logo"]))
    return Response(body, mimetype=PASS_MIME, headers={
        "Content-Disposition": 'attachment; filename="card.pkpass"', "Cache-Control": "no-store"})
