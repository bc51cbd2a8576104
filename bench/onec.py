#!/usr/bin/env python3
"""The 1С adapter's benchmark (in process, SQLite file in a temporary folder).

1. `calculatediscounts` (1С's loyalty-server protocol) against the public API's
   `POST /api/v1/receipts/calculate` for the same 3-line receipt of a customer with a card,
   alternating in one run through the Flask test client; the ratio of their throughputs
   (aim: the 1С call at least 80 % of the API's).
2. A CommerceML import.xml of N generated products (100,000 by default) imported in one
   pass by the exchange's streaming reader, in a child process: wall time and the child's
   peak RSS (aim: under 60 s and under 150 MB).

    python3 bench/onec.py [--calls 300] [--products 100000] [--json out.json]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def setup(db_url: str):
    from hub.app import create_app
    from hub.config import Config
    from hub.db import upgrade
    from hub.extensions import db, make_engine
    upgrade(make_engine(db_url))
    app = create_app(Config(DATABASE_URL=db_url))
    from connectors.registry import create_connection
    from hub.clock import utcnow
    from hub.customers.bonuses import adjust_bonuses
    from hub.customers.operations import register_customer
    from hub.programs.operations import DEFAULT_SETTINGS, put_program
    from hub.tenants.operations import create_tenant
    session = db.session
    tenant, key = create_tenant(session, "Бенчмарк")
    put_program(session, tenant.id, {**DEFAULT_SETTINGS, "type": "bonus_discount", "levels": [
        {"code": "base", "name": "Стандарт", "threshold": 0, "accrual": {"scheme": "percent", "percent": "10"},
         "discount": {"scheme": "percent", "percent": "5"}, "max_spend_percent": "50", "bonus_lifetime_days": None}]})
    conn, _ = create_connection(session, tenant.id, kind="onec", external_account="bench",
                                credentials={"login": "kassa", "password": "secret"})
    session.commit()
    customer = register_customer(session, tenant.id, {"phone": "+79160000001", "card_number": "2000000000015"},
                                 source="api", moment=utcnow())
    adjust_bonuses(session, tenant.id, customer.id, amount=100000, kind="manual", reason="bench", valid_days=None,
                   moment=utcnow(), idempotency_key=None, source="api", body={})
    session.commit()
    ids = (tenant.id, conn.id, key)
    db.session.remove()
    return app, ids


def bench_calculate(app, conn_id: str, key: str, calls: int) -> dict:
    client = app.test_client()
    lines = [("l1", "11111111-0000-0000-0000-000000000001", "Кофе", 250, 2),
             ("l2", "11111111-0000-0000-0000-000000000002", "Торт", 333.33, 1),
             ("l3", "11111111-0000-0000-0000-000000000003", "Сок", 120, 3)]
    empty = {"Ref": "00000000-0000-0000-0000-000000000000", "Name": ""}
    onec_body = json.dumps({
        "ObjectTime": "2026-03-02T12:00:00", "CurrentDate": "2026-03-02T12:00:00", "LoyaltyCardPresented": True,
        "LoyaltyCardsList": ["2000000000015"], "PromocodesList": [], "ControlledDiscountsList": [],
        "RetailStore": {"Ref": "a1", "Name": "Магазин"}, "WorkPlace": {"Ref": "w1", "Name": "Касса"},
        "GetLoyaltyCardData": False, "BlockBonuses": "0",
        "Goods": [{"LineUID": u, "Count": q, "PackagesCount": q, "Item": {"Ref": i, "Name": n}, "Price": p,
                   "GiftSale": False, "PercentOfAutomaticDiscount": 0, "PercentOfManualDiscount": 0, "VATRate": "20%",
                   "Amount": round(p * q, 2), "AmountOfAutomaticDiscount": 0, "TotalAmount": round(p * q, 2),
                   "VATAmount": 0, "AmountOfManualDiscount": 0, "Package": empty, "Variant": empty}
                  for u, i, n, p, q in lines]}, ensure_ascii=False).encode("utf-8-sig")
    auth = {"Authorization": "Basic " + base64.b64encode(b"kassa:secret").decode()}
    api_body = {"external_id": "bench", "customer": {"card": "2000000000015"},
                "positions": [{"id": u, "product": i, "name": n, "price": p, "quantity": q} for u, i, n, p, q in lines]}
    api_headers = {"Authorization": f"Bearer {key}"}
    url = f"/onec/{conn_id}/hs/loyaltyservice/calculatediscounts"

    def onec_call() -> None:
        r = client.open(url, method="GET", data=onec_body, headers=auth)
        assert r.status_code == 200 and b'"Error": false' in r.data, r.data[:300]

    def api_call() -> None:
        r = client.post("/api/v1/receipts/calculate", json=api_body, headers=api_headers)
        assert r.status_code == 200, r.data[:300]

    for _ in range(20):
        onec_call()
        api_call()
    spent = {"onec": 0.0, "api": 0.0}
    for i in range(calls):
        for name, fn in (("onec", onec_call), ("api", api_call)) if i % 2 else (("api", api_call), ("onec", onec_call)):
            t = time.perf_counter()
            fn()
            spent[name] += time.perf_counter() - t
    onec_rps, api_rps = calls / spent["onec"], calls / spent["api"]
    return {"calls": calls, "calculatediscounts_per_s": round(onec_rps, 1), "api_calculate_per_s": round(api_rps, 1),
            "ratio": round(onec_rps / api_rps, 3)}


def generate_catalog(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_210" '
                'ВерсияСхемы="2.10"><Классификатор><Ид>c</Ид><Группы>')
        for g in range(50):
            f.write(f"<Группа><Ид>g{g}</Ид><Наименование>Группа {g}</Наименование><Группы>")
            for s in range(10):
                f.write(f"<Группа><Ид>g{g}-{s}</Ид><Наименование>Подгруппа {g}.{s}</Наименование></Группа>")
            f.write("</Группы></Группа>")
        f.write('</Группы></Классификатор><Каталог СодержитТолькоИзменения="false"><Ид>k</Ид><Товары>')
        for i in range(n):
            f.write(f"<Товар><Ид>{i:08d}-0000-4000-8000-000000000000</Ид><Артикул>ART-{i}</Артикул>"
                    f"<Наименование>Товар номер {i} с длинным наименованием</Наименование>"
                    f"<Штрихкод>46{i:011d}</Штрихкод><Группы><Ид>g{i % 50}-{i % 10}</Ид></Группы>"
                    f"<БазоваяЕдиница Код=\"796\">шт</БазоваяЕдиница></Товар>")
        f.write("</Товары></Каталог></КоммерческаяИнформация>")


CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[4])
from hub.extensions import db
from hub.app import create_app
from hub.config import Config
app = create_app(Config(DATABASE_URL=sys.argv[1]))
from onec.exchange import import_file
from hub.catalog.operations import count_products
with app.app_context():
    t = time.perf_counter()
    done, finished = import_file(db.session, sys.argv[2], sys.argv[3], "import.xml", 0, 10**9)
    seconds = time.perf_counter() - t
    t2 = time.perf_counter()
    import_file(db.session, sys.argv[2], sys.argv[3], "import.xml", 0, 10**9)
    again = time.perf_counter() - t2
    total = count_products(db.session, sys.argv[2])
print(json.dumps({"products": done, "finished": finished, "in_catalog": total, "seconds": round(seconds, 1),
                  "reimport_seconds": round(again, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def bench_import(db_url: str, tenant_id: str, n: int, folder: Path) -> dict:
    path = folder / "import.xml"
    generate_catalog(path, n)
    size = path.stat().st_size
    out = subprocess.run([sys.executable, "-c", CHILD, db_url, tenant_id, str(path), str(ROOT)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["file_mb"] = round(size / 1024 / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/bench.sqlite3"
        os.environ["KOPILKA_HOME"] = tmp
        app, (tenant_id, conn_id, key) = setup(db_url)
        calc = bench_calculate(app, conn_id, key, args.calls)
        imp = bench_import(db_url, tenant_id, args.products, Path(tmp))
    result = {"calculate": calc, "import": imp,
              "targets": {"ratio>=0.8": calc["ratio"] >= 0.8, "import<60s": imp["seconds"] < 60,
                          "rss<150MB": imp["peak_rss_mb"] < 150}}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
