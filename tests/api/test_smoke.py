def test_health(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json["database"] == "up"


def test_sale(api):
    r = api.post("/api/v1/customers", json={"phone": "8 916 123-45-67"})
    assert r.status_code == 201, r.json
    r = api.post("/api/v1/receipts", json={"external_id": "R1", "customer": {"phone": "+79161234567"},
                                            "positions": [{"id": "1", "price": 250, "quantity": 2}]})
    assert r.status_code == 201, r.json
    assert r.json["totals"]["bonus_earned"] == 25
