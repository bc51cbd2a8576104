"""Calculate with 50 active promotions ÷ calculate with none (issue 12; aim ≥ 80%).

Two measurements in one run:

* engine: `hub.engine.calculate` on a five-line receipt of a known customer, with no promotions
  and with 50 active ones (a realistic mix: most target other groups, other hours, other
  segments or need a code; a few apply);
* API: `POST /api/v1/receipts/calculate` through the Flask test client on a temporary SQLite
  database — two tenants with the same program, one without promotions and one with the same
  50 created through `POST /api/v1/promotions`.

Rates are interleaved in rounds and the best round of each side is compared, so a noisy
neighbour on a shared machine hurts both sides alike.

    python3 bench/promotions.py [--seconds 2] [--rounds 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pos import PROGRAM

MSK = ZoneInfo("Europe/Moscow")
MOMENT = datetime(2026, 3, 4, 15, 30, tzinfo=MSK)          # a Wednesday afternoon
GROUPS = ["coffee", "tea", "bakery", "services", "tobacco", "dairy", "snacks", "juice"]


def promotions_wire() -> list[dict]:
    """50 promotions as a partner sends them (roubles)."""
    out: list[dict] = []
    for i in range(50):
        group = GROUPS[i % len(GROUPS)]
        kind = i % 10
        if kind == 0:
            p = {"reward": "free_items", "buy": 2, "free": 1, "when": {"groups": [group]}}
        elif kind == 1:
            p = {"reward": "percent_off", "percent": 10 + i % 15, "when": {"groups": [group],
                 "starts_at": "2026-01-01T00:00:00+03:00", "ends_at": "2026-12-31T00:00:00+03:00"}}
        elif kind == 2:
            p = {"reward": "bonus_multiplier", "multiplier": 2,
                 "when": {"weekdays": [1, 2, 3, 4, 5], "time_from": "09:00", "time_to": "12:00"}}
        elif kind == 3:
            p = {"reward": "percent_off", "percent": 15, "when": {"first_purchase": True}}
        elif kind == 4:
            p = {"reward": "percent_off", "percent": 10, "when": {"birthday_days": 3}}
        elif kind == 5:
            p = {"reward": "bonus_extra", "amount": 100, "when": {"min_amount": 3000 + i * 100}}
        elif kind == 6:
            p = {"reward": "percent_off", "percent": 25, "when": {"segments": [f"seg-{i}"]}}
        elif kind == 7:
            p = {"reward": "amount_off", "amount": 300, "when": {"requires_code": True}}
        elif kind == 8:
            p = {"reward": "bonus_multiplier", "multiplier": 3, "combine": "best",
                 "when": {"groups": [group], "stores": ["shop-1", "shop-2"]}}
        else:
            p = {"reward": "spend_share", "percent": 40, "when": {"levels": ["gold"]}}
        p["name"] = f"Акция {i + 1}"
        p["priority"] = i % 5
        out.append(p)
    return out


def receipt_wire(external_id: str) -> dict:
    return {"external_id": external_id, "moment": MOMENT.isoformat(), "store": "shop-1",
            "customer": {"phone": "+79161234567"}, "spend_bonuses": "max",
            "positions": [{"id": str(k), "name": f"Товар {k}", "price": 120 + 35 * k,
                           "quantity": 1 + k % 3, "groups": [GROUPS[k % 3]]} for k in range(5)]}


def rate(fn, seconds: float) -> float:
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            fn()
        n += 20
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def interleaved(a, b, seconds: float, rounds: int) -> tuple[float, float]:
    best_a = best_b = 0.0
    for _ in range(rounds):
        best_a = max(best_a, rate(a, seconds))
        best_b = max(best_b, rate(b, seconds))
    return best_a, best_b


def engine_bench(seconds: float, rounds: int) -> dict:
    from hub import engine
    from hub.engine.promotions import promotion_index
    from hub.programs.operations import program_from_settings
    from hub.promotions.operations import to_engine
    from api.schemas.promotions import PromotionSchema
    from api.schemas.program import ProgramSchema
    from connectors.receipts import make_position

    program = program_from_settings(ProgramSchema().load(PROGRAM))
    schema = PromotionSchema()
    promos = tuple(sorted((to_engine(f"p{i:02d}", schema.load(p), program.timezone)
                           for i, p in enumerate(promotions_wire())),
                          key=lambda p: (-p.priority, p.id)))
    wire = receipt_wire("E-1")
    receipt = engine.Receipt(
        positions=tuple(make_position(id=p["id"], price=p["price"] * 100,
                                      quantity=Decimal(p["quantity"]), groups=p["groups"])
                        for p in wire["positions"]),
        moment=MOMENT, store="shop-1", spend_max=True)
    state = engine.AccountState(available=150_000, total_purchases=2_000_000, purchase_count=4)
    # The index the service keeps per version of the tenant's promotions (the engine caches nothing).
    ctx = engine.PromoContext(promotions=promos, known_customer=True, segments=frozenset({"seg-6"}),
                              index=promotion_index(promos))
    applied = engine.calculate(program, receipt, state, promo=ctx)
    none, fifty = interleaved(lambda: engine.calculate(program, receipt, state),
                              lambda: engine.calculate(program, receipt, state, promo=ctx),
                              seconds, rounds)
    return {"none_per_s": round(none), "fifty_per_s": round(fifty), "ratio": round(fifty / none, 3),
            "applied": [p.name for p in applied.promotions]}


def api_bench(seconds: float, rounds: int) -> dict:
    from hub.app import create_app
    from hub.config import Config
    from hub.db import upgrade
    from hub.extensions import db
    from hub.tenants.operations import create_tenant

    folder = tempfile.mkdtemp(prefix="kopilka-bench-promo-")
    url = f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}"
    app = create_app(Config(DATABASE_URL=url, SQL_ECHO=False))
    upgrade(db.engine)
    client = app.test_client()
    keys = []
    with app.app_context():
        for name in ("Без акций", "50 акций"):
            _, key = create_tenant(db.session, name)
            db.session.commit()
            keys.append({"Authorization": f"Bearer {key}"})
        db.session.remove()
    for headers in keys:
        assert client.put("/api/v1/program", json=PROGRAM, headers=headers).status_code == 200
        r = client.post("/api/v1/customers", json={"phone": "+79161234567"}, headers=headers)
        assert r.status_code == 201, r.json
    for p in promotions_wire():
        r = client.post("/api/v1/promotions", json=p, headers=keys[1])
        assert r.status_code == 201, r.json
    body = receipt_wire("A-1")
    check = client.post("/api/v1/receipts/calculate", json=body, headers=keys[1])
    assert check.status_code == 200, check.json

    def call(headers):
        def go() -> None:
            r = client.post("/api/v1/receipts/calculate", json=body, headers=headers)
            assert r.status_code == 200
        return go

    none, fifty = interleaved(call(keys[0]), call(keys[1]), seconds, rounds)
    return {"none_per_s": round(none), "fifty_per_s": round(fifty), "ratio": round(fifty / none, 3),
            "applied": [p["name"] for p in check.json.get("promotions", [])]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    result = {"engine": engine_bench(args.seconds, args.rounds),
              "api": api_bench(args.seconds, args.rounds), "target_ratio": 0.8}
    for part in ("engine", "api"):
        r = result[part]
        print(f"{part:6} none {r['none_per_s']:>7}/s   50 promotions {r['fifty_per_s']:>7}/s   "
              f"ratio {r['ratio']:.2f} {'OK' if r['ratio'] >= 0.8 else 'BELOW 0.80'}   "
              f"applied: {', '.join(r['applied']) or '—'}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
