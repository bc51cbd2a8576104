"""The hub's own web surface: the front page (and later the cabinets), plus the HTTP rules
every surface shares (body size, JSON nesting: hub/web/limits.py)."""
from __future__ import annotations

import os

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for

from hub.web import limits
from hub.tenants.operations import tenant_for_key
from hub.extensions import db

bp = Blueprint("web", __name__, template_folder="templates")

LINKS = (
    ("Справочник API", "/api/v1/docs", "интерактивное описание REST API: запросы можно отправить прямо со страницы"),
    ("OpenAPI", "/api/v1/openapi.json", "машиночитаемое описание API для генераторов клиентов"),
    ("Проверка здоровья", "/health", "отвечает 200, когда хаб и база данных работают"),
)


def demo_key_path(database_url: str) -> str | None:
    """Where `kopilka serve` keeps the demo tenant's API key on the embedded default (SQLite):
    beside the database file. None on any other database (no demo tenant there)."""
    if not database_url.startswith("sqlite") or "///" not in database_url:
        return None
    return os.path.join(os.path.dirname(database_url.split("///", 1)[1]), "demo-api-key.txt")


def demo_tenant_id() -> str | None:
    """The demo tenant made by `kopilka serve` on its first start, if this hub has one."""
    path = demo_key_path(current_app.config.get("DATABASE_URL") or "")
    if not path or not os.path.exists(path):
        return None
    with open(path) as fh:
        key = fh.read().strip()
    try:
        return tenant_for_key(db.session, key) if key else None
    finally:
        db.session.rollback()


@bp.get("/")
def index():
    return render_template("home.html", links=LINKS, demo_tenant=demo_tenant_id())


@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico on pages without an icon link (JSON, Swagger UI): the SVG.
    return redirect(url_for("ui.static", filename="favicon.svg"), code=301)


def init_web(app: Flask) -> None:
    limits.install(app)
    app.register_blueprint(bp)
