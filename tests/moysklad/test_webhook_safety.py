"""МойСклад webhooks: the per-connection secret in the URL, and a Redis that hangs."""
from __future__ import annotations

from uuid import uuid4

from sqlalchemy import select

from connectors.inbox import retry_due
from hub.connections.models import InboundEvent
from hub.moments import utcnow
from hub.customers.operations import register_customer
from tests.connectors.hung_redis import hung_redis
from tests.moysklad.conftest import assert_ms_error, counts
from tests.moysklad.test_webhooks import MEMBER_MS, P1, PHONE, _counterparty, _deliver, _events, _row


def _member(session, ms):
    register_customer(session, ms.tenant_id, {"phone": PHONE}, source="test", moment=utcnow())
    session.commit()
    return ms


def test_without_the_secret_or_with_a_wrong_one_404_and_nothing_written(session, ms, fake_ms):
    _member(session, ms)
    doc_id = str(uuid4())
    fake_ms.retaildemand(doc_id, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 1)])
    body = _events(("retaildemand", doc_id, "CREATE"))
    before = counts(session, ms.tenant_id)
    for secret in (None, "", "wrong-" + ms.webhook_secret[6:], ms.webhook_secret + "x", "x" * 500):
        r = _deliver(ms, body, secret=secret)
        assert r.status_code == 404, (secret, r.get_data(as_text=True))
        if secret is not None and secret != "":
            assert_ms_error(r, 404)
    # A known secret of another connection does not open this one.
    r = _deliver(ms, body, connection_id=str(uuid4()))
    assert_ms_error(r, 404)
    assert counts(session, ms.tenant_id) == before
    assert fake_ms.calls == []
    assert _deliver(ms, body).status_code == 200


def test_a_connection_never_subscribed_has_no_working_url(session, ms):
    from hub.connections.models import Connection
    conn = session.get(Connection, ms.connection_id)
    conn.webhook_secret_hash = None
    session.commit()
    r = _deliver(ms, {"events": []})
    assert_ms_error(r, 404)


def test_webhook_answers_fast_with_redis_hung_and_the_sweep_applies_it_later(session, ms, fake_ms, monkeypatch):
    _member(session, ms)
    docs = [str(uuid4()) for _ in range(3)]
    for doc_id in docs:
        fake_ms.retaildemand(doc_id, agent=_counterparty(MEMBER_MS, PHONE), positions=[_row(P1, 10000.0, 1)])
    with hung_redis(lifetime=20) as url:
        monkeypatch.setenv("REDIS_URL", url)
        r = _deliver(ms, _events(*[("retaildemand", d, "CREATE") for d in docs]))
        monkeypatch.delenv("REDIS_URL")
    print(f"\nwebhook with Redis hung: answer {r.elapsed * 1000:.0f} ms, "
          f"answer + hand-over {r.elapsed_closed * 1000:.0f} ms")
    assert r.status_code == 200 and r.get_json() == {"accepted": 3, "new": 3}
    # МойСклад waits 1500 ms; the hand-over after the answer gives up after one 300 ms try.
    assert r.elapsed < 1.0 and r.elapsed_closed < 1.5
    statuses = session.scalars(select(InboundEvent.status).where(InboundEvent.tenant_id == ms.tenant_id)).all()
    assert sorted(statuses) == ["received"] * 3, "kept in the inbox, nothing lost"
    session.rollback()
    assert fake_ms.calls == []
    assert retry_due(session, utcnow()) >= 3          # the automation sweep
    statuses = session.scalars(select(InboundEvent.status).where(InboundEvent.tenant_id == ms.tenant_id)).all()
    assert sorted(statuses) == ["done"] * 3
    session.rollback()
