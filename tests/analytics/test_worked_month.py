"""specs/analytics.md §13 T-1/T-2: the worked month (Europe/Moscow, margin 40 %, March 2026)
through the service, `GET /api/v1/analytics/indicators` and `kopilka analytics check`, before
and after the `analytics` sweep folds the deltas; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from hub.analytics.models import SalesDaily, SalesDelta
from hub.analytics.operations import fold, set_margins
from hub.analytics.queries import indicators, period
from hub.cli import analytics as analytics_cli
from hub.cli.main import main
from hub.customers.bonuses import adjust_bonuses
from hub.customers.models import Customer
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from hub.tenants.operations import create_tenant
from tests.conftest import Api

MSK = timezone(timedelta(hours=3))
PROGRAM = {**DEFAULT_SETTINGS, "type": "bonus_discount", "levels": [
    DEFAULT_SETTINGS["levels"][0],
    {"code": "vip", "name": "VIP", "threshold": 1_000_000, "accrual": {"scheme": "percent", "percent": "5"},
     "discount": {"scheme": "percent", "percent": "5"}, "max_spend_percent": "30", "bonus_lifetime_days": None}]}


def _sale(api, ref, day, store, cashier, positions, customer=None, **extra):
    body = {"external_id": ref, "moment": datetime(2026, 3, day, 12, tzinfo=MSK).isoformat(),
            "store": store, "cashier": cashier,
            "positions": [{"id": str(i + 1), "name": f"Товар {i + 1}", "quantity": 1, **p}
                          for i, p in enumerate(positions)], **extra}
    if customer:
        body["customer"] = {"id": customer}
    r = api.post("/api/v1/receipts", json=body)
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def month(api, tenant, session):
    """R1..R4 and the return of one line of R3 on 25.03, exactly as T-1 lists them."""
    t = tenant["id"]
    put_program(session, t, PROGRAM)
    set_margins(session, t, "40")
    k1 = api.post("/api/v1/customers", json={"phone": "+79160000001"}).json["id"]
    k2 = api.post("/api/v1/customers", json={"phone": "+79160000002"}).json["id"]
    # K2 came with a turnover from an earlier system (level VIP) but no purchase here yet.
    session.execute(update(Customer).where(Customer.id == k2).values(total_purchases=1_000_000, level_code="vip"))
    session.commit()
    adjust_bonuses(session, t, k1, amount=5000, kind="manual", reason="старт", valid_days=None,
                   moment=datetime(2026, 2, 10, tzinfo=timezone.utc), idempotency_key=None, source="test", body={})
    r = api.post("/api/v1/promotions", json={"name": "Минус 100", "reward": "amount_off", "amount": 100,
                                             "when": {"products": ["promo"]}})
    assert r.status_code == 201, r.json
    r1 = _sale(api, "R1", 3, "A", "c1", [{"price": 1000, "product": "promo"}], k1, spend_bonuses=50)
    assert (r1["totals"]["amount_to_pay"], r1["totals"]["bonus_earned"]) == (850, 42.5)
    _sale(api, "R2", 5, "A", "c2", [{"price": 500}])
    r3 = _sale(api, "R3", 10, "B", "c1", [{"price": 1000}, {"price": 1000}], k2)
    assert (r3["totals"]["amount_to_pay"], r3["totals"]["bonus_earned"]) == (1900, 95)
    r4 = _sale(api, "R4", 20, "B", "c1", [{"price": 300}], k1)
    assert r4["totals"]["bonus_earned"] == 15
    ret = api.post("/api/v1/receipts/R3/returns", json={
        "external_id": "V1", "moment": datetime(2026, 3, 25, 12, tzinfo=MSK).isoformat(),
        "positions": [{"id": "2", "quantity": 1}]})
    assert ret.status_code == 201, ret.json
    assert (ret.json["amount_returned"], ret.json["bonus_earned_reversed"]) == (950, 47.5)
    return t


@pytest.fixture
def other(client, session):
    """Tenant B with its own key."""
    _, key = create_tenant(session, "Чужой магазин")
    session.commit()
    return Api(client, key)


def _values(answer):
    return {i["code"]: i for i in answer["indicators"]}


def _assert_worked_month(session, t):
    a = indicators(session, t, "Europe/Moscow", period(date(2026, 3, 1), date(2026, 3, 31)), "previous")
    v = {code: i["value"] for code, i in _values(a).items()}
    assert v["purchase_total"] == 280_000 and v["revenue"] == 260_000 and v["discount"] == 20_000
    assert round(_values(a)["average_discount"]["percent"], 2) == 7.14
    assert v["receipts"] == 4 and v["average_check"] == 65_000
    assert v["participants_revenue"] == 210_000 and round(v["participants_share"], 2) == 80.77
    assert v["anonymous_revenue"] == 50_000 and v["participants_average_check"] == 70_000
    assert v["revenue_per_customer"] == 105_000 and v["buyers"] == 2
    assert v["receipt_discount_percent"] == pytest.approx(5.0)
    assert v["cogs"] == 168_000 and v["gross_profit"] == 92_000
    acc = _values(a)["bonuses_accrued"]
    assert (acc["value"], acc["reversed"], acc["total"]) == (15_250, 4_750, 10_500)
    assert v["bonuses_spent"] == 5_000 and v["bonus_cost"] == 3_000
    assert v["penetration"] == 75.0
    assert round(v["engagement"], 1) == 33.3 and round(v["repeat_purchases"], 1) == 33.3
    stores = {r["store"]: r for r in a["by_store"]}
    assert (stores["A"]["revenue"], stores["A"]["receipts"], stores["A"]["average_discount"]) == (135_000, 2, 7_500)
    assert (stores["B"]["revenue"], stores["B"]["receipts"], stores["B"]["average_discount"]) == (125_000, 2, 2_500)
    cashiers = {r["cashier"]: r for r in a["by_cashier"]}
    assert (cashiers["c1"]["revenue"], cashiers["c1"]["receipts"]) == (210_000, 3)
    assert (cashiers["c2"]["revenue"], cashiers["c2"]["receipts"]) == (50_000, 1)
    revenue = _values(a)["revenue"]
    assert (a["compare"].start, a["compare"].end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (revenue["base"], revenue["delta"], revenue["delta_percent"]) == (0, 260_000, None)


def test_worked_month_through_the_service_before_and_after_the_fold(session, month):
    assert session.scalar(select(func.count()).select_from(SalesDelta)) == 5     # 4 sales, 1 return
    _assert_worked_month(session, month)          # rollups empty: all from pending deltas
    assert fold(session, datetime.now(timezone.utc), tenant_id=month) == 5
    assert session.scalar(select(func.count()).select_from(SalesDelta)) == 0
    _assert_worked_month(session, month)          # all from rollups


def test_worked_month_through_the_api(api, session, month, other):
    fold(session, datetime.now(timezone.utc))
    r = api.get("/api/v1/analytics/indicators?from=2026-03-01&to=2026-03-31&compare=previous")
    assert r.status_code == 200, r.json
    assert r.json["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert r.json["compare"] == {"from": "2026-02-01", "to": "2026-02-28"}
    v = _values(r.json)
    assert {k: v["revenue"][k] for k in ("n", "name", "value", "base", "delta", "delta_percent", "unit")} == {
        "n": 1, "name": "Выручка", "value": 2600.0, "base": 0.0, "delta": 2600.0, "delta_percent": None,
        "unit": "rub"}
    assert (v["average_discount"]["value"], v["average_discount"]["percent"]) == (50.0, 7.14)
    assert v["penetration"]["value"] == 75.0 and v["penetration"]["unit"] == "percent"
    assert (v["bonuses_accrued"]["value"], v["bonuses_accrued"]["reversed"], v["bonuses_accrued"]["total"]) == (
        152.5, 47.5, 105.0)
    assert v["bonuses_spent"]["value"] == 50.0 and v["cogs"]["value"] == 1680.0
    assert r.json["by_store"][0] == {"store": "A", "revenue": 1350.0, "receipts": 2, "average_check": 675.0,
                                     "average_discount": 75.0, "average_discount_percent": 10.0}
    c1 = next(row for row in r.json["by_cashier"] if row["cashier"] == "c1")
    assert (c1["revenue"], c1["receipts"], c1["average_check"], c1["average_discount"],
            round(c1["average_discount_percent"], 1)) == (2100.0, 3, 700.0, 66.67, 8.7)
    # Tenant-scoped: another tenant's key sees an empty month (sums 0, ratios null).
    theirs = _values(other.get("/api/v1/analytics/indicators?from=2026-03-01&to=2026-03-31").json)
    assert theirs["revenue"]["value"] == 0.0 and theirs["average_check"]["value"] is None


def test_a_period_over_two_years_or_backwards_is_422(api):
    long = api.get("/api/v1/analytics/indicators?from=2024-01-01&to=2026-03-31")
    assert long.status_code == 422 and long.json["error"]["message"] == "Период — не больше двух лет."
    back = api.get("/api/v1/analytics/indicators?from=2026-03-31&to=2026-03-01")
    assert back.status_code == 422


def test_check_exits_1_naming_tenant_and_month_and_rebuild_repairs(session, month, monkeypatch):
    monkeypatch.setattr(analytics_cli, "configure_database", lambda: None)   # the test's session
    ok = CliRunner().invoke(main, ["analytics", "check", "--tenant", month])
    assert ok.exit_code == 0, ok.output
    fold(session, datetime.now(timezone.utc))
    session.execute(update(SalesDaily).where(SalesDaily.tenant_id == month, SalesDaily.store == "A")
                    .values(paid=SalesDaily.paid + 1))
    session.commit()
    bad = CliRunner().invoke(main, ["analytics", "check", "--tenant", month])
    assert bad.exit_code == 1
    assert f"tenant={month} month=2026-03 paid:" in bad.output
    fixed = CliRunner().invoke(main, ["analytics", "rebuild", "--tenant", month])
    assert fixed.exit_code == 0, fixed.output
    assert CliRunner().invoke(main, ["analytics", "check", "--tenant", month]).exit_code == 0
    _assert_worked_month(session, month)


def test_other_tenants_rollups_are_not_read(session, month):
    t2, _ = create_tenant(session, "Другой")
    session.commit()
    a = indicators(session, t2.id, "Europe/Moscow", period(date(2026, 3, 1), date(2026, 3, 31)))
    assert _values(a)["revenue"]["value"] == 0 and a["by_store"] == []
