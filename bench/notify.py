#!/usr/bin/env python3
"""Outbox delivery throughput against a local fake SMS gateway.

A tiny SMS.ru-compatible HTTP server on 127.0.0.1 (a random free port, at most 16 handler
threads, an optional per-request latency) stands in for the provider; the tenant's SMS.ru
channel points at it (`api_base`). The run queues N messages in batches of 500 per
transaction — one set-based insert per batch through `hub.notify.outbox.enqueue_many`
(`--enqueue many`, the default, as the automation does) or one `hub.notify.enqueue` call per
message (`--enqueue one`, as a sale does) — then W workers — each a thread with its own database
session running the delivery sweep (`deliver_due`: claim a batch with SKIP LOCKED, send, record)
— deliver them. It prints enqueue and delivery rates and checks that the gateway received
every message exactly once.

    python3 bench/notify.py [--db sqlite|postgres] [--messages 5000] [--workers 4]
                            [--latency-ms 20] [--enqueue many|one] [--json out.json]

SQLite: a file in a temporary folder (one writer at a time; use --workers 1).
PostgreSQL: 127.0.0.1:5432, trust auth, a database kopilka_bench_notify_<random> dropped
at the end. Nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class Gateway(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency = latency
        self.lock = threading.Lock()
        self.received: dict[str, int] = {}
        self.slots = threading.BoundedSemaphore(16)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True       # headers and body in one segment: no 40 ms ACK waits
    wbufsize = 1 << 16

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        srv: Gateway = self.server  # type: ignore[assignment]
        with srv.slots:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            if srv.latency:
                time.sleep(srv.latency)
            to, msg = form.get("to", [""])[0], form.get("msg", [""])[0]
            with srv.lock:
                n = len(srv.received) + 1
                key = f"{to}:{msg}"
                srv.received[key] = srv.received.get(key, 0) + 1
            body = json.dumps({"status": "OK", "status_code": 100, "balance": 1000,
                               "sms": {to: {"status": "OK", "status_code": 100, "sms_id": f"fake-{n}",
                                            "cost": "2.50"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--enqueue", choices=("many", "one"), default="many")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()
    args.messages = max(1, min(args.messages, 200_000))
    args.workers = max(1, min(args.workers, 32))

    os.environ.pop("REDIS_URL", None)                      # delivery by the sweep only
    from cryptography.fernet import Fernet
    os.environ.setdefault("KOPILKA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    from sqlalchemy import create_engine, func, select, text
    from sqlalchemy.orm import sessionmaker

    from hub.db import upgrade
    from hub.extensions import make_engine

    tmp = tempfile.TemporaryDirectory(prefix="kopilka-bench-notify-")
    admin = dbname = None
    if args.db == "postgres":
        dbname = f"kopilka_bench_notify_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{dbname}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    else:
        url = f"sqlite:///{tmp.name}/bench.sqlite3"
        args.workers = 1
    os.environ["DATABASE_URL"] = url
    gateway = Gateway(args.latency_ms / 1000)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    engine = make_engine(url)
    result: dict = {}
    try:
        upgrade(engine)
        import hub.schema  # noqa: F401 - every table in the MetaData
        from hub.notify.models import OutboxMessage
        from hub.notify.outbox import enqueue
        from hub.notify import registry
        from hub.notify.outbox import enqueue_many
        from hub.notify.delivery import deliver_due
        from hub.tenants.operations import create_tenant
        Session = sessionmaker(bind=engine, expire_on_commit=False)
        s = Session()
        tenant, _ = create_tenant(s, "Бенчмарк рассылок")
        registry.configure(s, tenant.id, "smsru", credentials={"api_id": "bench"},
                           settings={"api_base": f"http://127.0.0.1:{gateway.server_address[1]}",
                                     "sender": "BENCH"})
        s.commit()
        t0 = time.perf_counter()
        for lo in range(0, args.messages, 500):
            items = [{"customer_id": None, "topic": "code", "phone": f"+7916{i:07d}",
                      "context": {"code": f"{i % 1000000:06d}"}, "dedupe_key": f"bench:{i}"}
                     for i in range(lo, min(lo + 500, args.messages))]
            if args.enqueue == "many":
                enqueue_many(s, tenant.id, items)
            else:
                for item in items:
                    enqueue(s, tenant_id=tenant.id, **item)
            s.commit()
        s.close()
        enqueue_s = time.perf_counter() - t0
        print(f"queued {args.messages} messages ({args.enqueue}) in {enqueue_s:.2f} s "
              f"({args.messages / enqueue_s:,.0f}/s)", flush=True)

        counts = [0] * args.workers

        def work(i: int) -> None:
            ws = Session()
            try:
                counts[i] = deliver_due(ws, limit=args.messages, batch=100)
            finally:
                ws.close()

        t1 = time.perf_counter()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(args.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deliver_s = time.perf_counter() - t1
        check = Session()
        by_status = dict(check.execute(select(OutboxMessage.status, func.count())
                                       .group_by(OutboxMessage.status)).all())
        cost = check.scalar(select(func.sum(OutboxMessage.cost)))
        check.close()
        dupes = sum(1 for v in gateway.received.values() if v > 1)
        result = {"db": args.db, "messages": args.messages, "workers": args.workers,
                  "gateway_latency_ms": args.latency_ms, "enqueue": args.enqueue,
                  "enqueue_per_s": round(args.messages / enqueue_s),
                  "deliver_seconds": round(deliver_s, 2),
                  "delivered_per_s": round(args.messages / deliver_s), "statuses": by_status,
                  "gateway_received": sum(gateway.received.values()), "duplicates": dupes,
                  "cost_rub": int(cost or 0) / 100, "per_worker": counts}
        print(f"delivered {args.messages} messages with {args.workers} worker(s) in {deliver_s:.2f} s: "
              f"{args.messages / deliver_s:,.0f} messages/s (gateway latency {args.latency_ms:g} ms)")
        print(json.dumps(result, ensure_ascii=False))
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(result, ensure_ascii=False, indent=2))
        ok = by_status.get("sent") == args.messages and dupes == 0 \
            and sum(gateway.received.values()) == args.messages
        return 0 if ok else 1
    finally:
        gateway.shutdown()
        gateway.server_close()
        engine.dispose()
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            admin.dispose()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
