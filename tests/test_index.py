"""The front page and the API reference: Russian, linked, and working offline (every asset
served by the hub itself, nothing from a CDN)."""
from __future__ import annotations

import re


def test_the_front_page_says_what_this_is_and_links_the_reference_and_health(app):
    client = app.test_client()
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert '<html lang="ru">' in html and "Копилка" in html and "программа лояльности" in html.lower()
    links = set(re.findall(r'href="([^"]+)"', html))
    assert {"/api/v1/docs", "/api/v1/openapi.json", "/health", "/cabinet/", "/cashier/"} <= links, links
    for link in links:   # every door opens (the cabinets on their sign-in page)
        assert client.get(link, follow_redirects=True).status_code == 200, link


def test_the_api_reference_loads_nothing_from_outside(app):
    client = app.test_client()
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "cdn" not in html.lower(), html
    assert '"validatorUrl": null' in html                   # no badge from the online validator
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"swagger-ui.css", "swagger-ui-bundle.js",
                                                     "swagger-ui-standalone-preset.js"}, assets
    for asset in assets:
        got = client.get(asset)
        assert got.status_code == 200 and len(got.data) > 1000, asset
    assert client.get("/api/v1/redoc").status_code == 404          # ReDoc came from a CDN: gone
