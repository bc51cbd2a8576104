"""Promotions and promo codes through the public API, on SQLite and PostgreSQL; the race of
20 tills redeeming one single-use code at once on PostgreSQL."""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from hub.errors import DomainError
from hub.promotions.models import PromoCode, PromoCodeRedemption, PromotionUse
from hub.receipts.models import Receipt
from tests.api.helpers import assert_error, counts, kop

TWO_PLUS_ONE = {"name": "2+1 на кофе", "reward": "free_items", "buy": 2, "free": 1,
                "when": {"groups": ["coffee"]}}


def coffee(pid: str, price, qty=1, group="coffee") -> dict:
    return {"id": pid, "name": f"Кофе {pid}", "price": price, "quantity": qty, "groups": [group]}


def sale(external_id: str, *positions, **extra) -> dict:
    return {"external_id": external_id, "positions": list(positions), **extra}


def create(api, body: dict) -> dict:
    r = api.post("/api/v1/promotions", json=body)
    assert r.status_code == 201, r.json
    return r.json


# --- CRUD -----------------------------------------------------------------------------------

def test_crud(api, other):
    p = create(api, TWO_PLUS_ONE)
    assert p["name"] == "2+1 на кофе" and p["reward"] == "free_items" and p["active"] is True
    assert p["when"]["groups"] == ["coffee"] and p["combine"] == "stack"
    assert api.get(f"/api/v1/promotions/{p['id']}").json == p
    assert [x["id"] for x in api.get("/api/v1/promotions").json] == [p["id"]]
    changed = api.put(f"/api/v1/promotions/{p['id']}", json={**TWO_PLUS_ONE, "priority": 5,
                                                             "when": {"groups": ["tea"]}})
    assert changed.status_code == 200 and changed.json["priority"] == 5
    assert changed.json["when"]["groups"] == ["tea"]
    # Another tenant sees nothing.
    assert_error(other.get(f"/api/v1/promotions/{p['id']}"), 404)
    assert_error(other.put(f"/api/v1/promotions/{p['id']}", json=TWO_PLUS_ONE), 404)
    assert other.get("/api/v1/promotions").json == []
    assert api._call("delete", f"/api/v1/promotions/{p['id']}").status_code == 204
    assert_error(api.get(f"/api/v1/promotions/{p['id']}"), 404)
    assert api.get("/api/v1/promotions").json == []


@pytest.mark.parametrize("body, fields", [
    ({"name": "x", "reward": "free_items"}, ["buy", "free"]),
    ({"name": "x", "reward": "percent_off", "percent": 150}, ["percent"]),
    ({"name": "x", "reward": "percent_off", "percent": 10, "when": {"levels": ["nope"]}}, ["when.levels"]),
    ({"name": "x", "reward": "amount_off", "amount": 10,
      "when": {"starts_at": "2026-05-02T00:00:00+03:00", "ends_at": "2026-05-01T00:00:00+03:00"}},
     ["when.ends_at"]),
    ({"name": "x", "reward": "bonus_multiplier", "multiplier": 2, "when": {"weekdays": [8]}}, ["when.weekdays"]),
    ({"name": "x", "reward": "teleport"}, ["reward"]),
    ({"name": "x", "reward": "amount_off", "amount": -1}, ["amount"]),
    ({"name": "x", "reward": "percent_off", "percent": 5, "when": {"time_from": "25:00"}}, ["when.time_from"]),
])
def test_invalid_promotions_are_422_and_store_nothing(api, session, body, fields):
    before = counts(session)
    assert_error(api.post("/api/v1/promotions", json=body), 422, *fields)
    assert counts(session) == before


# --- at the till ----------------------------------------------------------------------------

def test_two_plus_one_quote_commit_and_returns(api, customer):
    create(api, TWO_PLUS_ONE)
    body = sale("R-21", coffee("1", 250), coffee("2", 300), coffee("3", 200),
                customer={"id": customer["id"]})
    q = api.post("/api/v1/receipts/calculate", json=body).json
    free = next(p for p in q["positions"] if p["id"] == "3")
    assert free["promo_discount"] == 200 and free["amount_to_pay"] == 0 and free["discount"] == 200
    assert free["promotions"] == [{"id": free["promotions"][0]["id"], "name": "2+1 на кофе",
                                   "discount": 200, "bonus": 0}]
    assert q["totals"]["promo_discount"] == 200 and q["totals"]["amount_to_pay"] == 550
    assert [p["name"] for p in q["promotions"]] == ["2+1 на кофе"]
    assert "Акция «2+1 на кофе»: скидка 200,00 ₽." in q["messages"]["cashier"]
    r = api.post("/api/v1/receipts", json=body)
    assert r.status_code == 201
    committed = r.json
    assert committed["positions"] == q["positions"] and committed["totals"] == q["totals"]
    # Returning the free cup gives back nothing and takes back no bonuses.
    back = api.post("/api/v1/receipts/R-21/returns", json={"external_id": "B-1",
                                                          "positions": [{"id": "3", "quantity": 1}]})
    assert back.status_code == 201, back.json
    assert back.json["amount_returned"] == 0 and back.json["bonus_earned_reversed"] == 0
    # A paid cup: what was paid for it.
    back = api.post("/api/v1/receipts/R-21/returns", json={"external_id": "B-2",
                                                          "positions": [{"id": "2", "quantity": 1}]})
    paid = next(p for p in committed["positions"] if p["id"] == "2")
    assert back.json["amount_returned"] == paid["amount_to_pay"] == 300
    assert back.json["bonus_earned_reversed"] == paid["bonus_earned"]


def test_one_step_away_offer(api):
    create(api, TWO_PLUS_ONE)
    q = api.post("/api/v1/receipts/calculate", json=sale("R-1", coffee("1", 250), coffee("2", 300))).json
    assert q["offers"] == ["«2+1 на кофе»: ещё 1 товар — и третий в подарок."]
    assert "ещё 1 товар — и третий в подарок" in q["messages"]["cashier"]


def test_no_promotions_keep_the_core_shape(api):
    q = api.post("/api/v1/receipts/calculate", json=sale("R-1", coffee("1", 250))).json
    assert "promotions" not in q and "promo_discount" not in q["positions"][0]


def test_first_purchase_discount_once_and_per_customer_limit(api, session):
    p = create(api, {"name": "15% на первую покупку", "reward": "percent_off", "percent": 15,
                     "when": {"first_purchase": True}})
    cid = api.post("/api/v1/customers", json={"phone": "+79160000001"}).json["id"]
    first = api.post("/api/v1/receipts", json=sale("F-1", coffee("1", 1000), customer={"id": cid})).json
    assert first["totals"]["promo_discount"] == 150
    second = api.post("/api/v1/receipts", json=sale("F-2", coffee("1", 1000), customer={"id": cid})).json
    assert "promotions" not in second
    assert session.scalar(select(func.count()).select_from(PromotionUse)
                          .where(PromotionUse.promotion_id == p["id"])) == 1
    # Anonymous receipts get no customer-bound promotion.
    anon = api.post("/api/v1/receipts/calculate", json=sale("F-3", coffee("1", 1000))).json
    assert "promotions" not in anon

    limited = create(api, {"name": "Дважды на клиента", "reward": "amount_off", "amount": 10,
                           "when": {"per_customer_limit": 2}})
    for i in range(3):
        r = api.post("/api/v1/receipts", json=sale(f"L-{i}", coffee("1", 100), customer={"id": cid})).json
        names = [x["name"] for x in r.get("promotions", [])]
        assert (limited["name"] in names) == (i < 2)


def test_happy_hours_and_birthday_through_the_api(api):
    create(api, {"name": "Счастливые часы", "reward": "bonus_multiplier", "multiplier": 2,
                 "when": {"weekdays": [1, 2, 3, 4, 5], "time_from": "09:00", "time_to": "12:00"}})
    create(api, {"name": "Скидка на день рождения", "reward": "percent_off", "percent": 10,
                 "when": {"birthday_days": 3}})
    cid = api.post("/api/v1/customers", json={"phone": "+79160000002", "birth_date": "1990-03-04"}).json["id"]
    # Monday 3 March 2025, 10:00 Moscow: both apply.
    q = api.post("/api/v1/receipts/calculate", json=sale("H-1", coffee("1", 1000), customer={"id": cid},
                                                         moment="2025-03-03T10:00:00+03:00")).json
    assert sorted(p["name"] for p in q["promotions"]) == ["Скидка на день рождения", "Счастливые часы"]
    assert q["totals"]["promo_discount"] == 100
    assert q["totals"]["bonus_earned"] == 90   # 5% of 900, doubled
    q = api.post("/api/v1/receipts/calculate", json=sale("H-2", coffee("1", 1000), customer={"id": cid},
                                                         moment="2025-03-10T13:00:00+03:00")).json
    assert "promotions" not in q and kop(q["totals"]["bonus_earned"]) == 5000


# --- promo codes ----------------------------------------------------------------------------

def test_codes_single_use_idempotent_and_validated(api, session, other):
    p = create(api, {"name": "Купон 300", "reward": "amount_off", "amount": 300})
    batch = api.post(f"/api/v1/promotions/{p['id']}/codes", json={"count": 3, "max_uses": 1})
    assert batch.status_code == 201, batch.json
    codes = batch.json["codes"]
    assert len(set(codes)) == 3 and all(len(c) == 10 and c.isalnum() and c.isupper() for c in codes)
    assert api.get(f"/api/v1/promotions/{p['id']}").json["when"]["requires_code"] is True
    # Without a code the coupon promotion does nothing.
    q = api.post("/api/v1/receipts/calculate", json=sale("C-0", coffee("1", 1000))).json
    assert "promotions" not in q
    code = codes[0]
    spelt = code[:5].lower() + "-" + code[5:]          # as a cashier types it
    q = api.post("/api/v1/receipts/calculate", json=sale("C-1", coffee("1", 1000), promo_codes=[spelt])).json
    assert q["totals"]["promo_discount"] == 300
    body = sale("C-1", coffee("1", 1000), promo_codes=[code])
    first = api.post("/api/v1/receipts", json=body)
    assert first.status_code == 201 and first.json["totals"]["promo_discount"] == 300
    again = api.post("/api/v1/receipts", json=body)           # the till sends it again
    assert again.status_code == 200 and again.json == first.json
    assert api.get(f"/api/v1/promo-codes/{code}").json["uses"] == 1
    before = counts(session)
    used = api.post("/api/v1/receipts", json=sale("C-2", coffee("1", 1000), promo_codes=[code]))
    assert_error(used, 422, f"promo_codes.{code}", code="promo_code_invalid")
    assert counts(session) == before
    assert_error(api.post("/api/v1/receipts/calculate", json=sale("C-3", coffee("1", 10),
                                                                  promo_codes=["NOSUCHCODE"])),
                 422, "promo_codes.NOSUCHCODE", code="promo_code_invalid")
    # Another tenant's till cannot use it, nor see it.
    assert_error(other.post("/api/v1/receipts/calculate", json=sale("C-4", coffee("1", 10),
                                                                    promo_codes=[codes[1]])), 422)
    assert_error(other.get(f"/api/v1/promo-codes/{codes[1]}"), 404)
    # Blocked codes are refused.
    assert api.patch(f"/api/v1/promo-codes/{codes[1]}", json={"blocked": True}).json["blocked"] is True
    assert_error(api.post("/api/v1/receipts/calculate", json=sale("C-5", coffee("1", 10),
                                                                  promo_codes=[codes[1]])), 422)
    listed = api.get(f"/api/v1/promotions/{p['id']}/codes").json
    assert sorted(c["code"] for c in listed) == sorted(codes)


def test_code_per_customer_limit_and_validity(api):
    p = create(api, {"name": "Многоразовый", "reward": "percent_off", "percent": 10})
    batch = api.post(f"/api/v1/promotions/{p['id']}/codes",
                     json={"count": 1, "max_uses": None, "per_customer_limit": 1,
                           "valid_to": "2099-01-01T00:00:00+03:00"}).json
    code = batch["codes"][0]
    a = api.post("/api/v1/customers", json={"phone": "+79160000003"}).json["id"]
    b = api.post("/api/v1/customers", json={"phone": "+79160000004"}).json["id"]
    assert api.post("/api/v1/receipts", json=sale("M-1", coffee("1", 100), customer={"id": a},
                                                  promo_codes=[code])).status_code == 201
    assert_error(api.post("/api/v1/receipts", json=sale("M-2", coffee("1", 100), customer={"id": a},
                                                        promo_codes=[code])), 422)
    assert api.post("/api/v1/receipts", json=sale("M-3", coffee("1", 100), customer={"id": b},
                                                  promo_codes=[code])).status_code == 201
    assert_error(api.post("/api/v1/receipts/calculate", json=sale("M-4", coffee("1", 100),
                                                                  promo_codes=[code])), 422)
    bad = api.post(f"/api/v1/promotions/{p['id']}/codes", json={"count": 0})
    assert_error(bad, 422, "count")


# --- 20 tills, one single-use code, PostgreSQL -------------------------------------------------

def test_twenty_tills_redeem_one_single_use_code_once(pg_sessions):
    from hub.clock import utcnow
    from hub.promotions.operations import create_codes, create_promotion
    from hub.receipts.operations import SaleRequest, commit_sale
    from hub.tenants.operations import create_tenant
    from connectors.receipts import make_position
    from decimal import Decimal

    s = pg_sessions()
    tenant, _ = create_tenant(s, f"codes-{uuid.uuid4().hex}")
    s.commit()
    tid = tenant.id
    promo = create_promotion(s, tid, {"name": "Купон", "reward": "amount_off", "amount": 5000})
    code = create_codes(s, tid, promo["id"], {"count": 1, "max_uses": 1})["codes"][0]
    s.close()
    barrier = threading.Barrier(20)
    results: list = [None] * 20

    def till(i: int) -> None:
        session = pg_sessions()
        req = SaleRequest(external_id=f"T-{i}", moment=utcnow(), promo_codes=(code,),
                          positions=(make_position(id="1", price=10000, quantity=Decimal(1)),))
        try:
            barrier.wait()
            answer, _ = commit_sale(session, tid, "api", req, {"i": i})
            session.commit()
            results[i] = ("ok", answer)
        except DomainError as exc:
            session.rollback()
            results[i] = ("err", exc.code)
        finally:
            session.close()

    threads = [threading.Thread(target=till, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    ok = [r for r in results if r[0] == "ok"]
    assert len(ok) == 1, results
    assert ok[0][1]["totals"]["promo_discount"] == 5000
    assert all(r == ("err", "promo_code_invalid") for r in results if r[0] != "ok")
    s = pg_sessions()
    row = s.scalars(select(PromoCode).where(PromoCode.tenant_id == tid)).one()
    assert row.uses == 1
    assert s.scalar(select(func.count()).select_from(PromoCodeRedemption)
                    .where(PromoCodeRedemption.code_id == row.id)) == 1
    assert s.scalar(select(func.count()).select_from(Receipt).where(Receipt.tenant_id == tid)) == 1
    s.close()
