"""The participant's cabinet's blueprint (/my/<tenant>/…): the tenant from the address, the
signed-in customer. Kept apart from the package so that its page modules never import each other."""
from __future__ import annotations

from flask import Blueprint, abort, g, render_template, session as web_session

from hub.brand.operations import brand_of
from hub.customers.models import Customer
from hub.extensions import db
from hub.tenants.models import Tenant
from hub.text import POSTING_KIND_NAMES_CUSTOMER
from hub.web.ui.formatting import set_tenant_tz

bp = Blueprint("my", __name__, url_prefix="/my/<tenant_id>", template_folder="templates")
SESSION_KEY = "my"
CONSENTS = (("personal_data", "Обработка персональных данных"), ("sms", "SMS о бонусах и акциях"),
            ("email", "Письма на электронную почту"), ("messengers", "Сообщения в мессенджерах"))
POSTING_NAMES = POSTING_KIND_NAMES_CUSTOMER     # the ledger's codes as the participant reads them (hub.text)


@bp.url_value_preprocessor
def _tenant_ref(endpoint, values):
    g.tenant_ref = (values or {}).pop("tenant_id", "") or ""


@bp.before_request
def _tenant():
    # A before_request (not the preprocessor) so the app's body limit is checked first.
    tenant_id = g.pop("tenant_ref", "")
    tenant = db.session.get(Tenant, tenant_id) if len(tenant_id) <= 36 else None
    if tenant is None:
        abort(404)
    g.tenant_id, g.tenant_name = tenant.id, tenant.name
    brand = brand_of(db.session, tenant.id)
    g.brand = {"color": brand["color"], "logo": brand["logo"] is not None}
    set_tenant_tz(db.session, tenant.id)


@bp.url_defaults
def _add_tenant(endpoint, values):
    if "tenant_id" not in values and getattr(g, "tenant_id", None):
        values["tenant_id"] = g.tenant_id


@bp.errorhandler(404)
def _not_found(exc):
    return render_template("ui/error.html", title="Не найдено", message="Такой страницы нет.", back="/"), 404


def _customer() -> Customer | None:
    cid = (web_session.get(SESSION_KEY) or {}).get(g.tenant_id)
    if not cid:
        return None
    customer = db.session.get(Customer, cid)
    return customer if customer is not None and customer.tenant_id == g.tenant_id else None


