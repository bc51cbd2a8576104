"""Sign-in, throttling, roles, CSRF and cookies of the cabinets (both databases)."""
from __future__ import annotations

from tests.web.conftest import PASSWORD, sign_in, text, token


def test_pages_need_sign_in(client, shop):
    r = client.get("/cabinet/")
    assert r.status_code == 302 and "/cabinet/login" in r.headers["Location"]
    r = client.get("/cashier/")
    assert r.status_code == 302 and "/cashier/login" in r.headers["Location"]
    assert "Вход в кабинет" in text(client.get("/cabinet/login"))


def test_login_and_logout(client, shop):
    t = sign_in(client, shop["users"]["owner"])
    assert "Сводка" in text(client.get("/cabinet/"))
    r = client.post("/cabinet/logout", data={"csrf_token": t})
    assert r.status_code == 302
    assert client.get("/cabinet/").status_code == 302


def test_wrong_password_and_lockout(client, shop, session):
    from hub.staff.models import WebUser
    email = shop["users"]["manager"]
    t = token(client, "/cabinet/login")
    for _ in range(5):
        r = client.post("/cabinet/login", data={"email": email, "password": "nope", "csrf_token": t})
        assert r.status_code == 401 and "Неверная почта или пароль" in text(r)
    # locked now: even the right password is refused
    r = client.post("/cabinet/login", data={"email": email, "password": PASSWORD, "csrf_token": t})
    assert r.status_code == 401 and "заблокирован" in text(r)
    row = session.query(WebUser).filter_by(email=email).one()
    assert row.locked_until is not None


def test_unknown_email_is_the_same_message(client, shop):
    t = token(client, "/cabinet/login")
    r = client.post("/cabinet/login", data={"email": "nobody@x.test", "password": "x", "csrf_token": t})
    assert r.status_code == 401 and "Неверная почта или пароль" in text(r)


def test_many_failures_from_one_address_are_blocked(client, shop):
    from hub.web.ui import auth
    t = token(client, "/cabinet/login")
    for i in range(auth.IP_MAX_FAILURES):
        client.post("/cabinet/login", data={"email": f"x{i}@x.test", "password": "x", "csrf_token": t})
    r = client.post("/cabinet/login", data={"email": shop["users"]["owner"], "password": PASSWORD, "csrf_token": t})
    assert r.status_code == 401 and "Слишком много" in text(r)


def test_post_without_csrf_token_is_refused(client, shop):
    r = client.post("/cabinet/login", data={"email": shop["users"]["owner"], "password": PASSWORD})
    assert r.status_code == 400 and "Обновите страницу" in text(r)
    sign_in(client, shop["users"]["owner"])
    r = client.post("/cabinet/program", data={"type": "bonus"})
    assert r.status_code == 400
    # htmx requests carry it in X-CSRFToken; a wrong one is refused
    r = client.post("/cabinet/program/preview", data={}, headers={"HX-Request": "true", "X-CSRFToken": "bad"})
    assert r.status_code == 400 and "Обновите страницу" in text(r)
    t = token(client, "/cabinet/program")
    r = client.post("/cabinet/program/preview", data={"preview_amount": "x"},
                    headers={"HX-Request": "true", "X-CSRFToken": t})
    assert r.status_code == 200


def test_roles(client, shop):
    sign_in(client, shop["users"]["readonly"])
    assert client.get("/cabinet/").status_code == 200
    assert client.get("/cabinet/program").status_code == 200
    t = token(client, "/cabinet/program")
    assert client.post("/cabinet/program", data={"csrf_token": t}).status_code == 403
    assert client.get("/cabinet/users").status_code == 403
    assert client.get("/cabinet/audit").status_code == 403
    client.post("/cabinet/logout", data={"csrf_token": t})
    sign_in(client, shop["users"]["manager"])
    assert client.get("/cabinet/users").status_code == 403
    assert client.get("/cabinet/audit").status_code == 200


def test_cashier_user_has_no_cabinet(client, shop):
    t = token(client, "/cabinet/login")
    r = client.post("/cabinet/login", data={"email": shop["users"]["cashier"], "password": PASSWORD, "csrf_token": t})
    assert r.status_code == 401 and "нет доступа" in text(r)
    sign_in(client, shop["users"]["cashier"], "cashier")
    assert client.get("/cabinet/").status_code == 403


def test_session_cookie_flags(client, shop):
    t = token(client, "/cabinet/login")
    r = client.post("/cabinet/login", data={"email": shop["users"]["owner"], "password": PASSWORD, "csrf_token": t},
                    base_url="https://localhost")
    cookie = [h for h in r.headers.getlist("Set-Cookie") if h.startswith("session=")][-1]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_static_assets_are_served_from_the_package(client):
    for name in ("htmx.min.js", "alpine.min.js", "chart.umd.min.js", "app.css"):
        r = client.get(f"/ui/static/{name}")
        assert r.status_code == 200 and len(r.data) > 1000, name
    assert b'version:"2.' in client.get("/ui/static/htmx.min.js").data


def test_production_hashes_passwords_with_scrypt():
    # The suite swaps in a cheap method (tests/conftest.py); the module's own default, with which
    # its timing-equaliser hash was made at import, stays werkzeug's scrypt.
    from hub.web.ui import auth
    assert auth._DUMMY_HASH.startswith("scrypt:")
    assert auth.PASSWORD_METHOD.startswith("pbkdf2:")
