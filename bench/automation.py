#!/usr/bin/env python3
"""One automation run over a large customer base on PostgreSQL.

Creates `kopilka_bench_auto_<random>` (127.0.0.1:5432, trust auth), migrates it, and loads N
customers (1,000,000 by default) set-based with `INSERT … SELECT generate_series`: birthdays
spread over the year, 1% with a relative's birthday, last purchases spread over 400 days
(10% never bought), 1–10 purchases, each with an account and one live bonus lot (posting,
lot and cached balance agree) burning some day within the next year; half consent to SMS.
The tenant has seed 003's birthday gift (500 bonuses 7 days before, valid 15 days) and
relatives' gift (300 for 8 days), expiry warnings 7 days ahead, and seed 001's win-back
chains (one purchase: 66 days -> 100 bonuses for 7 days, 180 days -> 180; 2-3 purchases:
66-day reminder; VIP 90 days -> 500), switched on an hour before the run, and the recency
segments as the previous day's pass left them (that first, full classification of the whole
base is timed separately; the timed run's segment pass is then incremental, as every pass
between the weekly full ones is).

Then it times `hub.automation.run` at one moment (progress on the console: each mechanic's
claims, the batches carried out, the 16 segment batches), runs it again at the same moment
(nothing new may be granted or sent) and checks the ledger of the accounts it touched.
The database is dropped at the end, also on failure or Ctrl-C.

    python3 bench/automation.py [--customers 1000000] [--keep] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import sessionmaker

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MSK = ZoneInfo("Europe/Moscow")
AT = datetime(2026, 12, 1, 10, 0, tzinfo=MSK)


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


LOAD = [
    ("клиенты", """
        INSERT INTO customers (id, tenant_id, phone, card_number, first_name, gender, birth_date, tags,
                               relatives, consents, source, level_code, total_purchases, purchase_count,
                               last_purchase_at, created_at)
        SELECT gen_random_uuid()::text, :t, '+7' || lpad(i::text, 10, '0'), NULL, 'Клиент',
               CASE WHEN i % 3 = 0 THEN 'male' ELSE 'female' END,
               DATE '1960-01-01' + (hashint % 16000),
               '[]',
               CASE WHEN i % 100 = 0
                    THEN json_build_array(json_build_object('name', 'Ребёнок', 'relation', 'сын',
                         'birth_date', to_char(DATE '2010-01-01' + (hashint % 3650), 'YYYY-MM-DD')))
                    ELSE '[]'::json END,
               CASE WHEN i % 2 = 0 THEN '{"sms": {"given": true}}'::json ELSE '{}'::json END,
               'api',
               CASE WHEN pc >= 8 THEN 'vip' ELSE 'base' END,
               CASE WHEN lp IS NULL THEN 0 ELSE pc * 90000 END,
               CASE WHEN lp IS NULL THEN 0 ELSE pc END,
               lp,
               TIMESTAMP '2024-01-01' + (hashint % 300) * INTERVAL '1 day'
        FROM (SELECT i, abs(hashtext(i::text)) AS hashint, 1 + abs(hashtext('c' || i)) % 10 AS pc,
                     CASE WHEN i % 10 = 0 THEN NULL
                          ELSE TIMESTAMP '2026-12-01 06:00' - (abs(hashtext('l' || i)) % (400 * 1440)) * INTERVAL '1 minute'
                     END AS lp
              FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS i) s"""),
]


def load(conn, tenant_id: str, n: int) -> None:
    step = 200_000
    for lo in range(1, n + 1, step):
        hi = min(n, lo + step - 1)
        t0 = time.perf_counter()
        conn.execute(text(LOAD[0][1]), {"t": tenant_id, "lo": lo, "hi": hi})
        conn.commit()
        say(f"  клиенты {hi:,} ({time.perf_counter() - t0:.1f} с)")
    t0 = time.perf_counter()
    conn.execute(text("""
        INSERT INTO accounts (id, tenant_id, customer_id, balance, version, created_at)
        SELECT gen_random_uuid()::text, tenant_id, id, 0, 1, created_at FROM customers WHERE tenant_id = :t"""),
        {"t": tenant_id})
    conn.execute(text("""
        INSERT INTO postings (id, tenant_id, account_id, kind, amount, moment, meta, created_at)
        SELECT a.id, a.tenant_id, a.id, 'accrual', 10000 + abs(hashtext(a.id)) % 200000,
               TIMESTAMP '2026-06-01', '{}', TIMESTAMP '2026-06-01'
        FROM accounts a WHERE a.tenant_id = :t"""), {"t": tenant_id})
    conn.execute(text("""
        INSERT INTO lots (id, tenant_id, account_id, posting_id, kind, amount, remaining, active_from,
                          expires_at, follows_purchases, created_at)
        SELECT p.id, p.tenant_id, p.account_id, p.id, 'purchase', p.amount, p.amount, p.moment,
               TIMESTAMP '2026-12-01 21:00' + (abs(hashtext('e' || p.id)) % 365) * INTERVAL '1 day',
               false, p.created_at
        FROM postings p WHERE p.tenant_id = :t"""), {"t": tenant_id})
    conn.execute(text("UPDATE accounts a SET balance = p.amount FROM postings p "
                      "WHERE p.account_id = a.id AND a.tenant_id = :t"), {"t": tenant_id})
    conn.commit()
    say(f"  счета, начисления, партии бонусов ({time.perf_counter() - t0:.1f} с)")
    conn.execute(text("ANALYZE"))
    conn.commit()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the database")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()

    from hub.clock import frozen
    from hub.db import upgrade
    from hub.extensions import make_engine

    name = f"kopilka_bench_auto_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    result: dict = {"customers": args.customers}
    try:
        say(f"база {name}: миграции")
        upgrade(engine)
        from hub.adapters import wire
        wire()
        from hub.automation.sweep import run
        from hub.automation.chains import save_chain
        from hub.automation.settings import save
        from hub.automation.models import MechanicEvent
        from hub.notify.models import OutboxMessage
        from hub.programs.operations import DEFAULT_SETTINGS, put_program
        from hub.tenants.operations import create_tenant
        Session = sessionmaker(bind=engine, expire_on_commit=False)
        s = Session()
        tenant, _ = create_tenant(s, "Бенчмарк")
        s.commit()
        t = tenant.id
        levels = [DEFAULT_SETTINGS["levels"][0],
                  {**DEFAULT_SETTINGS["levels"][0], "code": "vip", "name": "VIP", "threshold": 720000}]
        put_program(s, t, {**DEFAULT_SETTINGS, "levels": levels})
        # Switched on an hour before the run (09:00 local): the run does one day's work, as
        # every daily run after the first does (earlier days were done by earlier runs).
        since = AT - timedelta(hours=1)
        with frozen(since):
            save(s, t, {"gifts": [
                {"event": "birthday", "amount": 50000, "valid_days": 15, "days_before": 7},
                {"event": "relative_birthday", "amount": 30000, "valid_days": 8, "days_before": 0}],
                "expiry_warning": {"enabled": True, "days_before": 7}}, since)
            save_chain(s, t, {"name": "1 покупка", "audience": {"purchase_count_min": 1, "purchase_count_max": 1},
                              "steps": [{"days": 66, "amount": 10000, "valid_days": 7},
                                        {"days": 180, "amount": 18000, "valid_days": 7}]}, since)
            save_chain(s, t, {"name": "2-3 покупки", "audience": {"purchase_count_min": 2, "purchase_count_max": 3},
                              "steps": [{"days": 66, "amount": 0}]}, since)
            save_chain(s, t, {"name": "VIP", "audience": {"levels": ["vip"]},
                              "steps": [{"days": 90, "amount": 50000, "valid_days": 14}]}, since)
        say(f"загрузка {args.customers:,} клиентов")
        t0 = time.perf_counter()
        with engine.connect() as conn:
            load(conn, t, args.customers)
        result["load_seconds"] = round(time.perf_counter() - t0, 1)
        # The segments as the previous day's runs left them (the first classification of a
        # base writes every row once; afterwards a run rewrites only the customers who moved).
        from hub.automation.segments import recompute
        t0 = time.perf_counter()
        recompute(s, t, "Europe/Moscow", AT - timedelta(days=1))
        result["first_segments_seconds"] = round(time.perf_counter() - t0, 1)
        say(f"сегменты накануне (первая классификация всей базы): {result['first_segments_seconds']} с")

        say(f"автоматизация на {AT.isoformat()}")
        t0 = time.perf_counter()
        with frozen(AT):
            counts = run(s, AT, [t], progress=say)
        result["run_seconds"] = round(time.perf_counter() - t0, 2)
        result["counts"] = counts
        say(f"готово за {result['run_seconds']} с: {json.dumps(counts, ensure_ascii=False)}")

        before = (s.scalar(select(func.count()).select_from(MechanicEvent)),
                  s.scalar(select(func.count()).select_from(OutboxMessage)))
        t0 = time.perf_counter()
        with frozen(AT):
            again = run(s, AT, [t], progress=None)
        result["second_run_seconds"] = round(time.perf_counter() - t0, 2)
        after = (s.scalar(select(func.count()).select_from(MechanicEvent)),
                 s.scalar(select(func.count()).select_from(OutboxMessage)))
        result["second_run"] = again
        result["idempotent"] = before == after and not again.get("done")
        say(f"повтор за {result['second_run_seconds']} с, ничего нового: {result['idempotent']}")

        bad = s.execute(text("""
            SELECT count(*) FROM accounts a
            WHERE a.tenant_id = :t AND a.id IN (
                SELECT l.account_id FROM lots l JOIN postings p ON p.id = l.posting_id WHERE p.kind = 'gift')
              AND (a.balance <> (SELECT coalesce(sum(amount), 0) FROM postings WHERE account_id = a.id)
                   OR a.balance <> (SELECT coalesce(sum(remaining), 0) FROM lots WHERE account_id = a.id))"""),
            {"t": t}).scalar()
        result["ledger_mismatches"] = int(bad)
        say(f"сверка счетов с подарками: расхождений {bad}")
        s.close()
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result.get("idempotent") and not result.get("ledger_mismatches") else 1


if __name__ == "__main__":
    sys.exit(main())
