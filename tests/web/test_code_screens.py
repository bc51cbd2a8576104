"""What staff and customers read about one-time codes (issue 17, item 11): the truth when the
tenant has no SMS channel, and no live code on any cabinet page."""
from __future__ import annotations

from tests.web.conftest import last_code, text, token

NOT_SENT = "SMS-канал не настроен: код не отправлен"


def _no_channel(session, tenant_id):
    from hub.notify import registry
    registry.configure(session, tenant_id, "console", enabled=False)
    session.commit()


def test_participant_reads_that_no_code_was_sent(client, session, shop):
    _no_channel(session, shop["a"])
    t = token(client, f"/my/{shop['a']}/login")
    r = client.post(f"/my/{shop['a']}/login", data={"phone": "+79160000001", "personal_data": "on",
                                                   "csrf_token": t})
    page = text(r)
    assert r.status_code == 422 and NOT_SENT in page and "Мы отправили код" not in page


def test_cashier_reads_that_no_code_was_sent(client, as_role, session, shop):
    from tests.web.test_cashier import _start
    _no_channel(session, shop["a"])
    h = _start(client, as_role)
    r = client.post("/cashier/register/code", data={"phone": "+79160000002", "first_name": "Ольга",
                                                    "personal_data": "on"}, headers=h)
    page = text(r)
    assert r.status_code == 422 and NOT_SENT in page and "Код отправлен" not in page


def test_no_cabinet_page_shows_a_live_code(as_role, client, session, shop, customer_of):
    cust = customer_of(shop["a"], "+79160000003")
    t = token(client, f"/my/{shop['a']}/login")
    assert client.post(f"/my/{shop['a']}/login", data={"phone": "+79160000003", "csrf_token": t}).status_code == 200
    code = last_code(session, shop["a"], "+79160000003")
    c = as_role("readonly")
    for url in ("/cabinet/messages/log", f"/cabinet/clients/{cust.id}"):
        r = c.get(url)
        assert r.status_code == 200, url
        assert code not in text(r) and "Код подтверждения: ******" in text(r), url
