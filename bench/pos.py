#!/usr/bin/env python3
"""The POS benchmark: the hub on PostgreSQL under gunicorn, driven like a chain's tills.

One run: a fresh database with a tenant, a realistic program and 100,000 customers (with
their accounts and starting bonuses as real lots and postings); gunicorn on a free port;
`wrk` against /health, the core API's calculate and commit, МойСклад's Loyalty API recalc
and retaildemand, the Evotor terminal app's quote and commit, calculate again with 50 active
promotions; `pgbench` (TPC-B-like) in its own database; calculate's p50/p99 at a fixed
rate of half its peak; the workers' RSS; a table with the targets. Everything it created is
stopped and dropped at the end, on failure too. See bench/README.md.

    python3 bench/pos.py [--quick] [--json out.json]

Adding a scenario: append a `Scenario` to `scenarios()` — a name, a method, a path, headers
and a body factory returning JSON templates whose strings may hold ${PHONE}, ${CUSTOMER_ID},
${CARD}, ${UID} (unique per request) and ${UUID} (unique, UUID-shaped); wrk and the
fixed-rate loop fill them in per request from a random customer. A scenario whose requests
depend on earlier ones (Evotor's commit of a quoted receipt) gives a `feed` instead: whole
bodies made from the database right before each run, each sent once, in order.
"""
from __future__ import annotations

import argparse
import atexit
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
HOST = "127.0.0.1"
MS_STORE_ID = "2b5eb22f-139e-11e6-9464-e4de00000073"
MS_ACCOUNT = "b8b74698-9128-11e6-8a84-bae500000001"
EVOTOR_USER = "01-000000000000001"
EVOTOR_STORE = "20240601-0000-4000-8000-0000000000a1"
EVOTOR_DEVICE = "20240601-0000-4000-8000-00000000d001"
PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


# --- the program and the customers -----------------------------------------------------------

# As a partner sends it to PUT /api/v1/program (roubles): three levels, progressive accrual on
# the first, growing max spend share, 180-day bonuses active the next day, three rules.
PROGRAM = {
    "type": "bonus", "timezone": "Europe/Moscow",
    "levels": [
        {"code": "base", "name": "Стандарт", "threshold": 0,
         "accrual": {"scheme": "progressive", "steps": [{"from": 0, "percent": 3},
                                                        {"from": 1000, "percent": 5},
                                                        {"from": 5000, "percent": 7}]},
         "max_spend_percent": 20},
        {"code": "silver", "name": "Серебряная", "threshold": 10000,
         "accrual": {"scheme": "percent", "percent": 5}, "max_spend_percent": 30},
        {"code": "gold", "name": "Золотая", "threshold": 50000,
         "accrual": {"scheme": "percent", "percent": 7}, "max_spend_percent": 50,
         "bonus_lifetime_days": 365},
    ],
    "bonus_lifetime_days": 180, "expiry_mode": "since_accrual", "activation_delay_days": 1,
    "rounding": "kopeck",
    "rules": [
        {"name": "Утро буднего дня: бонусы x2",
         "when": {"weekdays": [1, 2, 3, 4, 5], "time_from": "09:00", "time_to": "12:00"},
         "then": {"accrual_multiplier": 2}},
        {"name": "Услуги: 10%", "when": {"groups": ["services"]}, "then": {"accrual_percent": 10}},
        {"name": "Табак: без бонусов", "when": {"groups": ["tobacco"]},
         "then": {"no_accrual": True, "no_spend": True}},
    ],
    "accrue_on_discounted": True, "accrue_on_bonus_payment": False, "spend_on_discounted": True,
}
LEVELS_KOPECKS = [(5_000_000, "gold"), (1_000_000, "silver"), (0, "base")]

FIRST = ["Анна", "Мария", "Елена", "Ольга", "Ирина", "Сергей", "Андрей", "Дмитрий", "Алексей", "Иван"]
LAST = ["Иванова", "Петрова", "Смирнова", "Кузнецова", "Попова", "Соколов", "Волков", "Морозов"]


def phone_of(i: int) -> str:
    return f"+7916{i:07d}"


def card_of(i: int) -> str:
    return f"2000{i:09d}"


# --- scenarios ---------------------------------------------------------------------------------

@dataclass
class Context:
    """What the set-up made, for headers and bodies."""
    base_url: str = ""
    api_key: str = ""
    tenant_id: str = ""
    connection_id: str = ""
    ms_token: str = ""
    customers_file: str = ""      # "phone customer_id card" per line
    database_url: str = ""
    evotor_app_token: str = ""    # EVOTOR_APP_TOKEN of the in-process app and of gunicorn
    evotor_token: str = ""        # the user token /evotor/api/v1/user/verify issued


@dataclass
class Scenario:
    name: str
    method: str
    path: Callable[[Context], str] | str
    headers: Callable[[Context], dict] | dict
    body: Callable[[Context], list[dict]] | None = None   # JSON templates; one is picked per request
    ok: tuple[int, ...] = (200, 201)
    connections: int | None = None                         # wrk -c (default: --connections)
    # Whole bodies, each sent once and in order (instead of `body`): made right before each run
    # from what earlier requests left in the database; called with the most it may return.
    feed: Callable[[Context, int], list[str]] | None = None
    needs: str | None = None                               # a scenario that must run before
    # Set-up through the hub's own API just before the scenario runs (in process and under
    # wrk alike), given `call(method, path, body, headers) -> (status, json)`; returns its undo.
    around: Callable[[Context, Callable], Callable[[], None]] | None = None

    def resolve(self, ctx: Context) -> tuple[str, dict, list[str]]:
        path = self.path(ctx) if callable(self.path) else self.path
        headers = self.headers(ctx) if callable(self.headers) else dict(self.headers)
        bodies = [json.dumps(b, ensure_ascii=False) for b in (self.body(ctx) if self.body else [])]
        if bodies or self.feed:
            headers.setdefault("Content-Type", "application/json")
        return path, headers, bodies


def _bearer(ctx: Context) -> dict:
    return {"Authorization": f"Bearer {ctx.api_key}"}


def _ms_headers(ctx: Context) -> dict:
    return {"Lognex-Discount-API-Auth-Token": ctx.ms_token}


def _ms_path(call: str) -> Callable[[Context], str]:
    return lambda ctx: f"/moysklad/loyalty/{ctx.connection_id}{call}"


BASKET = [  # (id, name, price in roubles, quantity, groups)
    ("4601234567890", "Кофе зерновой 1 кг", 1290.0, 1, ["coffee"]),
    ("4601234567891", "Круассан", 89.9, 3, ["bakery"]),
    ("4601234567892", "Молоко 3,2% 1 л", 104.5, 2, ["dairy"]),
    ("SRV-001", "Заточка ножей", 450.0, 1, ["services"]),
    ("4601234567893", "Сигареты", 210.0, 1, ["tobacco"]),
]


def core_receipts(ctx: Context) -> list[dict]:
    def receipt(spend, n_lines: int) -> dict:
        body = {"external_id": "bench-${UID}", "customer": {"phone": "${PHONE}"},
                "store": "shop-1", "cashier": "cashier-1", "payment": {"method": "card"},
                "positions": [{"id": str(k + 1), "product": pid, "name": name, "price": price,
                               "quantity": qty, "groups": groups}
                              for k, (pid, name, price, qty, groups) in enumerate(BASKET[:n_lines])]}
        if spend is not None:
            body["spend_bonuses"] = spend
        return body
    # Half earn only, a quarter spend the most allowed, a quarter spend 50 roubles.
    return [receipt(None, 5), receipt(None, 3), receipt("max", 4), receipt(50, 5)]


def _ms_agent() -> dict:
    return {"meta": {"href": "https://api.moysklad.ru/api/remap/1.2/entity/counterparty/${CUSTOMER_ID}",
                     "id": "${CUSTOMER_ID}", "type": "counterparty"}, "phone": "${PHONE}"}


def _ms_position(pid: str, price: float, qty, discounted: float | None = None) -> dict:
    pos = {"assortment": {"meta": {"href": f"https://api.moysklad.ru/api/remap/1.2/entity/product/{pid}",
                                   "id": pid, "type": "product"}},
           "quantity": qty, "price": price}
    if discounted is not None:
        pos["discountedPrice"] = discounted
        pos["discountPercent"] = round((price - discounted) * 100 / price, 2)
    return pos


MS_RETAIL_STORE = {"meta": {"href": f"https://api.moysklad.ru/api/remap/1.2/entity/retailstore/{MS_STORE_ID}",
                            "id": MS_STORE_ID}, "name": "Магазин №1"}
MS_IDS = ["0b5b5b4e-1c1e-11e6-9464-e4de000000a1", "0b5b5b4e-1c1e-11e6-9464-e4de000000a2",
          "0b5b5b4e-1c1e-11e6-9464-e4de000000a3", "0b5b5b4e-1c1e-11e6-9464-e4de000000a4"]


def ms_recalc(ctx: Context) -> list[dict]:
    positions = [_ms_position(MS_IDS[0], 1290.0, 1), _ms_position(MS_IDS[1], 89.9, 3),
                 _ms_position(MS_IDS[2], 104.5, 2), _ms_position(MS_IDS[3], 450.0, 1)]
    earn = {"retailStore": MS_RETAIL_STORE, "agent": _ms_agent(), "positions": positions,
            "bonusProgram": {"transactionType": "EARNING"}}
    spend = {**earn, "bonusProgram": {"transactionType": "SPENDING"}}
    return [earn, earn, spend, {**spend, "preferredBonusToSpend": 50}]


def ms_retaildemand(ctx: Context) -> list[dict]:
    def demand(spend: int) -> dict:
        first = _ms_position(MS_IDS[0], 1290.0, 1, 1290.0 - spend if spend else None)
        positions = [first, _ms_position(MS_IDS[1], 89.9, 3), _ms_position(MS_IDS[2], 104.5, 2),
                     _ms_position(MS_IDS[3], 450.0, 1)]
        return {"retailStore": MS_RETAIL_STORE, "name": "00042",
                "meta": {"href": "https://api.moysklad.ru/api/remap/1.2/entity/retaildemand/${UUID}",
                         "id": "${UUID}", "type": "retaildemand"},
                "agent": _ms_agent(), "positions": positions,
                "bonusProgram": {"bonusValueToSpend": spend},
                "cashSum": 0, "noCashSum": round(2398.7 - spend, 2)}
    return [demand(0), demand(0), demand(0), demand(50)]


# The Evotor terminal app (evotor/README.md §2): the open receipt in Evotor's shape — positions
# with their uuid and product uuid, the groups the app knows — quoted by phone, spending like
# the core's scenarios; the commit of RECEIPT_CLOSED sends the quote's extra back as it is.
EVOTOR_PRODUCTS = ["7c5e0a2e-0000-4000-8000-0000000000%02d" % k for k in range(1, len(BASKET) + 1)]


def _evotor_headers(ctx: Context) -> dict:
    return {"Authorization": f"Bearer {ctx.evotor_token}", "X-Evotor-User-Id": EVOTOR_USER,
            "X-Evotor-Store-Uuid": EVOTOR_STORE, "X-Evotor-Device-UUID": EVOTOR_DEVICE}


def evotor_quotes(ctx: Context) -> list[dict]:
    def receipt(spend, n_lines: int) -> dict:
        body = {"receipt_uuid": "${UUID}", "customer": {"phone": "${PHONE}"},
                "employee_uuid": "20240601-0000-4000-8000-0000000e0001", "payment_method": "card",
                "positions": [{"uuid": f"${{UUID}}-{k + 1}", "product_id": EVOTOR_PRODUCTS[k], "name": name,
                               "price": price, "quantity": qty, "groups": groups}
                              for k, (_pid, name, price, qty, groups) in enumerate(BASKET[:n_lines])]}
        if spend is not None:
            body["spend_bonuses"] = spend
        return body
    # As the core's: half earn only, a quarter spend the most allowed, a quarter 50 roubles.
    return [receipt(None, 5), receipt(None, 3), receipt("max", 4), receipt(50, 5)]


def evotor_commits(ctx: Context, limit: int) -> list[str]:
    """One RECEIPT_CLOSED per receipt still open after its quote, oldest first: the receipt's
    uuid and the `extra` the quote answered (rebuilt from the row the quote saved — the same
    fields, as in evotor.mapping.render_quote), as the terminal app sends them."""
    import psycopg

    from evotor.common import rub_json
    with psycopg.connect(ctx.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT receipt_uuid, customer_id, hold_id, spend FROM evotor_receipts "
            "WHERE tenant_id = %s AND status = 'quoted' AND customer_id IS NOT NULL "
            "ORDER BY created_at, receipt_uuid LIMIT %s", (ctx.tenant_id, limit)).fetchall()
    return [json.dumps({"receipt_uuid": uid, "payment_method": "card",
                        "extra": {"kopilka": {"v": 1, "receipt_uuid": uid, "customer_id": customer,
                                              "hold_id": hold, "bonus_spent": rub_json(int(spend or 0))}}},
                       ensure_ascii=False)
            for uid, customer, hold, spend in rows]


def with_promotions(ctx: Context, call: Callable) -> Callable[[], None]:
    """bench/promotions.py's 50 promotions, active for the scenario and deleted after it."""
    from bench.promotions import promotions_wire
    ids = []
    for p in promotions_wire():
        status, answer = call("POST", "/api/v1/promotions", p, _bearer(ctx))
        if status != 201:
            raise RuntimeError(f"POST /api/v1/promotions: {status} {answer}")
        ids.append(answer["id"])

    def undo() -> None:
        for pid in ids:
            status, answer = call("DELETE", f"/api/v1/promotions/{pid}", None, _bearer(ctx))
            if status not in (200, 204):
                raise RuntimeError(f"DELETE /api/v1/promotions/{pid}: {status} {answer}")
    return undo


def scenarios() -> list[Scenario]:
    """The benchmark's scenarios, in the order they run. Adapters add theirs here."""
    return [
        Scenario("health", "GET", "/health", {}),
        Scenario("calculate", "POST", "/api/v1/receipts/calculate", _bearer, core_receipts),
        Scenario("commit", "POST", "/api/v1/receipts", _bearer, core_receipts, ok=(201,)),
        Scenario("recalc", "POST", _ms_path("/retaildemand/recalc"), _ms_headers, ms_recalc),
        Scenario("retaildemand", "POST", _ms_path("/retaildemand"), _ms_headers, ms_retaildemand,
                 ok=(201,)),
        Scenario("evotor-quote", "POST", "/evotor/app/v1/receipts/quote", _evotor_headers, evotor_quotes,
                 ok=(200,)),
        Scenario("evotor-commit", "POST", "/evotor/app/v1/receipts/commit", _evotor_headers,
                 feed=evotor_commits, needs="evotor-quote", ok=(200,)),
        # Issue 12's aim: calculate with 50 active promotions ÷ calculate with none.
        Scenario("calculate-promo", "POST", "/api/v1/receipts/calculate", _bearer, core_receipts,
                 around=with_promotions),
    ]


@dataclass(frozen=True)
class Target:
    label: str
    num: str                 # figure key: "rps:calculate", "pgbench_tps", "p99_ms", "rss_mb"
    den: str | None          # None: an absolute figure
    op: str                  # ">=" or "<="
    value: float
    text: str


TARGETS = [
    Target("calculate ÷ health", "rps:calculate", "rps:health", ">=", 0.50, "≥ 50%"),
    Target("commit ÷ pgbench TPS", "rps:commit", "pgbench_tps", ">=", 0.20, "≥ 20%"),
    Target("recalc ÷ calculate", "rps:recalc", "rps:calculate", ">=", 0.80, "≥ 80%"),
    Target("retaildemand ÷ commit", "rps:retaildemand", "rps:commit", ">=", 0.80, "≥ 80%"),
    Target("calculate p99 at half peak, ms", "fixed_p99_ms", None, "<=", 25.0, "≤ 25 ms"),
    Target("calculate-promo ÷ calculate", "rps:calculate-promo", "rps:calculate", ">=",
           0.80, "≥ 80%"),
    Target("largest worker RSS, MB", "rss_max_mb", None, "<=", 150.0, "< 150 MB"),
]


# Reported side by side, without an aim: an adapter's call against the core call it wraps.
COMPARISONS = [("evotor-quote", "calculate"), ("evotor-commit", "commit")]


def comparisons(res: dict) -> list[dict]:
    out = []
    for name, base in COMPARISONS:
        a, b = res["scenarios"].get(name), res["scenarios"].get(base)
        if not a or not b:
            continue
        out.append({"scenario": name, "core": base, "rps": a["rps"], "core_rps": b["rps"],
                    "rps_ratio": round(a["rps"] / b["rps"], 3) if b["rps"] else None,
                    "p99_ms": a["latency_ms"]["p99"], "core_p99_ms": b["latency_ms"]["p99"],
                    "p99_ratio": (round(a["latency_ms"]["p99"] / b["latency_ms"]["p99"], 2)
                                  if b["latency_ms"]["p99"] else None)})
    return out


def render(template: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


# --- processes and clean-up --------------------------------------------------------------------

class Cleanup:
    """Everything to undo, run once at the end, on failure or on a signal."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, Callable[[], None]]] = []
        self.done = False

    def add(self, what: str, fn: Callable[[], None]) -> None:
        self.actions.append((what, fn))

    def run(self) -> None:
        if self.done:
            return
        self.done = True
        for what, fn in reversed(self.actions):
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - an unreadable URL is shown as "?"
                print(f"  clean-up failed ({what}): {exc}", file=sys.stderr)


CLEANUP = Cleanup()


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def pg_url(name: str) -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def admin_execute(sql: str) -> None:
    import psycopg
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(sql)


def create_database(name: str) -> None:
    admin_execute(f'CREATE DATABASE "{name}"')
    CLEANUP.add(f"drop {name}", lambda: admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def proc_children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def proc_rss_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in kB."""
    rss = pss = 0
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


CLK = os.sysconf("SC_CLK_TCK")


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            out[pid] = (int(parts[11]) + int(parts[12])) / CLK     # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return out


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings, process by process: one that exited in between (an
    autovacuum worker, a backend of a closed connection) drops out of both sides instead of
    making the difference negative; one that started counts from zero."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def postgres_pids() -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == "postgres":
                        out.append(int(entry))
            except OSError:
                pass
    return out


class Hub:
    """gunicorn serving hub.app:create_app() on a free local port."""

    def __init__(self, database_url: str, workers: int, worker_class: str, threads: int, logdir: Path,
                 extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = logdir / "gunicorn.log"
        env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), **(extra_env or {})}
        env.pop("REDIS_URL", None)
        env.pop("SQL_ECHO", None)
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{self.port}",
               "--workers", str(workers), "--worker-class", worker_class,
               "--log-level", "warning", "--error-logfile", str(self.log_path)]
        if worker_class == "gthread":
            cmd += ["--threads", str(threads)]
        cmd.append("hub.app:create_app()")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        CLEANUP.add("stop gunicorn", self.stop)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200 and len(self.workers()) >= workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer /health in 60 s:\n{self.log_tail()}")

    def workers(self) -> list[int]:
        return proc_children(self.proc.pid)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()                 # the master stops its workers gracefully
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in self.workers():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.kill()
            self.proc.wait(timeout=10)


# --- set-up and loading ------------------------------------------------------------------------

def setup_tenant(app, ctx: Context) -> None:
    """The tenant, its program, a МойСклад connection and the Evotor user, through the services
    and the API (Evotor's: the cloud webhook /user/verify with the app token)."""
    from hub.extensions import db
    from hub.tenants.operations import create_tenant
    tenant, key = create_tenant(db.session, "Бенчмарк: сеть кофеен")
    db.session.commit()
    ctx.tenant_id, ctx.api_key = tenant.id, key
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}"}
    r = client.put("/api/v1/program", json=PROGRAM, headers=auth)
    if r.status_code != 200:
        raise RuntimeError(f"PUT /api/v1/program: {r.status_code} {r.get_data(as_text=True)}")
    r = client.post("/api/v1/connections", headers=auth, json={
        "kind": "moysklad", "external_account": MS_ACCOUNT, "name": "МойСклад (бенчмарк)"})
    if r.status_code != 201:
        raise RuntimeError(f"POST /api/v1/connections: {r.status_code} {r.get_data(as_text=True)}")
    ctx.connection_id, ctx.ms_token = r.get_json()["id"], r.get_json()["inbound_token"]

    def post(path: str, body: dict, headers: dict) -> tuple[int, dict]:
        resp = client.post(path, json=body, headers=headers)
        return resp.status_code, resp.get_json(silent=True) or {}
    ctx.evotor_token = link_evotor(ctx, post)
    db.session.remove()


def link_evotor(ctx: Context, post: Callable[[str, dict, dict], tuple[int, dict]]) -> str:
    """Links the Evotor user to the tenant as an install does: Evotor's cloud calls
    /evotor/api/v1/user/verify with the app token and the tenant's API key as the password;
    the answer's user token is what the terminal app then sends. A repeat answers the same
    token (the handler is idempotent)."""
    status, answer = post("/evotor/api/v1/user/verify",
                          {"userId": EVOTOR_USER, "username": "bench-owner", "password": ctx.api_key},
                          {"Authorization": f"Bearer {ctx.evotor_app_token}"})
    if status != 200 or not answer.get("token"):
        raise RuntimeError(f"POST /evotor/api/v1/user/verify: {status} {answer}")
    return answer["token"]


def http_call(base_url: str) -> Callable[[str, str, dict | None, dict], tuple[int, dict]]:
    def call(method: str, path: str, body: dict | None, headers: dict) -> tuple[int, dict]:
        host, port = base_url.split("//", 1)[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body, ensure_ascii=False).encode(),
                         headers={**headers, "Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
            try:
                return resp.status, json.loads(raw or b"null") or {}
            except ValueError:
                return resp.status, {"raw": raw[:300].decode(errors="replace")}
        finally:
            conn.close()
    return call


def http_post_json(base_url: str) -> Callable[[str, dict, dict], tuple[int, dict]]:
    call = http_call(base_url)
    return lambda path, body, headers: call("POST", path, body, headers)


def client_call(client) -> Callable[[str, str, dict | None, dict], tuple[int, dict]]:
    def call(method: str, path: str, body: dict | None, headers: dict) -> tuple[int, dict]:
        resp = client.open(path, method=method, json=body, headers=headers)
        return resp.status_code, resp.get_json(silent=True) or {}
    return call


def load_customers(engine, ctx: Context, count: int, workdir: Path, seed: int) -> dict:
    """Customers with their accounts and starting bonuses, straight into the real tables:
    each has a welcome gift lot and 40% also a lot from an earlier purchase, each lot with the
    posting that created it, and the account's cached balance equal to both sums."""
    from hub.ledger.models import Account, Lot, Posting
    from hub.customers.models import Customer
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    tid = ctx.tenant_id
    batch = 10_000
    lines = []
    started = time.time()
    totals = {"customers": 0, "lots": 0, "bonuses_kopecks": 0}
    with engine.begin() as conn:
        for start in range(0, count, batch):
            customers, accounts, postings, lots = [], [], [], []
            for i in range(start, min(start + batch, count)):
                cid, aid = str(uuid.uuid4()), str(uuid.uuid4())
                total = int(rng.choice((rng.uniform(0, 9_999), rng.uniform(0, 9_999), rng.uniform(0, 9_999),
                                        rng.uniform(10_000, 49_999), rng.uniform(50_000, 200_000))) * 100)
                level = next(code for threshold, code in LEVELS_KOPECKS if total >= threshold)
                created = now - timedelta(days=rng.randint(30, 900))
                purchases = max(1, total // 120_000) if total else 0
                card = card_of(i) if i % 2 == 0 else None
                customers.append({
                    "id": cid, "tenant_id": tid, "phone": phone_of(i), "card_number": card,
                    "first_name": rng.choice(FIRST), "last_name": rng.choice(LAST),
                    "gender": rng.choice(("female", "male", None)),
                    "tags": [], "relatives": [], "source": "import",
                    "consents": {"sms": {"given": True, "at": created.isoformat(), "source": "import"},
                                 "personal_data": {"given": True, "at": created.isoformat(), "source": "import"}},
                    "level_code": level, "total_purchases": total, "purchase_count": purchases,
                    "last_purchase_at": now - timedelta(days=rng.randint(1, 29)) if purchases else None,
                    "created_at": created})
                balance = 0
                grants = [("gift", "gift", rng.randint(500, 3000) * 100, created,
                           now + timedelta(days=rng.randint(30, 180)))]
                if purchases and rng.random() < 0.4:
                    moment = now - timedelta(days=rng.randint(2, 29))
                    grants.append(("accrual", "purchase", rng.randint(10, 500) * 100, moment,
                                   moment + timedelta(days=180)))
                for posting_kind, lot_kind, amount, moment, expires in grants:
                    pid = str(uuid.uuid4())
                    postings.append({"id": pid, "tenant_id": tid, "account_id": aid, "kind": posting_kind,
                                     "amount": amount, "moment": moment, "receipt_id": None,
                                     "return_id": None, "reason": "бенчмарк: начальные бонусы",
                                     "meta": {}, "created_at": moment})
                    lots.append({"id": str(uuid.uuid4()), "tenant_id": tid, "account_id": aid,
                                 "posting_id": pid, "kind": lot_kind, "amount": amount,
                                 "remaining": amount, "active_from": moment, "expires_at": expires,
                                 "follows_purchases": False, "created_at": moment})
                    balance += amount
                accounts.append({"id": aid, "tenant_id": tid, "customer_id": cid, "balance": balance,
                                 "version": 1, "created_at": created})
                lines.append(f"{phone_of(i)} {cid} {card or '-'}")
                totals["bonuses_kopecks"] += balance
            conn.execute(Customer.__table__.insert(), customers)
            conn.execute(Account.__table__.insert(), accounts)
            conn.execute(Posting.__table__.insert(), postings)
            conn.execute(Lot.__table__.insert(), lots)
            totals["customers"] += len(customers)
            totals["lots"] += len(lots)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        from sqlalchemy import text
        conn.execute(text("VACUUM ANALYZE"))
    path = workdir / "customers.txt"
    path.write_text("\n".join(lines) + "\n")
    ctx.customers_file = str(path)
    totals["seconds"] = round(time.time() - started, 1)
    return totals


def customer_values(rng: random.Random, customers: list[tuple[str, str, str]], seq: int,
                    nonce: int) -> dict[str, str]:
    phone, cid, card = customers[rng.randrange(len(customers))]
    return {"PHONE": phone, "CUSTOMER_ID": cid, "CARD": card, "UID": f"{nonce:x}-py-{seq}",
            "UUID": f"{nonce:08x}-ffff-4000-8000-{seq:012x}"}


def read_customers(path: str) -> list[tuple[str, str, str]]:
    with open(path) as fh:
        return [tuple(line.split()) for line in fh if line.strip()]  # type: ignore[misc]


def sql_profile(app, ctx: Context, scen: list[Scenario], n: int, seed: int,
                cprofile_dir: Path | None = None) -> dict:
    """Statements and single-request time per scenario, in process (the Flask test client);
    with `cprofile_dir`, a cProfile of each scenario's measured requests too."""
    import cProfile
    from sqlalchemy import event

    from hub.extensions import db
    counter = {"n": 0}
    last: list[str] = []

    def count(_conn, _cursor, statement, *_a, **_k):
        counter["n"] += 1
        last.append(" ".join(statement.split())[:160])
    event.listen(db.engine, "before_cursor_execute", count)
    customers = read_customers(ctx.customers_file)
    rng = random.Random(seed)
    nonce = rng.getrandbits(32)
    client = app.test_client()
    out = {}
    seq = 0
    try:
        for sc in scen:
            undo = sc.around(ctx, client_call(client)) if sc.around else None
            path, headers, bodies = sc.resolve(ctx)
            feed = sc.feed(ctx, n + 3) if sc.feed else None
            if feed is not None and len(feed) < n + 3:
                raise RuntimeError(f"scenario {sc.name}: {len(feed)} bodies in its feed, {n + 3} needed "
                                   f"(run {sc.needs} first)")
            stmts, times, bad = [], [], []
            # CPU time, not wall time: what a worker spends of the machine's cores per request.
            prof = cProfile.Profile(time.thread_time) if cprofile_dir else None
            cpu = []
            for k in range(n + 3):
                seq += 1
                values = customer_values(rng, customers, seq, nonce)
                body = feed[k] if feed is not None else render(rng.choice(bodies), values) if bodies else None
                counter["n"] = 0
                last.clear()
                if prof and k >= 3:
                    prof.enable()
                t0, c0 = time.perf_counter(), time.thread_time()
                r = client.open(path, method=sc.method, data=body, headers=headers)
                dt, dc = time.perf_counter() - t0, time.thread_time() - c0
                if prof and k >= 3:
                    prof.disable()
                if r.status_code not in sc.ok:
                    bad.append(f"{r.status_code} {r.get_data(as_text=True)[:300]}")
                if k >= 3:          # the first few warm caches up
                    stmts.append(counter["n"])
                    times.append(dt)
                    cpu.append(dc)
            out[sc.name] = {"sql_per_request": round(sum(stmts) / len(stmts), 1),
                            "sql_min": min(stmts), "sql_max": max(stmts),
                            "inprocess_ms": round(1000 * sorted(times)[len(times) // 2], 2),
                            "inprocess_cpu_ms": round(1000 * sorted(cpu)[len(cpu) // 2], 2),
                            "errors": bad[:3], "error_count": len(bad),
                            "statements_of_last_request": list(last)}
            if prof:
                dump = cprofile_dir / f"{sc.name}.pstats"
                prof.dump_stats(str(dump))
                out[sc.name]["cprofile"] = cprofile_top(dump, n)
            if undo is not None:
                undo()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        db.session.remove()
    return out


def cprofile_top(dump: Path, requests: int, top: int = 30) -> dict:
    """CPU ms per request by function (cumulative and own) from a pstats dump."""
    import pstats
    stats = pstats.Stats(str(dump))
    rows = []
    for (file, line, fn), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        rows.append((f"{fn} ({short}:{line})", 1000 * ct / requests, 1000 * tt / requests, short))
    total = max((r[1] for r in rows), default=0)
    ours = [r for r in rows if r[3].split("/", 1)[0] in PROJECT or "flask_smorest" in r[3]
            or "webargs" in r[3] or r[3].startswith("marshmallow/schema")]
    return {"total_ms": round(total, 2),
            "cumulative_ms": [(r[0], round(r[1], 2)) for r in sorted(ours, key=lambda r: -r[1])[:top]],
            "own_ms": [(r[0], round(r[2], 3)) for r in sorted(rows, key=lambda r: -r[2])[:top]],
            "file": str(dump)}


# --- load generation -------------------------------------------------------------------------------

LUA = r"""
-- generated by bench/pos.py for one scenario
local CFG = %(cfg)s

local threads, next_tid = {}, 0
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

local phones, ids, cards, n, counter = {}, {}, {}, 0, 0
local feed, fed = {}, 0
function init(args)
  if CFG.feed ~= "" then
    -- this thread's share of the feed: lines tid, tid + threads, ...; each sent once
    local k = 0
    for line in io.lines(CFG.feed) do
      if k %% CFG.threads == tid - 1 then feed[#feed + 1] = line end
      k = k + 1
    end
  end
  if CFG.customers ~= "" then
    for line in io.lines(CFG.customers) do
      local p, id, card = line:match("^(%%S+)%%s+(%%S+)%%s+(%%S+)")
      if p then n = n + 1; phones[n] = p; ids[n] = id; cards[n] = card end
    end
  end
  math.randomseed(CFG.seed + tid * 7919)
  statuses = {}
  sample = ""
end

function request()
  counter = counter + 1
  local body = nil
  if CFG.feed ~= "" then
    fed = fed + 1
    body = feed[fed] or CFG.exhausted   -- an exhausted feed shows as non-2xx, not as fast answers
  elseif #CFG.bodies > 0 then
    local i = math.random(n)
    local vars = {PHONE = phones[i], CUSTOMER_ID = ids[i], CARD = cards[i],
                  UID = string.format("%%x-%%d-%%d", CFG.nonce, tid, counter),
                  UUID = string.format("%%08x-%%04x-4000-8000-%%012x", CFG.nonce, tid, counter)}
    body = (CFG.bodies[math.random(#CFG.bodies)]:gsub("%%${([%%w_]+)}", vars))
  end
  return wrk.format(CFG.method, CFG.path, CFG.headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if sample == "" and not CFG.ok[status] then
    sample = tostring(status) .. " " .. string.sub(body or "", 1, 300)
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local st = t:get("statuses") or {}
    for k, v in pairs(st) do total[k] = (total[k] or 0) + v end
    local s = t:get("sample")
    if s and s ~= "" then
      local f = io.open(CFG.sample_file, "w"); f:write(s); f:close()
    end
  end
  local e = summary.errors
  io.write(string.format("BENCH requests=%%d duration_us=%%d p50_us=%%d p90_us=%%d p99_us=%%d mean_us=%%d connect=%%d read=%%d write=%%d status=%%d timeout=%%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
  for k, v in pairs(total) do io.write(string.format("BENCHSTATUS %%d %%d\n", k, v)) end
end
"""


def lua_str(s: str) -> str:
    eq = "=" * 3
    while f"]{eq}]" in s:
        eq += "="
    return f"[{eq}[{s}]{eq}]"


def lua_table(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"[ {lua_table(k)} ] = {lua_table(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua_table(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return lua_str(str(value))


def run_wrk(hub: Hub, sc: Scenario, ctx: Context, *, seconds: int, threads: int, connections: int,
            workdir: Path, seed: int, profile_dir: Path | None = None, feed_limit: int = 200_000) -> dict:
    path, headers, bodies = sc.resolve(ctx)
    nonce = random.Random(seed).getrandbits(31)
    sample_file = workdir / f"{sc.name}.sample.txt"
    feed_file, fed = "", None
    if sc.feed is not None:
        feed = sc.feed(ctx, feed_limit)
        fed = len(feed)
        feed_file = workdir / f"{sc.name}.feed.jsonl"
        feed_file.write_text("".join(line + "\n" for line in feed))
    cfg = {"method": sc.method, "path": path, "headers": headers, "bodies": bodies,
           "customers": ctx.customers_file if bodies else "", "seed": seed, "nonce": nonce,
           "ok": {code: True for code in sc.ok}, "sample_file": str(sample_file),
           "feed": str(feed_file), "threads": threads,
           "exhausted": json.dumps({"receipt_uuid": "bench-feed-exhausted"})}
    script = workdir / f"{sc.name}.lua"
    script.write_text(LUA % {"cfg": lua_table(cfg)})
    conns = sc.connections or connections
    cmd = ["wrk", "-t", str(threads), "-c", str(max(conns, threads)), "-d", f"{seconds}s",
           "--timeout", "10s", "-s", str(script), hub.url]
    workers = hub.workers()
    pg = postgres_pids()
    spy = None
    if profile_dir is not None:
        raw = profile_dir / f"{sc.name}.pyspy.txt"
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(hub.proc.pid), "--subprocesses",
                                "--format", "raw", "--rate", "250", "--nonblocking",
                                "--duration", str(seconds), "--output", str(raw)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)     # py-spy attaches
    cpu0, pg0, t0 = cpu_by_pid(workers), cpu_by_pid(pg), time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    wall = time.time() - t0
    if spy is not None:
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.terminate()
    cpu1, pg1 = cpu_by_pid(workers), cpu_by_pid(pg + [p for p in postgres_pids() if p not in pg])
    hub_cpu, pg_cpu = cpu_spent(cpu0, cpu1), cpu_spent(pg0, pg1)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr}\n{out.stdout}")
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    stats = {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    statuses = {int(a): int(b) for a, b in (ln.split()[1:] for ln in out.stdout.splitlines()
                                            if ln.startswith("BENCHSTATUS "))}
    requests = stats["requests"]
    rps = requests / (stats["duration_us"] / 1e6)
    bad = sum(v for k, v in statuses.items() if k not in sc.ok)
    sockets = stats["connect"] + stats["read"] + stats["write"] + stats["timeout"]
    return {
        "rps": round(rps, 1), "requests": requests, "seconds": round(stats["duration_us"] / 1e6, 2),
        "latency_ms": {"p50": stats["p50_us"] / 1000, "p90": stats["p90_us"] / 1000,
                       "p99": stats["p99_us"] / 1000, "mean": round(stats["mean_us"] / 1000, 2)},
        "statuses": statuses, "bad_responses": bad, "socket_errors": sockets,
        "error_sample": sample_file.read_text()[:300] if sample_file.exists() else None,
        "hub_cpu_ms_per_request": round(1000 * hub_cpu / max(requests, 1), 2),
        "pg_cpu_ms_per_request": round(1000 * pg_cpu / max(requests, 1), 2),
        "hub_cpu_share": round(hub_cpu / wall, 2), "pg_cpu_share": round(pg_cpu / wall, 2),
        "connections": max(conns, threads), "loadavg_after": loadavg(), "feed_bodies": fed,
        "profile": summarize_pyspy(profile_dir / f"{sc.name}.pyspy.txt") if profile_dir else None,
    }


FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^:()]*)(?::(?P<line>\d+))?\)$")
PROJECT = ("hub", "api", "moysklad", "connectors", "evotor", "onec")


def _area(path: str) -> str:
    """py-spy names files relative to their sys.path entry: the first part is the package."""
    path = path.split("site-packages/")[-1]
    head = path.split("/", 1)[0]
    return ("kopilka:" + head) if head in PROJECT else (head or "?")


def summarize_pyspy(path: Path, top: int = 25) -> dict | None:
    """Where the workers' CPU goes, from py-spy's raw (collapsed) stacks of all workers
    (recorded without --idle: threads blocked on a socket are not sampled), counting samples
    inside gunicorn's handle_request only."""
    if not path.exists():
        return None
    total = 0
    inclusive: dict[str, int] = {}
    self_time: dict[str, int] = {}
    areas: dict[str, int] = {}
    waiting = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        frames = [f for f in frames if not f.startswith("process ")]
        if not any("handle_request (" in f for f in frames):
            continue            # an idle worker waiting for a connection
        total += n
        names = []
        for f in frames:
            m = FRAME.match(f.strip())
            fn, file, ln = (m.group("fn"), m.group("file"), m.group("line")) if m else (f, "", None)
            short = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
            names.append((f"{fn} ({short})", file))
        for name in {nm for nm, _ in names}:
            inclusive[name] = inclusive.get(name, 0) + n
        leaf, leaf_file = names[-1]
        self_time[leaf] = self_time.get(leaf, 0) + n
        area = _area(leaf_file)
        if "psycopg" in leaf_file and any(k in leaf for k in ("wait", "recv", "poll", "select")):
            area = "psycopg I/O"
            waiting += n
        areas[area] = areas.get(area, 0) + n
    if not total:
        return None
    pct = lambda d: [(k, round(100 * v / total, 1)) for k, v in sorted(d.items(), key=lambda kv: -kv[1])]
    interesting = [(k, v) for k, v in pct(inclusive)
                   if any(f"({p}/" in k for p in PROJECT) or "(marshmallow/" in k or "(webargs/" in k
                   or "(flask_smorest/" in k or "psycopg" in k or "Session.commit" in k
                   or "Session.execute" in k or "Session.flush" in k or "Pool" in k]
    return {"samples": total, "psycopg_io_pct": round(100 * waiting / total, 1),
            "by_area_pct": pct(areas)[:15], "self_pct": pct(self_time)[:top],
            "inclusive_pct": interesting[:top * 2], "raw_file": str(path)}


def top_up(hub: Hub, sc: Scenario, ctx: Context, count: int, *, threads: int, seed: int) -> dict:
    """`count` requests of `sc` as fast as `threads` closed-loop clients go (not measured):
    more quoted receipts when a commit run would otherwise run out of them."""
    path, headers, bodies = sc.resolve(ctx)
    customers = read_customers(ctx.customers_file)
    rng = random.Random(seed)
    nonce = rng.getrandbits(32)
    payloads = [render(rng.choice(bodies), customer_values(rng, customers, seq, nonce)).encode()
                for seq in range(count)]
    lock = threading.Lock()
    state = {"next": 0, "statuses": {}}

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, hub.port, timeout=10)
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= count:
                break
            try:
                conn.request(sc.method, path, body=payloads[i], headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            with lock:
                state["statuses"][status] = state["statuses"].get(status, 0) + 1
        conn.close()

    t0 = time.time()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for w in pool:
        w.start()
    for w in pool:
        w.join(timeout=300)
    return {"requests": count, "statuses": state["statuses"], "seconds": round(time.time() - t0, 1)}


def fixed_rate(hub: Hub, sc: Scenario, ctx: Context, *, rate: float, seconds: float, warmup: float,
               threads: int, seed: int) -> dict:
    """Requests sent on a fixed schedule (open loop); latency counted from the moment each
    request was due, so a stalled server cannot hide its queue (what wrk2 does)."""
    path, headers, bodies = sc.resolve(ctx)
    customers = read_customers(ctx.customers_file) if bodies else []
    rng = random.Random(seed)
    nonce = rng.getrandbits(32)
    payloads = []
    n_total = int(rate * (seconds + warmup)) + 1
    for seq in range(n_total):       # bodies made beforehand: the loop only sends
        body = render(rng.choice(bodies), customer_values(rng, customers, seq, nonce)) if bodies else None
        payloads.append(body.encode() if body else None)
    lock = threading.Lock()
    state = {"next": 0}
    results: list[tuple[float, float, float, int]] = []   # (due, from-due, service, status)
    start = time.perf_counter() + 0.2
    interval = 1.0 / rate

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, hub.port, timeout=10)
        local = []
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= n_total:
                break
            due = start + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t0 = time.perf_counter()
            try:
                conn.request(sc.method, path, body=payloads[i], headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            t1 = time.perf_counter()
            local.append((due - start, t1 - due, t1 - t0, status))
        with lock:
            results.extend(local)
        conn.close()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=seconds + warmup + 60)
    measured = [r for r in results if r[0] >= warmup]
    if not measured:
        raise RuntimeError("the fixed-rate run measured nothing")
    corrected = sorted(r[1] for r in measured)
    service = sorted(r[2] for r in measured)

    def pct(xs: list[float], p: float) -> float:
        return round(1000 * xs[min(len(xs) - 1, int(len(xs) * p / 100))], 2)
    span = max(r[0] for r in measured) - min(r[0] for r in measured)
    return {"scenario": sc.name, "target_rate": round(rate, 1), "seconds": seconds,
            "requests": len(measured), "achieved_rate": round(len(measured) / span, 1) if span else None,
            "p50_ms": pct(corrected, 50), "p90_ms": pct(corrected, 90), "p99_ms": pct(corrected, 99),
            "max_ms": round(1000 * corrected[-1], 2),
            "service_p50_ms": pct(service, 50), "service_p99_ms": pct(service, 99),
            "bad_responses": sum(1 for r in measured if r[3] not in sc.ok), "client_threads": threads}


def run_pgbench(db: str, scale: int, clients: int, jobs: int, seconds: int) -> dict:
    env = {**os.environ, "PGHOST": PG_HOST, "PGPORT": str(PG_PORT), "PGUSER": PG_USER}
    init = subprocess.run(["pgbench", "-i", "-q", "-s", str(scale), db], capture_output=True,
                          text=True, env=env, timeout=600)
    if init.returncode != 0:
        raise RuntimeError(f"pgbench -i failed: {init.stderr}")
    run = subprocess.run(["pgbench", "-c", str(clients), "-j", str(jobs), "-T", str(seconds), db],
                         capture_output=True, text=True, env=env, timeout=seconds + 120)
    if run.returncode != 0:
        raise RuntimeError(f"pgbench failed: {run.stderr}\n{run.stdout}")
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", run.stdout)
    lat = re.search(r"latency average = ([\d.]+) ms", run.stdout)
    if not tps:
        raise RuntimeError(f"no tps in pgbench output:\n{run.stdout}")
    return {"tps": round(float(tps.group(1)), 1), "latency_avg_ms": float(lat.group(1)) if lat else None,
            "scale": scale, "clients": clients, "jobs": jobs, "seconds": seconds,
            "loadavg_after": loadavg()}


# --- report ------------------------------------------------------------------------------------------

def figure(res: dict, key: str) -> float | None:
    if key.startswith("rps:"):
        sc = res["scenarios"].get(key[4:])
        return sc["rps"] if sc else None
    if key == "pgbench_tps":
        return (res.get("pgbench") or {}).get("tps")
    if key == "fixed_p99_ms":
        return (res.get("fixed_rate") or {}).get("p99_ms")
    if key == "rss_max_mb":
        return (res.get("rss") or {}).get("max_rss_mb")
    return None


def check_targets(res: dict) -> list[dict]:
    out = []
    for t in TARGETS:
        num = figure(res, t.num)
        den = figure(res, t.den) if t.den else 1.0
        if num is None or not den:
            out.append({"label": t.label, "value": None, "target": t.text, "ok": None})
            continue
        value = num / den
        ok = value >= t.value if t.op == ">=" else value <= t.value
        out.append({"label": t.label, "value": round(value, 3), "target": t.text, "ok": ok,
                    "percent": t.den is not None})
    return out


def print_report(res: dict) -> None:
    env = res["environment"]
    print()
    if env.get("profiled"):
        print("\nNOTE: profiled run (py-spy attached): the figures carry its overhead")
    print(f"Kopilka POS benchmark — {env['started']}, {env['cpus']} CPUs, load before "
          f"{env['loadavg_before']}, after {env.get('loadavg_after', '?')}")
    print(f"  {res['load']['customers']:,} customers loaded in {res['load']['seconds']} s; gunicorn "
          f"{env['workers']} {env['worker_class']} workers; wrk -t{env['wrk_threads']} "
          f"-c{env['wrk_connections']} -d{env['wrk_seconds']}s per scenario")
    print()
    head = (f"{'scenario':<14}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>8}{'SQL/req':>9}"
            f"{'1-req ms':>10}{'1-req CPU':>10}{'hub CPU ms/req':>16}{'PG CPU ms/req':>15}")
    print(head)
    print("-" * len(head))
    for name, sc in res["scenarios"].items():
        prof = res.get("sql_profile", {}).get(name, {})
        print(f"{name:<14}{sc['rps']:>9.1f}{sc['latency_ms']['p50']:>9.1f}{sc['latency_ms']['p99']:>9.1f}"
              f"{sc['bad_responses'] + sc['socket_errors']:>8}{prof.get('sql_per_request', '-'):>9}"
              f"{prof.get('inprocess_ms', '-'):>10}{prof.get('inprocess_cpu_ms', '-'):>10}{sc['hub_cpu_ms_per_request']:>16.2f}"
              f"{sc['pg_cpu_ms_per_request']:>15.2f}")
    cmp = res.get("comparisons") or []
    if cmp:
        print()
        for c in cmp:
            share = f"{100 * c['rps_ratio']:.0f}%" if c["rps_ratio"] is not None else "n/a"
            times = f" ({c['p99_ratio']:.2f}×)" if c["p99_ratio"] is not None else ""
            print(f"{c['scenario'] + ' ÷ ' + c['core']:<28}req/s {c['rps']:>7.1f} ÷ {c['core_rps']:>7.1f} = "
                  f"{share:>4}   p99 {c['p99_ms']:.1f} vs {c['core_p99_ms']:.1f} ms{times}")
    pg = res.get("pgbench")
    if pg:
        print(f"{'pgbench TPS':<14}{pg['tps']:>9.1f}   (TPC-B-like, -s {pg['scale']} -c {pg['clients']} "
              f"-j {pg['jobs']} -T {pg['seconds']}, avg latency {pg['latency_avg_ms']} ms)")
    fr = res.get("fixed_rate")
    if fr:
        print()
        print(f"{fr['scenario']} at a fixed {fr['target_rate']} req/s (half its peak) for {fr['seconds']} s, "
              f"{fr['requests']} requests, achieved {fr['achieved_rate']} req/s, {fr['bad_responses']} bad:")
        print(f"  latency from due time: p50 {fr['p50_ms']} ms, p90 {fr['p90_ms']} ms, p99 {fr['p99_ms']} ms, "
              f"max {fr['max_ms']} ms (service time p50 {fr['service_p50_ms']} ms, p99 {fr['service_p99_ms']} ms)")
    rss = res.get("rss")
    if rss:
        print(f"gunicorn workers' RSS after the load: "
              f"{', '.join(f'{x:.1f}' for x in rss['workers_rss_mb'])} MB "
              f"(PSS {', '.join(f'{x:.1f}' for x in rss['workers_pss_mb'])} MB)")
    print()
    print(f"{'target':<34}{'figure':>10}  {'aim':<10}result")
    print("-" * 62)
    for t in res["targets"]:
        if t["value"] is None:
            shown, verdict = "n/a", "not measured"
        else:
            shown = f"{100 * t['value']:.0f}%" if t["percent"] else f"{t['value']:.1f}"
            verdict = "OK" if t["ok"] else "MISSED"
        print(f"{t['label']:<34}{shown:>10}  {t['target']:<10}{verdict}")
    if res.get("ledger"):
        print(f"\nledger check: {res['ledger']}")
    problems = [f"{n}: {sc['bad_responses']} bad responses, {sc['socket_errors']} socket errors; e.g. {sc['error_sample']}"
                for n, sc in res["scenarios"].items() if sc["bad_responses"] or sc["socket_errors"]]
    for p in problems:
        print(f"WARNING {p}")
    for name, sc in res["scenarios"].items():
        prof = sc.get("profile")
        if not prof:
            continue
        print(f"\npy-spy (CPU samples), {name}: {prof['samples']} samples inside requests; "
              f"{prof['psycopg_io_pct']}% in psycopg socket calls")
        print("  by area: " + ", ".join(f"{a} {v}%" for a, v in prof["by_area_pct"][:8]))
        print("  inclusive (project and main libraries):")
        for fn, v in prof["inclusive_pct"][:18]:
            print(f"    {v:5.1f}%  {fn}")
        print("  self:")
        for fn, v in prof["self_pct"][:10]:
            print(f"    {v:5.1f}%  {fn}")


# --- main --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    # Outside SQLite the hub wants its secrets set explicitly: a throwaway pair for this run,
    # in the environment of the set-up and of gunicorn alike.
    from cryptography.fernet import Fernet
    os.environ.setdefault("KOPILKA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    os.environ.setdefault("SECRET_KEY", os.urandom(24).hex())
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: 5,000 customers, 4 s per scenario")
    ap.add_argument("--customers", type=int, help="customers to load (default 100000; quick 5000)")
    ap.add_argument("--seconds", type=int, help="wrk duration per scenario (default 15; quick 4)")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    ap.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    ap.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=6, help="wrk connections (default 6)")
    ap.add_argument("--fixed-seconds", type=int, help="fixed-rate measurement (default 20; quick 5)")
    ap.add_argument("--pgbench-seconds", type=int, help="pgbench -T (default 15; quick 5)")
    ap.add_argument("--pgbench-scale", type=int, default=10)
    ap.add_argument("--only", help="comma-separated scenario names to run (health always runs)")
    ap.add_argument("--skip-pgbench", action="store_true")
    ap.add_argument("--json", help="write the figures to this JSON file")
    ap.add_argument("--keep", action="store_true",
                    help="leave the hub running and the databases in place until Enter is pressed "
                         "(for profiling with py-spy)")
    ap.add_argument("--py-spy", dest="py_spy", metavar="DIR",
                    help="profile the workers with py-spy during each measured wrk run and keep the "
                         "raw stacks in DIR (adds overhead: use for a diagnostic run, not the figures)")
    ap.add_argument("--cprofile", metavar="DIR",
                    help="cProfile the in-process requests of each scenario into DIR/<name>.pstats")
    ap.add_argument("--no-load", action="store_true",
                    help="stop after the in-process SQL count (and --cprofile): no gunicorn, wrk, pgbench")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args(argv)

    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install -y {'wrk' if tool == 'wrk' else 'postgresql-client'})",
                  file=sys.stderr)
            return 2
    n_customers = args.customers or (5_000 if args.quick else 100_000)
    seconds = args.seconds or (4 if args.quick else 15)
    fixed_seconds = args.fixed_seconds or (5 if args.quick else 20)
    pgb_seconds = args.pgbench_seconds or (5 if args.quick else 15)
    warm = 1 if args.quick else 3
    chosen = scenarios()
    if args.only:
        wanted = {"health", *args.only.split(",")}
        wanted |= {s.needs for s in chosen if s.name in wanted and s.needs}
        chosen = [s for s in chosen if s.name in wanted]

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    atexit.register(CLEANUP.run)
    workdir = Path(tempfile.mkdtemp(prefix="kopilka-bench-"))
    profile_dir = None
    if args.py_spy:
        if shutil.which("py-spy") is None:
            print("py-spy is not installed (pip install py-spy)", file=sys.stderr)
            return 2
        profile_dir = Path(args.py_spy).resolve()
        profile_dir.mkdir(parents=True, exist_ok=True)
    CLEANUP.add("remove work dir", lambda: shutil.rmtree(workdir, ignore_errors=True))
    suffix = uuid.uuid4().hex[:8]
    hub_db, pgb_db = f"kopilka_bench_{suffix}", f"kopilka_bench_pgbench_{suffix}"
    res: dict = {"environment": {
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "loadavg_before": loadavg(), "python": sys.version.split()[0],
        "workers": args.workers, "worker_class": args.worker_class, "wrk_threads": args.wrk_threads,
        "wrk_connections": args.connections, "wrk_seconds": seconds, "quick": args.quick,
        "database": hub_db, "profiled": bool(args.py_spy)}, "scenarios": {}}
    try:
        from sqlalchemy import func, select

        from hub.app import create_app
        from hub.config import Config
        from hub.db import upgrade
        from hub.extensions import db, make_engine

        log(f"creating database {hub_db} and migrating it")
        create_database(hub_db)
        url = pg_url(hub_db)
        engine = make_engine(url)
        CLEANUP.add("dispose loader engine", engine.dispose)
        upgrade(engine)
        ctx = Context(database_url=url, evotor_app_token=f"bench-evotor-app-{uuid.uuid4().hex}")
        app = create_app(Config(DATABASE_URL=url, SQL_ECHO=False, EVOTOR_APP_TOKEN=ctx.evotor_app_token))
        CLEANUP.add("dispose app engine", lambda: db.engine and db.engine.dispose())
        setup_tenant(app, ctx)
        log(f"loading {n_customers:,} customers with accounts and starting bonuses")
        res["load"] = load_customers(engine, ctx, n_customers, workdir, args.seed)
        log(f"  loaded in {res['load']['seconds']} s ({res['load']['lots']:,} lots)")

        log("counting SQL statements per request (in process, Flask test client)")
        cdir = None
        if args.cprofile:
            cdir = Path(args.cprofile).resolve()
            cdir.mkdir(parents=True, exist_ok=True)
        res["sql_profile"] = sql_profile(app, ctx, chosen, 10 if args.quick else (200 if cdir else 30),
                                         args.seed, cdir)
        for name, prof in res["sql_profile"].items():
            if prof["error_count"]:
                raise RuntimeError(f"scenario {name} fails in process: {prof['errors']}")
        db.engine.dispose()
        if args.no_load:
            for name, prof in res["sql_profile"].items():
                print(f"\n== {name}: {prof['sql_per_request']} SQL/request, {prof['inprocess_ms']} ms in "
                      f"process, {prof['inprocess_cpu_ms']} ms of it CPU")
                for fn, ms in (prof.get("cprofile") or {}).get("cumulative_ms", []):
                    print(f"   {ms:8.2f} ms  {fn}")
                if prof.get("cprofile"):
                    print("   own CPU time:")
                    for fn, ms in prof["cprofile"]["own_ms"][:15]:
                        print(f"   {ms:8.3f} ms  {fn}")
            if args.json:
                Path(args.json).write_text(json.dumps(res, ensure_ascii=False, indent=2, default=str))
            return 0

        hub = Hub(url, args.workers, args.worker_class, args.threads, workdir,
                  extra_env={"EVOTOR_APP_TOKEN": ctx.evotor_app_token})
        ctx.base_url = hub.url
        log(f"gunicorn up at {hub.url}, workers {hub.workers()}")
        if any(s.name.startswith("evotor-") for s in chosen):
            # Evotor re-sends /user/verify: gunicorn (with the app token in its environment)
            # answers the token the set-up got.
            if link_evotor(ctx, http_post_json(hub.url)) != ctx.evotor_token:
                raise RuntimeError("a repeated /evotor/api/v1/user/verify answered another user token")
        by_name = {s.name: s for s in chosen}
        for sc in chosen:
            undo = sc.around(ctx, http_call(hub.url)) if sc.around else None
            log(f"wrk {sc.name}: {warm} s warm-up, {seconds} s measured (load {loadavg()})")
            w = run_wrk(hub, sc, ctx, seconds=warm, threads=args.wrk_threads, connections=args.connections,
                        workdir=workdir, seed=args.seed + 1)
            if sc.feed is not None and sc.needs in by_name:
                # Each request consumes one body (a quoted receipt): if the measured run could
                # outrun what the earlier scenario left, quote more first (not measured).
                left = len(sc.feed(ctx, 200_000))
                wanted = int(1.5 * w["rps"] * seconds) + 50
                if left < wanted:
                    log(f"  {left} bodies in the feed, {wanted} wanted: {wanted - left} more {sc.needs}")
                    res.setdefault("top_up", {})[sc.name] = top_up(
                        hub, by_name[sc.needs], ctx, wanted - left, threads=args.connections,
                        seed=args.seed + 5)
            r = run_wrk(hub, sc, ctx, seconds=seconds, threads=args.wrk_threads,
                        connections=args.connections, workdir=workdir, seed=args.seed + 2,
                        profile_dir=profile_dir)
            res["scenarios"][sc.name] = r
            log(f"  {r['rps']} req/s, p99 {r['latency_ms']['p99']} ms, statuses {r['statuses']}"
                + (f", {r['feed_bodies']} bodies in its feed" if r["feed_bodies"] is not None else ""))
            if undo is not None:
                undo()

        calc = next((s for s in chosen if s.name == "calculate"), None)
        if calc is not None:
            rate = max(1.0, res["scenarios"]["calculate"]["rps"] / 2)
            log(f"calculate at a fixed {rate:.1f} req/s for {fixed_seconds} s")
            res["fixed_rate"] = fixed_rate(hub, calc, ctx, rate=rate, seconds=fixed_seconds,
                                           warmup=2 if args.quick else 3, threads=8, seed=args.seed + 3)
            log(f"  p50 {res['fixed_rate']['p50_ms']} ms, p99 {res['fixed_rate']['p99_ms']} ms")

        pids = hub.workers()
        mem = [proc_rss_kb(p) for p in pids]
        res["rss"] = {"workers_rss_mb": [round(r / 1024, 1) for r, _ in mem],
                      "workers_pss_mb": [round(p / 1024, 1) for _, p in mem],
                      "max_rss_mb": round(max(r for r, _ in mem) / 1024, 1),
                      "master_rss_mb": round(proc_rss_kb(hub.proc.pid)[0] / 1024, 1)}
        if args.keep:
            print(f"\nhub: {hub.url} (master {hub.proc.pid}, workers {pids}); database {hub_db}; "
                  f"API key {ctx.api_key}; МойСклад {ctx.connection_id} token {ctx.ms_token}; "
                  f"Evotor user {EVOTOR_USER} token {ctx.evotor_token}; "
                  f"customers {ctx.customers_file}; scripts in {workdir}")
            input("Enter to stop and clean up… ")
        hub.stop()

        if not args.skip_pgbench:
            log(f"pgbench -i -s {args.pgbench_scale} into {pgb_db}, then -c 4 -j 2 -T {pgb_seconds}")
            create_database(pgb_db)
            res["pgbench"] = run_pgbench(pgb_db, args.pgbench_scale, 4, 2, pgb_seconds)
            log(f"  {res['pgbench']['tps']} TPS")

        from hub.ledger import check_ledger
        from hub.ledger.models import Account
        from hub.receipts.models import Receipt
        db.configure(url)
        session = db.session
        bad = check_ledger(session, ctx.tenant_id)
        accounts = session.scalar(select(func.count()).select_from(Account))
        receipts = session.scalar(select(func.count()).select_from(Receipt))
        res["ledger"] = (f"{accounts:,} accounts, {receipts:,} receipts committed; "
                         + ("all consistent" if not bad else f"{len(bad)} DISCREPANCIES"))
        db.session.remove()
        db.engine.dispose()

        res["environment"]["loadavg_after"] = loadavg()
        res["targets"] = check_targets(res)
        res["comparisons"] = comparisons(res)
        print_report(res)
        if args.json:
            Path(args.json).write_text(json.dumps(res, ensure_ascii=False, indent=2, default=str))
            print(f"\nfigures written to {args.json}")
        return 0
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        log("cleaning up: stopping gunicorn, dropping databases")
        CLEANUP.run()


if __name__ == "__main__":
    sys.exit(main())
