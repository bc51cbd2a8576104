"""Every endpoint refuses bad input with a 4xx in the API.md error format, a Russian message,
and writes nothing; without a valid key every endpoint is 401."""
from __future__ import annotations

import copy

import pytest

from tests.api.helpers import CYRILLIC, assert_error, counts

EDGE_CODES = {"validation_error", "bad_request", "too_large"}    # errors the API's edge words itself


def assert_russian_details(details, label: str = "") -> None:
    """Every message in `details` is Russian (marshmallow's own messages included)."""
    if isinstance(details, dict):
        for value in details.values():
            assert_russian_details(value, label)
    elif isinstance(details, list):
        for value in details:
            assert_russian_details(value, label)
    else:
        assert isinstance(details, str) and CYRILLIC.search(details), (label, details)

PROGRAM = {"type": "bonus", "levels": [{"code": "base", "name": "Все", "threshold": 0,
                                         "accrual": {"scheme": "percent", "percent": 5}, "max_spend_percent": 50}]}
SALE = {"external_id": "S-1", "moment": None, "store": "shop-1", "cashier": "c-1",
        "customer": {"phone": "+79161234567"}, "payment": {"method": "card"}, "spend_bonuses": 10,
        "positions": [{"id": "1", "product": "SKU-1", "name": "Капучино", "groups": ["coffee"],
                       "price": 250, "quantity": 2, "till_discount": 0}]}

# (name, method, url, a valid body, required fields)
ENDPOINTS = [
    ("program", "put", "/api/v1/program", PROGRAM, ["type", "levels"]),
    ("customers", "post", "/api/v1/customers",
     {"phone": "+79035550000", "first_name": "Иван", "tags": ["a"], "consents": {"sms": True},
      "birth_date": "1990-01-01", "relatives": [{"birth_date": "2015-01-01"}]}, ["phone"]),
    ("customer", "patch", "/api/v1/customers/{cid}", {"first_name": "Иван", "consents": {"sms": False}}, []),
    ("bonuses", "post", "/api/v1/customers/{cid}/bonuses", {"amount": 5, "kind": "gift", "valid_days": 7,
                                                            "reason": "Подарок"}, ["amount"]),
    ("calculate", "post", "/api/v1/receipts/calculate", SALE, ["external_id", "positions"]),
    ("receipts", "post", "/api/v1/receipts", SALE, ["external_id", "positions"]),
    ("returns", "post", "/api/v1/receipts/SOLD/returns",
     {"external_id": "RET-1", "positions": [{"id": "1", "quantity": 1}]}, ["external_id"]),
    ("stores", "post", "/api/v1/stores", {"code": "shop-9", "name": "Девятый"}, ["code"]),
]

RAW_BODIES = [
    ("not json", "application/json", "это не JSON"),
    ("truncated", "application/json", '{"external_id": "S-1", "positions": ['),
    ("trailing comma", "application/json", '{"phone": "+79161234567",}'),
    ("array", "application/json", "[1, 2, 3]"),
    ("string", "application/json", '"строка"'),
    ("number", "application/json", "42"),
    ("null", "application/json", "null"),
    ("empty", "application/json", ""),
    ("bad utf-8", "application/json", b'{"phone": "\xff\xfe"}'),
    ("deeply nested", "application/json", "[" * 50_000 + "]" * 50_000),
    ("huge integer", "application/json", '{"amount": 1' + "0" * 5000 + "}"),
    ("NaN", "application/json", '{"amount": NaN, "price": NaN}'),
    ("lone surrogate", "application/json", '{"external_id": "\\ud800", "phone": "\\ud800", "code": "\\ud800"}'),
    ("NUL", "application/json", '{"external_id": "\\u0000", "phone": "\\u0000", "code": "\\u0000"}'),
    ("plain text", "text/plain", "phone=+79161234567"),
    ("form", "application/x-www-form-urlencoded", "phone=%2B79161234567&amount=5"),
]

WRONG_TYPE = [["x"]]                           # nested list: never a valid value of any field


@pytest.fixture
def world(api, session):
    """A customer with bonuses, a sale to return against, and a program."""
    assert api.put("/api/v1/program", json=PROGRAM).status_code == 200
    cid = api.post("/api/v1/customers", json={"phone": "+79161234567"}).json["id"]
    assert api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": 100}).status_code == 201
    sold = {"external_id": "SOLD", "customer": {"id": cid}, "positions": [{"id": "1", "price": 100, "quantity": 2}]}
    assert api.post("/api/v1/receipts", json=sold).status_code == 201
    return cid


def _state(api, session, cid: str) -> tuple:
    c = api.get(f"/api/v1/customers/{cid}").json
    return (counts(session), api.get("/api/v1/program").json, c, api.get("/api/v1/receipts/SOLD").json)


def _never_500_and_nothing_written(api, session, cid, method, url, cases):
    before = _state(api, session, cid)
    for label, call, fields in cases:
        r = call()
        assert r.status_code != 500, (label, r.get_data(as_text=True)[:300])
        assert 400 <= r.status_code < 500, (label, r.status_code, r.get_data(as_text=True)[:300])
        error = assert_error(r, r.status_code, *fields)
        # Every error's details are Russian, the business rules' ("не больше 2") as well as the edge's.
        assert_russian_details(error["details"], label)
        assert _state(api, session, cid) == before, label


@pytest.mark.parametrize("name, method, url, valid, required", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_malformed_bodies(api, client, session, world, name, method, url, valid, required):
    url = url.format(cid=world)
    cases = []
    for label, content_type, data in RAW_BODIES:
        if label in ("empty", "plain text", "form") and not required:
            continue                    # PATCH with no fields is a valid no-op
        cases.append((label, lambda ct=content_type, d=data: getattr(client, method)(
            url, data=d, headers={**api.headers, "Content-Type": ct}), ()))
    for key in required:
        body = {k: v for k, v in valid.items() if k != key}
        cases.append((f"missing {key}", lambda b=body: getattr(api, method)(url, json=b), (key,)))
    for key in valid:
        if valid[key] is None:
            continue
        body = {**copy.deepcopy(valid), key: WRONG_TYPE}
        cases.append((f"wrong type {key}", lambda b=body: getattr(api, method)(url, json=b), (key,)))
    cases.append(("unknown field", lambda: getattr(api, method)(url, json={**valid, "zzz_unknown": 1}), ("zzz_unknown",)))
    _never_500_and_nothing_written(api, session, world, method, url, cases)


RECEIPT_VALUES = [
    ("price", -1), ("price", -0.01), ("price", 1e300), ("price", 10**30), ("price", "1E+999999999"),
    ("price", "1E-999999999"), ("price", "сто"), ("price", True), ("price", None), ("price", 1.001),
    ("quantity", -1), ("quantity", 0), ("quantity", 1e30), ("quantity", 10**7), ("quantity", "1E+99999"),
    ("quantity", 0.0001), ("quantity", None), ("quantity", "две"),
    ("till_discount", -1), ("till_discount", 501), ("id", ""), ("id", 5), ("groups", "coffee"),
    ("groups", [""]), ("name", "x" * 501), ("zzz", 1),
]
RECEIPT_TOP = [
    ("spend_bonuses", -5), ("spend_bonuses", "all"), ("spend_bonuses", 1e300), ("spend_bonuses", 1.001),
    ("spend_bonuses", 10**40), ("positions", []), ("positions", [SALE["positions"][0]] * 2),
    ("positions", [{"id": str(i), "price": 1, "quantity": 1} for i in range(1001)]),
    ("customer", {"phone": "+79161234567", "card": "1"}), ("customer", {}), ("customer", {"email": "a@b.c"}),
    ("customer", {"phone": "не телефон"}), ("customer", {"id": "x" * 37}),
    ("payment", {"method": "barter"}), ("payment", {}), ("moment", "yesterday"), ("moment", "2025-13-01T10:00:00"),
    ("moment", 1700000000), ("moment", "0001-01-01T00:00:00+14:00"), ("moment", "9999-12-31T23:59:59"),
    ("external_id", ""), ("external_id", "x" * 201), ("external_id", 1001), ("store", ""), ("cashier", ["c"]),
    ("external_id", "a\u0000b"), ("name", "a\u0000b"),
]


@pytest.mark.parametrize("endpoint", ["/api/v1/receipts", "/api/v1/receipts/calculate"])
def test_bad_receipt_values(api, session, world, endpoint):
    cases = []
    for key, value in RECEIPT_VALUES:
        body = copy.deepcopy(SALE)
        body["positions"][0][key] = value
        cases.append((f"position {key}={str(value)[:30]}", lambda b=body: api.post(endpoint, json=b), ()))
    for key, value in RECEIPT_TOP:
        body = {**copy.deepcopy(SALE), key: value}
        cases.append((f"{key}={str(value)[:30]}", lambda b=body: api.post(endpoint, json=b), ()))
    _never_500_and_nothing_written(api, session, world, "post", endpoint, cases)


def test_bad_return_values(api, session, world):
    url = "/api/v1/receipts/SOLD/returns"
    cases = []
    for positions in ([{"id": "1", "quantity": -1}], [{"id": "1", "quantity": 0}], [{"id": "1", "quantity": 3}],
                      [{"id": "1", "quantity": 1e30}], [{"id": "1"}], [{"quantity": 1}], [],
                      [{"id": "1", "quantity": 1}, {"id": "1", "quantity": 1}], [{"id": "2", "quantity": 1}],
                      [{"id": "1", "quantity": 1, "price": 5}], "all"):
        body = {"external_id": "RET-X", "positions": positions}
        cases.append((f"positions={positions}", lambda b=body: api.post(url, json=b), ("positions",)))
    cases.append(("moment", lambda: api.post(url, json={"external_id": "RET-X", "moment": "вчера"}), ("moment",)))
    cases.append(("unknown receipt", lambda: api.post("/api/v1/receipts/NOPE/returns", json={"external_id": "RET-X"}), ()))
    cases.append(("NUL in the receipt id", lambda: api.post("/api/v1/receipts/SO%00LD/returns", json={"external_id": "RET-X"}), ()))
    _never_500_and_nothing_written(api, session, world, "post", url, cases)


def test_bad_queries_and_paths(api, session, world):
    cases = []
    for url in (f"/api/v1/customers/{world}/ledger?limit=0", f"/api/v1/customers/{world}/ledger?limit=abc",
                f"/api/v1/customers/{world}/ledger?limit=1000000", f"/api/v1/customers/{world}/ledger?offset=-1",
                f"/api/v1/customers/{world}/ledger?offset=99999999999999999999999",
                "/api/v1/customers?phone=abc", "/api/v1/customers?card=%00",
                "/api/v1/customers/%00", "/api/v1/receipts/%00", "/api/v1/customers/" + "x" * 3000,
                "/api/v1/receipts/nope", "/api/v1/nothing-here"):
        cases.append((url, lambda u=url: api.get(u), ()))
    cases.append(("DELETE program", lambda: api._call("delete", "/api/v1/program"), ()))
    cases.append(("PUT receipts", lambda: api.put("/api/v1/receipts", json=SALE), ()))
    _never_500_and_nothing_written(api, session, world, "get", "", cases)


AUTHED = [("get", "/api/v1/program"), ("put", "/api/v1/program"), ("get", "/api/v1/customers?phone=%2B79161234567"),
          ("post", "/api/v1/customers"), ("get", "/api/v1/customers/{cid}"), ("patch", "/api/v1/customers/{cid}"),
          ("get", "/api/v1/customers/{cid}/ledger"), ("post", "/api/v1/customers/{cid}/bonuses"),
          ("post", "/api/v1/receipts/calculate"), ("post", "/api/v1/receipts"), ("get", "/api/v1/receipts/SOLD"),
          ("post", "/api/v1/receipts/SOLD/returns"), ("get", "/api/v1/stores"), ("get", "/api/v1/cashiers")]
BODIES = {"/api/v1/program": PROGRAM, "/api/v1/customers": {"phone": "+79035550000"},
          "/api/v1/customers/{cid}": {"first_name": "Взлом"}, "/api/v1/customers/{cid}/bonuses": {"amount": 1000},
          "/api/v1/receipts/calculate": SALE, "/api/v1/receipts": SALE,
          "/api/v1/receipts/SOLD/returns": {"external_id": "RET-1"}}


def test_missing_or_invalid_api_key_is_401(api, client, session, world):
    before = _state(api, session, world)
    for headers, code in [({}, "unauthorized"), ({"Authorization": "Bearer"}, "unauthorized"),
                          ({"Authorization": "Bearer   "}, "unauthorized"),
                          ({"Authorization": api.headers["Authorization"].replace("Bearer ", "Basic ")}, "unauthorized"),
                          ({"Authorization": api.headers["Authorization"][len("Bearer "):]}, "unauthorized"),
                          ({"Authorization": "Bearer kp_not-a-key"}, "invalid_api_key"),
                          ({"Authorization": api.headers["Authorization"] + "x"}, "invalid_api_key"),
                          ({"Authorization": "Bearer " + "к" * 5000}, "invalid_api_key")]:
        for method, url in AUTHED:
            body = BODIES.get(url)
            r = getattr(client, method)(url.format(cid=world), json=body, headers=headers)
            assert_error(r, 401, code=code)
    assert _state(api, session, world) == before
    # /health and the OpenAPI document need no key.
    assert client.get("/health").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_a_receipt_too_large_in_total_is_422_not_500(api):
    for path in ("/api/v1/receipts/calculate", "/api/v1/receipts"):
        huge = {"external_id": "HUGE", "positions": [{"id": "1", "price": 100_000_000_000, "quantity": 1_000_000}]}
        r = api.post(path, json=huge)
        assert r.status_code == 422 and r.json["error"]["details"], r.json
        many = {"external_id": "MANY", "positions": [
            {"id": str(i), "price": 90_000_000_000, "quantity": 1} for i in range(3)]}
        r = api.post(path, json=many)
        assert r.status_code == 422 and r.json["error"]["details"], r.json
    assert api.get("/api/v1/receipts/HUGE").status_code == 404


WRONG_VALUES = [
    ("/api/v1/customers", "post", {"phone": 5, "birth_date": "вчера", "email": "не почта", "tags": "a",
                                   "relatives": [{}], "consents": [], "gender": "x", "card_number": "№1",
                                   "first_name": "x" * 101, "zzz": 1}),
    ("/api/v1/customers", "post", {"phone": "+79161234567", "tags": ["a"] * 51, "relatives": "нет",
                                   "consents": {"sms": "да"}, "birth_date": None}),
    ("/api/v1/customers/{cid}/bonuses", "post", {"amount": 0, "kind": "cashback", "valid_days": "x"}),
    ("/api/v1/customers/{cid}/bonuses", "post", {"amount": 1.001, "valid_days": 0, "reason": ["x"]}),
    ("/api/v1/receipts/calculate", "post", {"external_id": "", "positions": "x", "customer": []}),
    ("/api/v1/receipts/calculate", "post", {"external_id": "R", "customer": {"phone": "1"},
                                            "positions": [{"id": 1, "price": "сто", "quantity": -1,
                                                           "groups": [""], "till_discount": 1e300}] * 2,
                                            "spend_bonuses": "all", "payment": {"method": "barter"}}),
    ("/api/v1/receipts/SOLD/returns", "post", {"external_id": 5, "positions": [{"id": "1"}, {"quantity": 0.0001}]}),
    ("/api/v1/program", "put", {"type": 5, "levels": "все", "rules": [{"then": []}], "activation_delay_days": "x",
                                "accrue_on_discounted": "да"}),
    ("/api/v1/stores", "post", {"code": "", "name": 5}),
    ("/api/v1/connections", "post", {"kind": "x", "external_account": "", "credentials": {"a": 1}}),
]


def test_details_are_russian_for_every_field_type(api, client, world):
    """marshmallow's default (English) messages never reach the caller: strings, numbers,
    booleans, dates, e-mails, lists, nested objects, unknown fields, money, quantities."""
    for url, method, body in WRONG_VALUES:
        r = getattr(api, method)(url.format(cid=world), json=body)
        error = assert_error(r, 422)
        assert error["details"], (url, error)
        assert_russian_details(error["details"], url)
    for url in (f"/api/v1/customers/{world}/ledger?limit=abc&offset=-1", "/api/v1/inbox?status=x&limit=0"):
        error = assert_error(api.get(url), 422)
        assert_russian_details(error["details"], url)
    r = client.post("/api/v1/customers", data="не JSON", headers={**api.headers, "Content-Type": "application/json"})
    assert_russian_details(assert_error(r, 400)["details"])


def test_every_api_field_has_russian_messages(app):
    """The static side of the same rule: every field of every API schema, nested ones too."""
    from marshmallow import class_registry

    seen = set()
    for name, classes in list(class_registry._registry.items()):
        for cls in classes:
            if not cls.__module__.startswith("api.") or cls in seen:
                continue
            seen.add(cls)
            schema = cls()
            for message in schema.error_messages.values():
                assert CYRILLIC.search(message), (name, message)
            for field_name, field in schema.fields.items():
                for inner in (field, getattr(field, "inner", None), getattr(field, "value_field", None),
                              getattr(field, "key_field", None)):
                    if inner is None:
                        continue
                    for key, message in inner.error_messages.items():
                        assert isinstance(message, str) and CYRILLIC.search(message), \
                            (f"{name}.{field_name}", key, message)
    assert len(seen) > 20


def test_a_refused_return_and_spend_say_the_limit_in_russian(api, world):
    """The details of business refusals name the figure in Russian (was "at most 2")."""
    r = api.post("/api/v1/receipts/SOLD/returns", json={"external_id": "RET-3", "positions": [{"id": "1", "quantity": 3}]})
    assert assert_error(r, 422)["details"] == {"positions": {"1": ["не больше 2"]}}
    r = api.post(f"/api/v1/customers/{world}/bonuses", json={"amount": -1000})
    details = assert_error(r, 422)["details"]
    assert details["amount"][0].startswith("не больше "), details


def _detail_strings(node):
    """The literal texts inside a `details` dict of a raise (lists' strings, recursively)."""
    import ast
    if isinstance(node, ast.Dict):
        for value in node.values:
            yield from _detail_strings(value)
    elif isinstance(node, ast.DictComp):
        yield from _detail_strings(node.value)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for item in node.elts:
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                yield item.lineno, item.value
            elif isinstance(item, ast.JoinedStr):
                yield item.lineno, "".join(v.value for v in item.values if isinstance(v, ast.Constant))
            elif isinstance(item, ast.Call) and getattr(item.func, "id", "") == "str":
                yield item.lineno, "str(…)"       # a library's (English) exception text passed on
            else:
                yield from _detail_strings(item)


# One-time codes' wording belongs to another change (issue 17, item 11).
ENGLISH_DETAILS_ALLOWED = {("evotor/terminal.py", "wrong or expired"), ("evotor/terminal.py", "required")}


def test_no_english_in_the_details_of_any_domain_error():
    """Static scan of every `raise Invalid/Conflict/NotFound(code, message, details)` (and the
    automation settings' `_fail`): each message in details is Russian, whatever the face
    (API, till protocols, cabinets) shows it."""
    import ast
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    english, seen = [], 0
    for package in ("hub", "api", "connectors", "evotor", "moysklad", "onec"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                details = None
                if name in ("Invalid", "Conflict", "NotFound", "DomainError", "Unauthorized"):
                    details = node.args[2] if len(node.args) >= 3 else next(
                        (k.value for k in node.keywords if k.arg == "details"), None)
                elif name == "_fail" and len(node.args) >= 3:
                    details = ast.List(elts=[node.args[2]])
                for line, text in _detail_strings(details) if details is not None else ():
                    seen += 1
                    where = str(path.relative_to(root))
                    if text.strip() and not CYRILLIC.search(text) and (where, text) not in ENGLISH_DETAILS_ALLOWED:
                        english.append(f"{where}:{line} {text!r}")
    assert seen > 40
    assert not english, english
