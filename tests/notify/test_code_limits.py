"""One-time codes limited per IP too: at most `code_limit.per_ip_hour` codes an hour from one
address whatever the phones; other addresses and the per-phone limits are unaffected."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub import clock
from hub.errors import Invalid
from hub.notify.models import OutboxMessage
from hub.notify import rules
from hub.notify.outbox import send_code


def _count(session, tid):
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.tenant_id == tid))


def test_twenty_first_code_from_one_ip_is_refused(session, tid, channel):
    channel("smsru")
    for i in range(20):
        m = send_code(session, tid, f"+7916100{i:04d}", "123456", "my_login", ip="203.0.113.7")
        assert m.client_ip == "203.0.113.7"
    session.commit()
    before = _count(session, tid)
    with pytest.raises(Invalid) as err:
        send_code(session, tid, "+79162000000", "123456", "my_login", ip="203.0.113.7")
    assert err.value.code == "code_rate_limited"
    assert err.value.message == "Слишком много запросов кода с этого адреса. Попробуйте через час."
    session.rollback()
    assert _count(session, tid) == before                        # nothing written
    # another address, and callers that know no address (МойСклад, Evotor), still get codes
    assert send_code(session, tid, "+79162000000", "123456", "my_login", ip="198.51.100.1") is not None
    assert send_code(session, tid, "+79162000001", "123456", "register") is not None
    session.commit()
    clock.advance(timedelta(hours=1, seconds=1))                 # an hour later the address may ask again
    assert send_code(session, tid, "+79162000002", "123456", "my_login", ip="203.0.113.7") is not None


def test_the_limit_per_ip_is_a_tenant_setting(session, tid, channel):
    channel("smsru")
    out = rules.put_settings(session, tid, {"code_limit": {"per_ip_hour": 2}})
    assert out["code_limit"] == {"per_phone_interval": 60, "per_phone_hour": 5, "per_ip_hour": 2}
    session.commit()
    send_code(session, tid, "+79161000001", "1", "my_login", ip="10.0.0.1")
    send_code(session, tid, "+79161000002", "2", "my_login", ip="10.0.0.1")
    with pytest.raises(Invalid):
        send_code(session, tid, "+79161000003", "3", "my_login", ip="10.0.0.1")


def test_the_per_phone_limit_still_applies_with_an_ip(session, tid, channel):
    channel("smsru")
    send_code(session, tid, "+79161234567", "1", "my_login", ip="10.0.0.2")
    with pytest.raises(Invalid) as err:
        send_code(session, tid, "+79161234567", "2", "my_login", ip="10.0.0.3")
    assert err.value.code == "code_rate_limited" and "Код уже отправлен" in err.value.message


def test_cabinet_code_requests_pass_the_client_ip(app, session, tid, channel):
    """hub.codes.operations.issue hands the address to send_code: the web cabinets' requests count."""
    from hub.codes import operations as codes
    channel("smsru")
    rules.put_settings(session, tid, {"code_limit": {"per_ip_hour": 1}})
    session.commit()
    with app.test_request_context():
        codes.issue(session, tid, "+79161000011", "my_login", ip="192.0.2.5")
        with pytest.raises(Invalid) as err:
            codes.issue(session, tid, "+79161000012", "my_login", ip="192.0.2.5")
        assert err.value.code == "code_rate_limited"
        codes.issue(session, tid, "+79161000012", "my_login", ip="192.0.2.6")
    ips = session.scalars(select(OutboxMessage.client_ip).where(OutboxMessage.tenant_id == tid)
                          .order_by(OutboxMessage.created_at, OutboxMessage.client_ip)).all()
    assert sorted(ips) == ["192.0.2.5", "192.0.2.6"]


from tests.web.conftest import customer_of, shop, text, token  # noqa: F401 - fixtures


def test_participant_cabinet_counts_codes_per_client_address(client, session, shop, customer_of):
    rules.put_settings(session, shop["a"], {"code_limit": {"per_ip_hour": 2}})
    session.commit()
    for i in range(3):
        customer_of(shop["a"], phone=f"+7916123450{i}")
    t = token(client, f"/my/{shop['a']}/login")

    def ask(phone, ip):
        return client.post(f"/my/{shop['a']}/login", data={"csrf_token": t, "phone": phone},
                           environ_base={"REMOTE_ADDR": ip})
    assert ask("+79161234500", "203.0.113.9").status_code == 200
    assert ask("+79161234501", "203.0.113.9").status_code == 200
    r = ask("+79161234502", "203.0.113.9")                     # a third phone from the same address
    assert r.status_code == 422 and "Слишком много запросов кода с этого адреса" in text(r)
    assert ask("+79161234502", "198.51.100.20").status_code == 200
    ips = session.scalars(select(OutboxMessage.client_ip).where(OutboxMessage.tenant_id == shop["a"])).all()
    assert sorted(ips) == ["198.51.100.20", "203.0.113.9", "203.0.113.9"]
