#!/usr/bin/env python3
"""The owner's client export (Excel) over a large base on PostgreSQL.

Creates `kopilka_bench_export_<random>` (127.0.0.1:5432, trust auth), migrates it, creates a
tenant with three levels and loads N customers (1,000,000 by default) set-based with
`INSERT … SELECT generate_series`: names, gender, birthday, email for 60%, a comment for 5%,
registration dates over two years, 0–20 purchases, an account with a cached balance.

Then it builds the client export exactly as the cabinet's background job does
(`hub.exports.operations.build_export`: keyset batches, XlsxWriter in constant-memory mode)
in a child process, and prints the time (wall and the child's CPU: on a busy machine the CPU
time is the comparable figure), the child's peak RSS, the file size and the rows.
The database and the file are removed at the end, also on failure or Ctrl-C.

    python3 bench/exports.py [--clients 1000000] [--keep] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHUNK = 200_000


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


CUSTOMERS = """
    INSERT INTO customers (id, tenant_id, phone, card_number, first_name, last_name, middle_name, gender,
                           birth_date, email, comment, tags, relatives, consents, source, level_code,
                           total_purchases, purchase_count, last_purchase_at, created_at)
    SELECT gen_random_uuid()::text, :t, '+79' || lpad(i::text, 9, '0'), (2000000000 + i)::text,
           (ARRAY['Анна','Иван','Мария','Пётр','Ольга','Сергей','Елена','Дмитрий'])[1 + h % 8],
           (ARRAY['Иванова','Петров','Смирнова','Кузнецов','Попова','Соколов'])[1 + h % 6],
           CASE WHEN i % 4 = 0 THEN 'Александровна' END,
           CASE WHEN h % 2 = 0 THEN 'female' ELSE 'male' END,
           CASE WHEN i % 5 <> 0 THEN DATE '1960-01-01' + (h % 16000) END,
           CASE WHEN i % 5 < 3 THEN 'client' || i || '@example.ru' END,
           CASE WHEN i % 20 = 0 THEN 'Постоянный клиент, предпочитает оплату картой' END,
           '[]', '[]', '{}', 'api',
           CASE WHEN pc >= 15 THEN 'vip' WHEN pc >= 6 THEN 'gold' ELSE 'base' END,
           pc * (50000 + h % 200000), pc,
           CASE WHEN pc > 0 THEN TIMESTAMP '2026-11-01' - (h % (300 * 1440)) * INTERVAL '1 minute' END,
           TIMESTAMP '2024-11-01' + (h % (730 * 1440)) * INTERVAL '1 minute'
    FROM (SELECT i, abs(hashtext(i::text)) AS h, abs(hashtext('p' || i)) % 21 AS pc
          FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS i) s"""

ACCOUNTS = """
    INSERT INTO accounts (id, tenant_id, customer_id, balance, version, created_at)
    SELECT gen_random_uuid()::text, c.tenant_id, c.id, c.total_purchases / 20, 1, c.created_at
    FROM customers c WHERE c.tenant_id = :t"""


def child(url: str, export_id: str, export_dir: str) -> None:
    """Build one export in this (fresh) process; print time and peak RSS as JSON."""
    os.environ["KOPILKA_EXPORT_DIR"] = export_dir
    os.environ.pop("REDIS_URL", None)
    from hub.extensions import db
    from hub.exports.operations import build_export
    db.configure(url)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    status = build_export(db.session, export_id)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.session.remove()
    print(json.dumps({"status": status, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
                      "rss_before_mb": round(rss_before / 1024, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


@contextmanager
def bench_database(prefix: str, keep: bool):
    """A new migrated PostgreSQL database `<prefix>_<random>`: (engine, url); dropped at the
    end, also on failure or Ctrl-C, unless `keep`."""
    from hub.db import upgrade
    from hub.extensions import make_engine
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = None
    try:
        engine = make_engine(url)
        upgrade(engine)
        yield engine, url
    finally:
        if engine is not None:
            engine.dispose()
        if keep:
            say(f"база оставлена: {url}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load_clients(engine, session, clients: int):
    """A tenant with three levels and `clients` customers with accounts, loaded set-based;
    returns the tenant."""
    from hub.programs.operations import DEFAULT_SETTINGS, put_program
    from hub.tenants.operations import create_tenant
    tenant, _ = create_tenant(session, "Сеть «Бенчмарк»")
    levels = [{**DEFAULT_SETTINGS["levels"][0], "code": "base", "name": "Стандарт", "threshold": 0},
              {**DEFAULT_SETTINGS["levels"][0], "code": "gold", "name": "Золотой", "threshold": 1_000_000},
              {**DEFAULT_SETTINGS["levels"][0], "code": "vip", "name": "VIP", "threshold": 5_000_000}]
    put_program(session, tenant.id, {**DEFAULT_SETTINGS, "levels": levels})
    session.commit()
    say(f"{clients:,} клиентов загружаются …")
    started = time.perf_counter()
    with engine.begin() as conn:
        for lo in range(1, clients + 1, CHUNK):
            hi = min(lo + CHUNK - 1, clients)
            conn.execute(text(CUSTOMERS), {"t": tenant.id, "lo": lo, "hi": hi})
            say(f"  клиенты {hi:,}")
        conn.execute(text(ACCOUNTS), {"t": tenant.id})
    vacuum(engine, "customers", "accounts")
    say(f"загружено за {time.perf_counter() - started:.1f} с")
    return tenant


def vacuum(engine, *tables: str) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f"VACUUM ANALYZE {table}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--child", nargs=3, metavar=("URL", "EXPORT_ID", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0

    workdir = tempfile.mkdtemp(prefix="kopilka-export-")
    try:
        with bench_database("kopilka_bench_export", args.keep) as (engine, url):
            from sqlalchemy.orm import sessionmaker

            from hub.clock import utcnow
            from hub.exports.models import Export
            s = sessionmaker(bind=engine, expire_on_commit=False)()
            tenant = load_clients(engine, s, args.clients)
            export = Export(tenant_id=tenant.id, kind="clients", params={}, status="queued", rows_done=0,
                            user_email="bench", created_at=utcnow())
            s.add(export)
            s.commit()
            say("выгрузка клиентов в Excel (отдельный процесс, как фоновая задача) …")
            out = subprocess.run([sys.executable, __file__, "--child", url, export.id, workdir],
                                 check=True, capture_output=True, text=True)
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            s.expire_all()
            export = s.get(Export, export.id)
            figures.update({"clients": args.clients, "rows": export.rows_done,
                            "file_mb": round((export.file_size or 0) / 1048576, 1)})
            s.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    say(f"готово: {figures['rows']:,} строк за {figures['seconds']} с (процессор {figures['cpu_seconds']} с), "
        f"пик памяти процесса "
        f"{figures['peak_rss_mb']} МБ (после импорта {figures['rss_before_mb']} МБ), файл {figures['file_mb']} МБ")
    print(json.dumps(figures, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0 if figures["status"] == "done" and figures["rows"] == args.clients else 1


if __name__ == "__main__":
    sys.exit(main())
