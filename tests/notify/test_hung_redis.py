"""A hung Redis costs a sale nothing (issue 17, item 7).

Redis that accepts connections and never answers (tests/connectors/hung_redis.py stands in for
a SIGSTOPped Redis; the machine's shared Redis is left alone). The sale's message is written to
the outbox in the sale's transaction; handing it to rq happens after the answer has been sent,
through the process's one Redis client with ≤ 300 ms timeouts. Before the fix the sale itself
waited for delivery's own client (2 s socket timeout): every sale took 2 s longer."""
from __future__ import annotations

import statistics
import time

import responses
from sqlalchemy import select

from hub.notify.models import OutboxMessage
from tests.connectors.hung_redis import hung_redis

ROUNDS = 5


def _sale(api, n: int):
    started = time.perf_counter()
    r = api.post("/api/v1/receipts", json={
        "external_id": f"H-{n}", "customer": {"phone": "+79161234567"},
        "positions": [{"id": "1", "name": "Капучино", "price": 250, "quantity": 2}]})
    elapsed = time.perf_counter() - started      # the till has its answer here
    assert r.status_code == 201, r.json
    return r, elapsed


def test_a_sale_answers_within_1_3x_its_normal_time_while_redis_hangs(api, session, tenant, monkeypatch):
    assert api.put("/api/v1/notify/channels/sms", json={
        "provider": "smsru", "credentials": {"api_id": "K"}}).status_code == 200
    assert api.post("/api/v1/customers", json={"phone": "+79161234567"}).status_code == 201
    normal, hung = [], []
    with hung_redis(lifetime=60) as url, responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post("https://sms.ru/sms/send", json={"status": "OK", "status_code": 100, "balance": 10,
                                                   "sms": {"79161234567": {"status": "OK", "status_code": 100,
                                                                           "sms_id": "1"}}})
        _sale(api, 0)[0].close()                 # warm-up: caches, prepared statements
        for n in range(1, ROUNDS + 1):           # interleaved, so the machine's load hits both alike
            monkeypatch.delenv("REDIS_URL", raising=False)
            r, elapsed = _sale(api, 2 * n)
            normal.append(elapsed)
            r.close()
            monkeypatch.setenv("REDIS_URL", url)
            r, elapsed = _sale(api, 2 * n + 1)
            hung.append(elapsed)
            handed_over = time.perf_counter()
            r.close()                            # after the answer: one try, ≤ 300 ms, then the sweep
            assert time.perf_counter() - handed_over < 1.0
    base, slow = statistics.median(normal), statistics.median(hung)
    print(f"sale: {base * 1000:.1f} ms normally, {slow * 1000:.1f} ms with Redis hung (medians of {ROUNDS})")
    assert slow <= 1.3 * base, f"a sale took {slow * 1000:.0f} ms with Redis hung, {base * 1000:.0f} ms normally"
    # Every sale's message is in the outbox, written with the sale; the hung ones wait for the sweep.
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.tenant_id == tenant["id"],
                                                       OutboxMessage.topic == "sale")).all()
    assert len(rows) == 2 * ROUNDS + 1
    assert sum(row.status == "queued" for row in rows) >= ROUNDS


def test_delivery_uses_the_process_redis_client(monkeypatch):
    """One client per process with ≤ 300 ms timeouts, not a client of delivery's own."""
    from hub.jobs import redis_client
    from hub.notify.delivery import _redis
    url = "redis://127.0.0.1:1/4"
    assert _redis(url) is redis_client(url)
    kwargs = _redis(url).connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] <= 0.3 and kwargs["socket_connect_timeout"] <= 0.3
