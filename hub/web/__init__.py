"""The hub's own web surface: the front page (and later the cabinets), plus the HTTP rules
every surface shares (body size, JSON nesting: hub/web/limits.py)."""
from __future__ import annotations

from flask import Blueprint, Flask, render_template

from hub.web import limits

bp = Blueprint("web", __name__, template_folder="templates")

LINKS = (
    ("Справочник API", "/api/v1/docs", "интерактивное описание REST API: запросы можно отправить прямо со страницы"),
    ("OpenAPI", "/api/v1/openapi.json", "машиночитаемое описание API для генераторов клиентов"),
    ("Проверка здоровья", "/health", "отвечает 200, когда хаб и база данных работают"),
)


@bp.get("/")
def index():  # noqa: ANN201
    return render_template("home.html", links=LINKS)


def init_web(app: Flask) -> None:
    limits.install(app)
    app.register_blueprint(bp)
