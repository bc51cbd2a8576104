"""The shop's brand in the owner's cabinet: colour and logo for the participant's cabinet and
the Wallet pass, and the A5 counter poster with the QR code to join (a PDF to print)."""
from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from hub.brand.operations import LOGO_MAX_BYTES, brand_of, poster_pdf, save_brand
from hub.clock import utcnow
from hub.errors import Invalid
from hub.extensions import db
from hub.web.cabinet.blueprint import bp
from hub.web.ui.auth import CABINET_ROLES, actor, require_roles


def join_url() -> str:
    """Where the poster's QR code leads: the participant's sign-up page of this shop."""
    return url_for("my.login", tenant_id=g.tenant_id, _external=True)


@bp.route("/brand", methods=["GET", "POST"])
@require_roles(*CABINET_ROLES)
def brand():
    errors, status = {}, 200
    if request.method == "POST":
        if not current_user.can_edit:
            abort(403)
        upload = request.files.get("logo")
        data = upload.read(LOGO_MAX_BYTES + 1) if upload and upload.filename else None
        try:
            save_brand(db.session, g.tenant_id, request.form.get("color"), data, utcnow(),
                       remove_logo=request.form.get("remove_logo") == "on", by=actor())
        except Invalid as exc:
            errors, status = exc.details, 422
        else:
            flash("Сохранено: цвет и логотип уже в личном кабинете участника.", "success")
            return redirect(url_for("cabinet.brand"), code=303)
    current = brand_of(db.session, g.tenant_id)
    page = render_template("cabinet/brand.html", color=request.form.get("color") or current["color"],
                           has_logo=current["logo"] is not None, errors=errors, join_url=join_url(),
                           max_kb=LOGO_MAX_BYTES // 1024)
    db.session.rollback()
    return page, status


@bp.get("/brand/poster.pdf")
@require_roles(*CABINET_ROLES)
def brand_poster():
    pdf = poster_pdf(db.session, g.tenant_id, join_url())
    db.session.rollback()
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="poster-a5.pdf"'})
