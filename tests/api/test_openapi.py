"""The OpenAPI document matches the wire.

* Every field declares its type (money, percents and quantities are numbers), and errors are
  documented as the real {"error": {"code", "message", "details"}} shape.
* schemathesis, in-process against the Flask app with a tenant's key, generates requests for
  every operation of the document — valid ones (positive) and invalid ones (negative) — and
  checks every answer: no 5xx, a documented status, content type and body schema.
"""
from __future__ import annotations

import os
import time

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

# Examples per backend, spread over every operation and both modes (~20 s per backend).
BUDGET = int(os.environ.get("KOPILKA_SCHEMATHESIS_EXAMPLES", "360"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _first_line(exc: BaseException) -> str:
    inner = getattr(exc, "exceptions", None)
    if inner:
        return "; ".join(_first_line(e) for e in inner)
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _walk(schema: dict, path: str, out: list) -> None:
    if "$ref" in schema or "oneOf" in schema or "anyOf" in schema or "allOf" in schema:
        return
    if "type" not in schema:
        out.append(path)
    for name, prop in (schema.get("properties") or {}).items():
        _walk(prop, f"{path}.{name}", out)
    if isinstance(schema.get("items"), dict):
        _walk(schema["items"], f"{path}[]", out)


def test_every_field_declares_its_type(client):
    doc = client.get("/api/v1/openapi.json").json
    untyped: list[str] = []
    for name, schema in doc["components"]["schemas"].items():
        _walk(schema, name, untyped)
    assert not untyped, untyped
    position = doc["components"]["schemas"]["Position"]["properties"]
    assert position["price"]["type"] == "number" and position["quantity"]["type"] == "number"
    assert doc["components"]["schemas"]["Level"]["properties"]["threshold"]["type"] == "number"
    assert doc["components"]["schemas"]["BonusIn"]["properties"]["amount"]["type"] == "number"


def test_errors_are_documented_in_the_real_shape(client, tenant):
    doc = client.get("/api/v1/openapi.json").json
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and set(error["properties"]) == {"error"}
    body = doc["components"]["schemas"][error["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert set(body["properties"]) == set(body["required"]) == {"code", "message", "details"}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert "401" in op["responses"] and "default" in op["responses"], (path, method)
            for code, response in op["responses"].items():
                if code.startswith(("4", "5")) or code == "default":
                    ref = response["$ref"].rsplit("/", 1)[1]
                    schema = doc["components"]["responses"][ref]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, code)


def test_a_receipt_as_the_document_describes_it_is_accepted(api):
    """What the document's types say is valid is what the wire accepts."""
    r = api.post("/api/v1/receipts/calculate", json={
        "external_id": "DOC-1", "positions": [{"id": "1", "price": 99.99, "quantity": 0.125, "till_discount": 0.01}],
        "spend_bonuses": 0})
    assert r.status_code == 200, r.json


@pytest.fixture
def world(api):
    cid = api.post("/api/v1/customers", json={"phone": "+79161234567"}).json["id"]
    assert api.post(f"/api/v1/customers/{cid}/bonuses", json={"amount": 100, "kind": "gift",
                                                              "valid_days": 30}).status_code == 201
    sold = {"external_id": "SOLD", "customer": {"id": cid}, "positions": [{"id": "1", "price": 100, "quantity": 2}]}
    assert api.post("/api/v1/receipts", json=sold).status_code == 201
    return {"customer_id": cid, "external_id": "SOLD"}


def test_schemathesis_finds_no_5xx_and_no_answer_off_the_schema(app, api, world, backend):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    stats = {"operations": len(operations), "examples": 0, "5xx": 0, "mismatches": 0}
    examples = max(2, BUDGET // (2 * len(operations)))
    failures: list[str] = []
    started = time.perf_counter()
    for operation in operations:
        known = {k: v for k, v in world.items() if k in {p.name for p in operation.path_parameters}}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode,
                                             path_parameters=known if mode is GenerationMode.POSITIVE else None)

            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                response = case.call(headers=api.headers)
                stats["examples"] += 1
                if response.status_code >= 500:
                    stats["5xx"] += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except BaseException as exc:  # schemathesis raises an exception group
                    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                        raise
                    stats["mismatches"] += 1
                    failures.append(f"{operation.label} [{mode.value}] {response.status_code} "
                                    f"{response.text[:150]} | {_first_line(exc)}")

            run()
    stats["seconds"] = round(time.perf_counter() - started, 1)
    print(f"\nschemathesis ({backend}): {stats}")
    assert stats["operations"] >= 18 and stats["examples"] >= stats["operations"] * 2
    assert stats["5xx"] == 0 and stats["mismatches"] == 0, (stats, "\n".join(sorted(set(failures))[:20]))
