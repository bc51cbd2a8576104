"""`/api/v1/analytics` (specs/analytics.md §9): the tenant's indicators for a period with
comparison; figures from hub.analytics.queries, converted to roubles here."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from api.parsing import Blueprint
from api.schemas.analytics import IndicatorQuerySchema, IndicatorsSchema
from hub.analytics.queries import indicators, period
from hub.extensions import db
from hub.programs.operations import get_program

blp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics",
                description="Indicators of the loyalty program and the business (rollups, exact to the last sale)")

MONEY_FIELDS = ("revenue", "average_check", "average_discount")


def _out(value, unit: str):
    if value is None:
        return None
    if unit in ("rub", "bonus"):
        return round(value / 100, 2)     # kopecks -> roubles (bonuses: 1 bonus = 1 ₽, P1)
    return round(value, 2) if unit == "percent" else value


def _period(p) -> dict | None:
    return None if p is None else {"from_": p.start, "to": p.end}


@blp.route("/indicators")
class Indicators(MethodView):
    @blp.arguments(IndicatorQuerySchema, location="query")
    @blp.response(200, IndicatorsSchema)
    def get(self, args):
        """Seed 000's indicators 1–7 and the dashboard's figures for a period, each with the
        comparison period's value; indicators 1–4 by store and by cashier."""
        p = period(args["from_"], args["to"])
        tz = get_program(db.session, g.tenant_id).timezone
        answer = indicators(db.session, g.tenant_id, tz, p, args["compare"])
        db.session.rollback()
        items = []
        for item in answer["indicators"]:
            unit = item["unit"]
            out = {**item, **{k: _out(item[k], unit) for k in ("value", "base", "delta", "reversed", "total")
                              if k in item}}
            if item["delta_percent"] is not None:
                out["delta_percent"] = round(item["delta_percent"], 2)
            if "percent" in item:
                out["percent"] = _out(item["percent"], "percent")
            items.append(out)
        rows = [[{**r, **{k: _out(r[k], "rub") for k in MONEY_FIELDS},
                  "average_discount_percent": _out(r["average_discount_percent"], "percent")}
                 for r in answer[key]] for key in ("by_store", "by_cashier")]
        return {"period": _period(answer["period"]), "compare": _period(answer["compare"]),
                "indicators": items, "by_store": rows[0], "by_cashier": rows[1]}
