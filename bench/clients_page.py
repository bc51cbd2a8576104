#!/usr/bin/env python3
"""The owner's clients list at 1,000,000 clients on PostgreSQL.

Creates `kopilka_bench_clients_<random>` (127.0.0.1:5432, trust auth), migrates it, creates a
tenant with three levels and loads N customers (1,000,000 by default) with bench/exports.py's
set-based loader (`INSERT … SELECT generate_series`), then gives 10% a tag, blocks 0.1% and
classifies everyone into the recency segments (hub.automation.segments.recompute, the sweep's
own pass). Signed in as the owner through the Flask test client, it times the list's first
page, a deep page (after a cursor 100 pages in), searches by phone, by a part of it (the last
four digits, the middle), card and name prefix, and
each filter of the list (alone), each several times (the median and p95 are reported), and prints
EXPLAIN (ANALYZE) of every query slower than the aim. The database is dropped at the end,
also on failure or Ctrl-C.

    python3 bench/clients_page.py [--clients 1000000] [--repeat 5] [--keep] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text

from bench.exports import bench_database, load_clients, say, vacuum

AIM_MS = 300
PASSWORD = "bench-password-42"

CASES = [
    ("первая страница", ""),
    ("поиск по телефону", "q=+79000543210"),
    ("поиск по последним 4 цифрам телефона", "q=3210"),
    ("поиск по части телефона (середина)", "q=0054321"),
    ("поиск по 4 цифрам, набранным с пробелом", "q=99 87"),
    ("поиск по карте", "q=2000543210"),
    ("поиск по фамилии (начало)", "q=смирн"),
    ("поиск по редкой фамилии", "q=Редкая"),
    ("поиск: фамилия и имя", "q=Петров Иван"),
    ("уровень", "level=vip"),
    ("сегмент: активное ядро", "segment=rfm:core"),
    ("сегмент: потерянные", "segment=rfm:lost"),
    ("сохранённый сегмент", "segment=seg:{segment_id}"),
    ("теги", "tags=vip"),
    ("пол", "gender=female"),
    ("возраст 25–35", "age_min=25&age_max=35"),
    ("день рождения в 7 дней", "birthday_days=7"),
    ("дата регистрации", "joined_from=2025-03-01&joined_to=2025-03-31"),
    ("последняя покупка 30–60 дней", "last_days_min=30&last_days_max=60"),
    ("сумма покупок от 20 000 ₽", "total_min=20000"),
    ("баланс от 1 000 Б", "balance_min=1000"),
    ("пол + возраст + баланс", "gender=male&age_min=40&balance_min=1000"),
    ("ничего не найдено (весь перебор)", "total_min=99999999"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    with bench_database("kopilka_bench_clients", args.keep) as (engine, url):
        from sqlalchemy.orm import sessionmaker

        from hub.clock import utcnow
        from hub.automation.models import Segment
        from hub.web.ui.auth import create_user
        s = sessionmaker(bind=engine, expire_on_commit=False)()
        tenant = load_clients(engine, s, args.clients)
        create_user(s, tenant.id, "owner@bench.test", "owner", PASSWORD, "Владелец")
        s.commit()
        with engine.begin() as conn:
            conn.execute(text("""UPDATE customers SET tags = '["vip"]' WHERE tenant_id = :t
                                 AND abs(hashtext(id)) % 10 = 0"""), {"t": tenant.id})
            conn.execute(text("""UPDATE customers SET blocked_at = created_at, blocked_reason = 'бенчмарк'
                                 WHERE tenant_id = :t AND abs(hashtext(id)) % 1000 = 1"""), {"t": tenant.id})
            conn.execute(text("""UPDATE customers SET last_name = 'Редкая' WHERE tenant_id = :t
                                 AND abs(hashtext(id)) % 100000 = 7"""), {"t": tenant.id})
        say("сегменты по давности …")
        from hub.automation.segments import recompute
        started = time.perf_counter()
        recompute(s, tenant.id, "Europe/Moscow", utcnow(), full=True)
        say(f"сегменты за {time.perf_counter() - started:.1f} с")
        seg = Segment(tenant_id=tenant.id, name="Женщины 25–45 с покупками", created_at=utcnow(),
                      filters={"gender": "female", "age_min": 25, "age_max": 45, "purchase_count_min": 1})
        s.add(seg)
        s.commit()
        vacuum(engine, "customers", "accounts", "customer_segments")
        s.close()
        figures = measure(url, tenant.id, seg.id, args.repeat)
    figures = {"clients": args.clients, "aim_ms": AIM_MS, "pages": figures}
    print(json.dumps(figures, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0 if all(p["median_ms"] < AIM_MS for p in figures["pages"]) else 1


def measure(url: str, tenant_id: str, segment_id: str, repeat: int) -> list[dict]:
    import os
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    from hub.app import create_app
    from hub.config import Config
    from hub.extensions import db
    app = create_app(Config(DATABASE_URL=url))
    client = app.test_client()
    page = client.get("/cabinet/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = client.post("/cabinet/login", data={"email": "owner@bench.test", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 302, (r.status_code, r.get_data(as_text=True)[-300:])
    statements: list[tuple[str, object]] = []
    with app.app_context():
        bind = db.session.get_bind()

    @event.listens_for(bind, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    # The deep page: follow "Показать ещё" 100 times' worth by asking for a cursor directly.
    with bind.connect() as conn:
        moment, cid = conn.execute(text(
            "SELECT created_at, id FROM customers WHERE tenant_id = :t ORDER BY created_at DESC, id DESC "
            "OFFSET 5000 LIMIT 1"), {"t": tenant_id}).one()
    from datetime import timezone
    from urllib.parse import quote
    moment = moment.replace(tzinfo=timezone.utc)
    cases = [*CASES[:1], ("глубокая страница (после курсора, ~100-я)",
                          "after=" + quote(f"{moment.isoformat()}|{cid}"))] + CASES[1:]
    cases.append(("фильтр + глубокая страница", "gender=female&after=" + quote(f"{moment.isoformat()}|{cid}")))
    out = []
    for title, query in cases:
        query = query.format(segment_id=segment_id)
        times, rows = [], 0
        for _ in range(repeat + 1):           # the first run warms the caches and is not counted
            statements.clear()
            started = time.perf_counter()
            r = client.get(f"/cabinet/clients?{query}")
            times.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200, (title, r.status_code, r.get_data(as_text=True)[-500:])
            rows = len(re.findall(r'href="/cabinet/clients/[0-9a-f-]{36}"', r.get_data(as_text=True)))
        median = statistics.median(times[1:])
        p95 = percentile(times[1:], 95)
        out.append({"case": title, "query": query, "median_ms": round(median, 1), "p95_ms": round(p95, 1),
                    "max_ms": round(max(times[1:]), 1), "rows": rows})
        say(f"{title:45s} {median:7.1f} мс (p95 {p95:.1f}, макс. {max(times[1:]):.1f}), строк: {rows}")
        if median >= AIM_MS:
            explain(bind, statements)
    return out


def percentile(values: list[float], pct: int) -> float:
    """The nearest-rank percentile (with --repeat 20 the p95 is the 19th of 20)."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * pct // 100) - 1)]


def explain(bind, statements) -> None:
    """EXPLAIN ANALYZE of the page's slowest customers query."""
    with bind.connect() as conn:
        worst = None
        for statement, params in statements:
            if "FROM customers" not in statement or not statement.lstrip().upper().startswith("SELECT"):
                continue
            started = time.perf_counter()
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
            took = time.perf_counter() - started
            if worst is None or took > worst[0]:
                worst = (took, statement, plan)
        if worst:
            print("    EXPLAIN (ANALYZE, BUFFERS):")
            for (line,) in worst[2]:
                print("      " + line)


if __name__ == "__main__":
    sys.exit(main())
