"""Gift certificates sold on a receipt (`positions[].certificate`): no bonuses, discounts or
promotions on the certificate, and it is not a purchase for levels; the certificates' expiry
in `kopilka automation run --at`."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from hub.cli.main import main
from hub.certificates.models import CertificatePosting, GiftCertificate
from hub.certificates import operations as certificates
from hub.programs.operations import DEFAULT_SETTINGS, put_program
from tests.api.helpers import assert_error, gift

PROGRAM = {**copy.deepcopy(DEFAULT_SETTINGS), "levels": [
    {"code": "base", "name": "Стандарт", "threshold": 0, "accrual": {"scheme": "percent", "percent": "5"},
     "discount": None, "max_spend_percent": "30", "bonus_lifetime_days": None},
    {"code": "silver", "name": "Серебро", "threshold": 200000, "accrual": {"scheme": "percent", "percent": "10"},
     "discount": None, "max_spend_percent": "30", "bonus_lifetime_days": None}]}


def sale(external_id: str, customer_id: str, **extra) -> dict:
    return {"external_id": external_id, "customer": {"id": customer_id}, "spend_bonuses": "max",
            "positions": [{"id": "coffee", "name": "Кофе в зёрнах", "price": 1000, "quantity": 1},
                          {"id": "cert", "name": "Подарочный сертификат 3000 ₽", "price": 3000,
                           "quantity": 1, "certificate": True}], **extra}


def test_a_certificate_sold_on_a_receipt_earns_nothing_and_is_not_a_purchase(api, session, tenant, customer):
    put_program(session, tenant["id"], PROGRAM)
    session.commit()
    assert api.post("/api/v1/promotions", json={"name": "−10% на всё", "reward": "percent_off",
                                                 "percent": "10"}).status_code == 201
    assert gift(api, customer["id"], 100).status_code in (200, 201)

    q = api.post("/api/v1/receipts/calculate", json=sale("C-1", customer["id"])).json
    lines = {p["id"]: p for p in q["positions"]}
    # The certificate: no promotion, no bonuses spent on it, none earned; paid in full.
    assert lines["cert"]["discount"] == 0 and lines["cert"]["bonus_earned"] == 0
    assert lines["cert"]["amount_to_pay"] == 3000
    # The coffee: 10 % off (100), then 100 bonuses (of 30 % of 900 allowed), 5 % of the 800 paid.
    assert lines["coffee"]["promo_discount"] == 100 and lines["coffee"]["bonus_spent"] == 100
    assert lines["coffee"]["bonus_earned"] == 40
    assert q["totals"]["amount_to_pay"] == 3800
    assert q["customer"]["to_next_level"] == 1200        # 2000 − the 800 of coffee

    r = api.post("/api/v1/receipts", json=sale("C-1", customer["id"]))
    assert r.status_code == 201, r.json
    assert r.json["totals"] == q["totals"]
    # 3800 paid, but only the 800 of coffee counts for levels: still «Стандарт».
    assert r.json["customer"]["level_after"]["code"] == "base"
    c = api.get(f"/api/v1/customers/{customer['id']}").json
    assert c["total_purchases"] == 800 and c["level"]["code"] == "base"

    # Coffee alone for 1400 (1260 paid after the 10 %) reaches the threshold.
    r2 = api.post("/api/v1/receipts", json={"external_id": "C-2", "customer": {"id": customer["id"]},
                                            "positions": [{"id": "1", "price": 1400, "quantity": 1}]})
    assert r2.json["customer"]["level_after"]["code"] == "silver"


def test_the_certificate_flag_is_a_boolean(api, customer):
    body = sale("C-3", customer["id"])
    body["positions"][1]["certificate"] = "maybe"
    assert_error(api.post("/api/v1/receipts/calculate", json=body), 422, "positions.1.certificate")


def test_automation_run_expires_certificates(tmp_path):
    path = tmp_path / "k.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{path}"}
    run = lambda *args: CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert run("db", "upgrade").exit_code == 0
    created = json.loads(run("tenant", "create", "--name", "Цветы", "--json").output)
    engine = create_engine(f"sqlite:///{path}")
    sold_at = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    with Session(engine) as s:
        certificates.issue(s, created["tenant_id"], {"nominal": 300000, "numbers": ["1000200030004000"],
                                                     "valid_days": 30}, sold_at)
        certificates.activate(s, created["tenant_id"], "1000200030004000", "sale-1", sold_at, sold_at)
        certificates.redeem(s, created["tenant_id"], "1000200030004000", 100000, "pay-1", sold_at, sold_at)

    early = run("automation", "run", "--at", (sold_at + timedelta(days=10)).isoformat())
    assert early.exit_code == 0 and json.loads(early.output)["certificates"] == 0
    due = run("automation", "run", "--at", (sold_at + timedelta(days=32)).isoformat())
    assert due.exit_code == 0 and json.loads(due.output)["certificates"] == 1
    again = run("automation", "run", "--at", (sold_at + timedelta(days=33)).isoformat())
    assert json.loads(again.output)["certificates"] == 0
    with Session(engine) as s:
        cert = s.scalars(select(GiftCertificate)).one()
        postings = s.scalars(select(CertificatePosting).order_by(CertificatePosting.created_at)).all()
        assert cert.balance == 0
        assert [(p.kind, p.amount) for p in postings] == [
            ("activation", 300000), ("redeem", -100000), ("expiry", -200000)]
    engine.dispose()
    from hub.extensions import db
    db.session.remove()


# --- the group discount cap (rules' then.max_discount_percent) ----------------------------------

def test_a_rule_caps_the_discount_of_a_group(api):
    program = {**copy.deepcopy(PROGRAM), "rules": [
        {"name": "табак: скидка не больше 5 %", "when": {"groups": ["tobacco"]},
         "then": {"max_discount_percent": "5"}}]}
    r = api.put("/api/v1/program", json=program)
    assert r.status_code == 200, r.json
    assert r.json["rules"][0]["then"]["max_discount_percent"] == 5
    assert api.get("/api/v1/program").json["rules"][0]["then"]["max_discount_percent"] == 5
    assert api.post("/api/v1/promotions", json={"name": "−20% на всё", "reward": "percent_off",
                                                 "percent": "20"}).status_code == 201
    q = api.post("/api/v1/receipts/calculate", json={"external_id": "T-1", "positions": [
        {"id": "cig", "price": 1000, "quantity": 1, "groups": ["tobacco"]},
        {"id": "tea", "price": 1000, "quantity": 1, "groups": ["tea"]}]}).json
    lines = {p["id"]: p for p in q["positions"]}
    assert lines["cig"]["promo_discount"] == 50 and lines["tea"]["promo_discount"] == 200

    bad = {**program, "rules": [{"when": {}, "then": {"max_discount_percent": "150"}}]}
    assert_error(api.put("/api/v1/program", json=bad), 422, "rules.0.then.max_discount_percent")
