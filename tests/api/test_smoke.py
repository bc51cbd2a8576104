def test_health(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json["database"] == "up"


def test_openapi_lists_the_paths(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json
    assert doc["openapi"].startswith("3.") and doc["info"]["title"]
    paths = doc["paths"]
    expected = {
        "/api/v1/program": {"get", "put"},
        "/api/v1/customers": {"get", "post"},
        "/api/v1/customers/{customer_id}": {"get", "patch"},
        "/api/v1/customers/{customer_id}/ledger": {"get"},
        "/api/v1/customers/{customer_id}/bonuses": {"post"},
        "/api/v1/receipts": {"post"},
        "/api/v1/receipts/calculate": {"post"},
        "/api/v1/receipts/{external_id}": {"get"},
        "/api/v1/receipts/{external_id}/returns": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, sorted(paths)
        assert methods <= set(paths[path]), (path, sorted(paths[path]))
    schemas = doc["components"]["schemas"]
    assert {"Program", "CustomerIn", "Quote", "ReceiptIn", "ReturnIn"} <= set(schemas)
    assert "bearer" in doc["components"]["securitySchemes"]
    assert client.get("/api/v1/docs").status_code == 200


def test_sale(api):
    r = api.post("/api/v1/customers", json={"phone": "8 916 123-45-67"})
    assert r.status_code == 201, r.json
    r = api.post("/api/v1/receipts", json={"external_id": "R1", "customer": {"phone": "+79161234567"},
                                            "positions": [{"id": "1", "price": 250, "quantity": 2}]})
    assert r.status_code == 201, r.json
    assert r.json["totals"]["bonus_earned"] == 25


def test_health_is_503_when_the_database_does_not_answer(client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from hub.extensions import db

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", down)
    r = client.get("/health")
    assert r.status_code == 503 and r.json == {"status": "unavailable", "database": "down"}
