"""Reviews: the participant's review page (own receipts only, login then back, validation,
one review per receipt edited on resubmit), "Оцените покупку" on the home page, the owner's
list (newest first, rating filter, average, keyset pages) and GET /api/v1/reviews."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.clock import utcnow
from tests.conftest import Api
from tests.web.conftest import sign_in, text, token
from tests.web.test_my import _login


def _receipt(session, tenant_id, customer_id, amount=123456, days_ago=1, store="Магазин на Ленина"):
    from hub.receipts.models import Receipt
    r = Receipt(tenant_id=tenant_id, source="test", external_id=uuid.uuid4().hex, customer_id=customer_id,
                moment=utcnow() - timedelta(days=days_ago), store=store, amount=amount, amount_to_pay=amount,
                lines=[{"id": "1", "name": "Капучино", "price": amount, "quantity": "1", "amount": amount}],
                response={})
    session.add(r)
    session.commit()
    return r.id


def _reviews(session, tenant_id):
    from hub.reviews.models import Review
    return list(session.scalars(select(Review).where(Review.tenant_id == tenant_id)))


@pytest.fixture
def buyer(client, session, shop, customer_of):
    """Tenant A's customer with one receipt, signed in to the participant's cabinet."""
    c = customer_of(shop["a"])
    cid = c.id
    rid = _receipt(session, shop["a"], cid)
    t = _login(client, session, shop["a"])
    return {"id": cid, "receipt": rid, "token": t, "url": f"/my/{shop['a']}/review/{rid}"}


def test_review_page_asks_to_sign_in_then_comes_back(client, session, shop, customer_of):
    c = customer_of(shop["a"])
    rid = _receipt(session, shop["a"], c.id)
    url = f"/my/{shop['a']}/review/{rid}"
    r = client.get(url)
    from urllib.parse import parse_qs, urlsplit
    where = urlsplit(r.headers["Location"])
    assert r.status_code == 302 and where.path == f"/my/{shop['a']}/login" and parse_qs(where.query)["next"] == [url]
    login_url = r.headers["Location"]
    t = token(client, login_url)
    r = client.post(login_url, data={"csrf_token": t, "phone": "+79161234567"})
    assert r.status_code == 200, text(r)
    from tests.web.conftest import last_code
    code = last_code(session, shop["a"], "+79161234567")
    r = client.post(login_url, data={"csrf_token": t, "phone": "+79161234567", "code": code})
    assert r.status_code == 303 and r.headers["Location"] == url
    page = text(client.get(url))
    assert "Оцените покупку" in page and "1 234,56 ₽" in page and "Капучино" in page


def test_login_ignores_a_foreign_next(client, session, shop, customer_of):
    from tests.web.conftest import last_code
    bad_targets = ("https://evil.example/", f"/my/{shop['b']}/", "//evil.example/my/", f"/my/{shop['a']}/..//x")
    for i, bad in enumerate(bad_targets):
        phone = f"+7916123450{i}"
        customer_of(shop["a"], phone=phone)
        url = f"/my/{shop['a']}/login?next={bad}"
        t = token(client, url)
        client.post(url, data={"csrf_token": t, "phone": phone})
        r = client.post(url, data={"csrf_token": t, "phone": phone, "code": last_code(session, shop["a"], phone)})
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/my/{shop['a']}/"), (bad, text(r))


def test_review_form_validation_save_and_edit(client, session, shop, buyer):
    page = text(client.get(buyer["url"]))
    # accessible stars: five labelled radio buttons in a fieldset with a legend
    assert page.count('type="radio" name="rating"') == 5 and "<legend>Оценка</legend>" in page
    assert "5 из 5 — Отлично" in page and 'name="csrf_token"' in page
    t = buyer["token"]
    assert client.post(buyer["url"], data={"rating": "5"}).status_code == 400          # no CSRF token
    r = client.post(buyer["url"], data={"csrf_token": t, "text": "Вкусно"})
    assert r.status_code == 422 and "Поставьте оценку от 1 до 5 звёзд." in text(r) and "Вкусно" in text(r)
    r = client.post(buyer["url"], data={"csrf_token": t, "rating": "6"})
    assert r.status_code == 422 and "Поставьте оценку" in text(r)
    r = client.post(buyer["url"], data={"csrf_token": t, "rating": "4", "text": "а" * 2001})
    assert r.status_code == 422 and "Отзыв длиннее 2000 символов (2001)" in text(r)
    assert _reviews(session, shop["a"]) == []
    r = client.post(buyer["url"], data={"csrf_token": t, "rating": "4", "text": "  Вкусный кофе, но очередь.  "})
    assert r.status_code == 303 and r.headers["Location"].endswith(buyer["url"] + "/thanks")
    thanks = text(client.get(r.headers["Location"]))
    assert "Спасибо за отзыв!" in thanks and "Хорошо" in thanks and "Вкусный кофе, но очередь." in thanks
    [row] = _reviews(session, shop["a"])
    assert (row.rating, row.text, row.customer_id, row.receipt_id) == (4, "Вкусный кофе, но очередь.", buyer["id"],
                                                                       buyer["receipt"])
    # the page shows the review for editing; sending again edits the same row
    page = text(client.get(buyer["url"]))
    assert "Вы уже оценили эту покупку" in page and 'value="4" checked' in page and "Сохранить отзыв" in page
    r = client.post(buyer["url"], data={"csrf_token": t, "rating": "5", "text": ""})
    assert r.status_code == 303
    [row] = _reviews(session, shop["a"])
    assert (row.rating, row.text) == (5, "")


def test_review_of_someone_elses_receipt_is_404(client, session, shop, buyer, customer_of):
    other = customer_of(shop["a"], phone="+79160000001")
    foreign = _receipt(session, shop["a"], other.id)
    anonymous = _receipt(session, shop["a"], None)
    b_customer = customer_of(shop["b"])
    b_receipt = _receipt(session, shop["b"], b_customer.id)
    t = buyer["token"]
    for rid in (foreign, anonymous, b_receipt, "nope", "x" * 40):
        url = f"/my/{shop['a']}/review/{rid}"
        assert client.get(url).status_code == 404, rid
        r = client.post(url, data={"csrf_token": t, "rating": "5"})
        assert r.status_code == 404 and "Такой страницы нет" in text(r)
        assert client.get(url + "/thanks").status_code == 404
    # tenant B's page does not open with tenant A's session
    assert client.get(f"/my/{shop['b']}/review/{b_receipt}").status_code == 302
    assert _reviews(session, shop["a"]) == [] and _reviews(session, shop["b"]) == []


def test_thanks_without_a_review_goes_to_the_form(client, buyer):
    r = client.get(buyer["url"] + "/thanks")
    assert r.status_code == 302 and r.headers["Location"].endswith(buyer["url"])


def test_home_asks_to_rate_recent_receipts(client, session, shop, buyer):
    old = _receipt(session, shop["a"], buyer["id"], amount=99900, days_ago=45)
    page = text(client.get(f"/my/{shop['a']}/"))
    assert 'id="rate"' in page and "Оцените покупку" in page
    assert f"/review/{buyer['receipt']}" in page and f"/review/{old}" not in page
    r = client.post(buyer["url"], data={"csrf_token": buyer["token"], "rating": "5"})
    assert r.status_code == 303
    page = text(client.get(f"/my/{shop['a']}/"))
    assert "Оцените покупку" not in page and f"/review/{buyer['receipt']}" not in page


def _seed_reviews(session, tenant_id, customer_of, ratings, phone="+79167770000"):
    from hub.reviews.models import Review
    c = customer_of(tenant_id, phone=phone, first_name="Ольга")
    base = utcnow() - timedelta(days=10)
    for i, rating in enumerate(ratings):
        rid = _receipt(session, tenant_id, c.id, amount=10000 * (i + 1))
        moment = base + timedelta(hours=i)
        session.add(Review(tenant_id=tenant_id, customer_id=c.id, receipt_id=rid, rating=rating,
                           text=f"отзыв {i}", created_at=moment, updated_at=moment))
    session.commit()
    return c.id


def test_cabinet_reviews_list_filter_average_and_pages(client, session, shop, customer_of, monkeypatch):
    _seed_reviews(session, shop["a"], customer_of, [5, 4, 1, 5, 3])
    _seed_reviews(session, shop["b"], customer_of, [2], phone="+79167770001")
    assert client.get("/cabinet/reviews").status_code == 302          # not signed in
    sign_in(client, shop["users"]["readonly"])
    page = text(client.get("/cabinet/reviews"))
    assert '<div class="big" id="avg">3,6' in page and "5 отзывов" in page
    order = [page.index(f"отзыв {i}") for i in (4, 3, 2, 1, 0)]
    assert order == sorted(order)                                       # newest first
    assert "Ольга" in page and "отзыв 0" in page
    page = text(client.get("/cabinet/reviews?rating=5"))
    assert "отзыв 0" in page and "отзыв 3" in page and "отзыв 1" not in page and "отзыв 2" not in page
    page = text(client.get("/cabinet/reviews?rating=2"))
    assert "Отзывов с такой оценкой нет." in page                       # tenant B's 2 is not here
    page = text(client.get("/cabinet/reviews?rating=abc"))
    assert "отзыв 1" in page                                             # a bad filter means "all"
    import hub.web.cabinet.reviews as module
    monkeypatch.setattr(module, "PAGE", 2)
    first = text(client.get("/cabinet/reviews"))
    assert "отзыв 4" in first and "отзыв 3" in first and "отзыв 2" not in first
    import html
    import re
    nxt = html.unescape(re.search(r'href="(/cabinet/reviews\?after=[^"]+)"', first).group(1))
    second = text(client.get(nxt))
    assert "отзыв 2" in second and "отзыв 1" in second and "отзыв 4" not in second
    assert client.get("/cabinet/reviews?after=garbage").status_code == 404


def test_cabinet_reviews_empty(client, session, shop):
    sign_in(client, shop["users"]["owner"])
    page = text(client.get("/cabinet/reviews"))
    assert "Отзывов пока нет" in page and 'id="avg">—' in page


def test_api_reviews(client, session, shop, customer_of):
    from hub.tenants.operations import create_tenant
    tenant, key = create_tenant(session, "API-магазин")
    session.commit()
    cid = _seed_reviews(session, tenant.id, customer_of, [5, 4, 1])
    _seed_reviews(session, shop["b"], customer_of, [2], phone="+79167770001")
    api = Api(client, key)
    r = api.get("/api/v1/reviews")
    assert r.status_code == 200, r.json
    assert [i["text"] for i in r.json["items"]] == ["отзыв 2", "отзыв 1", "отзыв 0"]
    assert r.json["summary"] == {"count": 3, "average": 3.33, "by_rating": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1}}
    assert r.json["next_cursor"] is None and r.json["items"][0]["customer_id"] == cid
    assert [i["rating"] for i in api.get("/api/v1/reviews?rating=5").json["items"]] == [5]
    page1 = api.get("/api/v1/reviews?limit=2").json
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    from urllib.parse import quote
    page2 = api.get(f"/api/v1/reviews?limit=2&after={quote(page1['next_cursor'])}").json
    assert [i["text"] for i in page2["items"]] == ["отзыв 0"] and page2["next_cursor"] is None
    for bad in ("rating=7", "rating=x", "after=garbage", "limit=0"):
        r = api.get(f"/api/v1/reviews?{bad}")
        assert 400 <= r.status_code < 500 and r.json["error"]["message"], bad
    assert client.get("/api/v1/reviews").status_code == 401
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/reviews" in spec["paths"] and "get" in spec["paths"]["/api/v1/reviews"]
