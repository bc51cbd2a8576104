"""The owner's cabinet: Excel exports (ask, watch the progress, download). What an export is and
how it is built: hub.exports.operations."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from hub.clock import utcnow
from hub.exports.models import Export
from hub.exports.operations import KINDS, MAX_DAYS, STATUS_NAMES, download_name, file_path, request_export
from hub.extensions import db
from hub.web.cabinet.blueprint import bp
from hub.web.ui.auth import EDIT_ROLES, actor, require_roles
from hub.web.ui.formatting import local


# --- pages -------------------------------------------------------------------------------------

@bp.app_template_filter("isodate")
def _isodate(text: str | None) -> str:
    """"2026-11-01" -> "01.11.2026"."""
    try:
        return date.fromisoformat(text).strftime("%d.%m.%Y") if text else ""
    except (TypeError, ValueError):
        return str(text)


@bp.app_template_filter("thousands")
def _thousands(value: int | None) -> str:
    """1234567 -> "1 234 567" (no-break spaces)."""
    return f"{int(value or 0):,}".replace(",", "\u00a0")


@bp.app_template_filter("megabytes")
def _megabytes(size: int | None) -> str:
    if (size or 0) < 1048576:
        return f"{-(-(size or 0) // 1024)}\u00a0КБ"
    return f"{(size or 0) / 1048576:.1f}".replace(".", ",") + "\u00a0МБ"


def _export_or_404(export_id: str) -> Export:
    row = db.session.get(Export, export_id)
    if row is None or row.tenant_id != g.tenant_id:
        abort(404)
    return row


def _parse_period(form) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    values = {}
    for name, missing in (("date_from", "Укажите дату начала периода."), ("date_to", "Укажите дату конца периода.")):
        raw = (form.get(name) or "").strip()
        if not raw:
            errors[name] = [missing]
            continue
        try:
            values[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = ["Дата в формате ГГГГ-ММ-ДД."]
    if not errors:
        if values["date_from"] > values["date_to"]:
            errors["date_to"] = ["Конец периода раньше начала."]
        elif (values["date_to"] - values["date_from"]).days >= MAX_DAYS:
            errors["date_to"] = [f"Период — не длиннее {MAX_DAYS} дней."]
    return {k: v.isoformat() for k, v in values.items()}, errors


def _list_page(errors: dict | None = None, form=None, status: int = 200):
    rows = list(db.session.scalars(select(Export).where(Export.tenant_id == g.tenant_id)
                                   .order_by(Export.created_at.desc(), Export.id.desc()).limit(30)))
    today = local(utcnow()).date()
    db.session.rollback()
    defaults = {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}
    return render_template("cabinet/exports.html", rows=rows, errors=errors or {}, form=form or defaults,
                           kinds=KINDS, statuses=STATUS_NAMES), status


@bp.get("/exports")
@require_roles(*EDIT_ROLES)
def exports():
    return _list_page()


@bp.post("/exports")
@require_roles(*EDIT_ROLES)
def export_create():
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        return _list_page({"kind": ["Выберите, что выгрузить."]}, request.form, 422)
    params: dict = {}
    if kind == "transactions":
        params, errors = _parse_period(request.form)
        if errors:
            return _list_page(errors, request.form, 422)
    export_id = request_export(db.session, g.tenant_id, kind, params, current_user.id, current_user.email,
                               by=actor())
    flash("Выгрузка запущена." if _export_or_404(export_id).status != "done" else "Файл готов.", "success")
    return redirect(url_for("cabinet.export", export_id=export_id), code=303)


@bp.get("/exports/<export_id>")
@require_roles(*EDIT_ROLES)
def export(export_id: str):
    row = _export_or_404(export_id)
    db.session.rollback()
    template = "cabinet/_export_status.html" if request.headers.get("HX-Request") else "cabinet/export.html"
    return render_template(template, e=row, kinds=KINDS, statuses=STATUS_NAMES)


@bp.get("/exports/<export_id>/download")
@require_roles(*EDIT_ROLES)
def export_download(export_id: str):
    row = _export_or_404(export_id)
    db.session.rollback()
    path = file_path(row)
    if row.status != "done" or not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=row.file_name or download_name(row),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
