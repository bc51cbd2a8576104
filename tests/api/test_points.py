def test_stores_and_cashiers(api):
    assert api.get("/api/v1/stores").json == {"items": []}
    r = api.post("/api/v1/stores", json={"code": "shop-1", "name": "Магазин на Ленина"})
    assert r.status_code == 201 and r.json["name"] == "Магазин на Ленина"
    r = api.post("/api/v1/stores", json={"code": "shop-1", "name": "Ленина, 1"})
    assert r.status_code == 200 and r.json["name"] == "Ленина, 1"
    assert api.post("/api/v1/stores", json={"name": "без кода"}).status_code == 422
    # A receipt names a new cashier: it is remembered by its code.
    r = api.post("/api/v1/receipts", json={"external_id": "P-1", "cashier": "c-7", "store": "shop-2",
                                            "positions": [{"id": "1", "price": 10, "quantity": 1}]})
    assert r.status_code == 201, r.json
    assert [c["code"] for c in api.get("/api/v1/cashiers").json["items"]] == ["c-7"]
    assert [s["code"] for s in api.get("/api/v1/stores").json["items"]] == ["shop-1", "shop-2"]
