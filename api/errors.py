"""The API's error format: {"error": {"code", "message", "details"}}."""
from __future__ import annotations

import re

from flask import jsonify
from werkzeug.exceptions import HTTPException

from hub.errors import DomainError

_MESSAGES = {
    400: ("bad_request", "Некорректный запрос: тело должно быть JSON-объектом."),
    401: ("unauthorized", "Нужен заголовок Authorization: Bearer <API-ключ>."),
    404: ("not_found", "Не найдено."),
    405: ("method_not_allowed", "Метод не поддерживается для этого адреса."),
    409: ("conflict", "Конфликт с уже проведённой операцией."),
    413: ("too_large", "Слишком большой запрос."),
    415: ("unsupported_media_type", "Нужен Content-Type: application/json."),
    422: ("validation_error", "Проверьте поля запроса."),
    500: ("internal_error", "Внутренняя ошибка сервера; операция не проведена."),
    503: ("unavailable", "Сервис временно недоступен."),
}


CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_BAD_JSON = "Тело запроса — не JSON или JSON вложен слишком глубоко."


def error_response(status: int, code: str, message: str, details: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def _flatten(messages, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out += _flatten(value, "" if key == "_schema" and not prefix else name)
        return out
    return [prefix or "body"]


def handle_http_exception(error: HTTPException):
    code, message = _MESSAGES.get(error.code or 500, ("error", error.description or ""))
    data = getattr(error, "data", None) or {}
    details = data.get("errors") or data.get("messages") or {}
    if error.code == 422 and details:
        # webargs nests by location ({"json": {...}}); the caller wants field paths.
        fields = details.get("json", details) if isinstance(details, dict) else details
        if "query" in details:
            fields = details["query"]
        details = fields
        names = sorted(set(_flatten(fields)))
        message = f"Проверьте поля запроса: {', '.join(names)}."
    elif error.code == 400 and data.get("messages"):
        # webargs: the body is not JSON (or JSON nested too deeply).
        details = {"body": [_BAD_JSON]}
    elif error.code == 413 and error.description and CYRILLIC.search(error.description):
        message = error.description          # hub/web/limits.py: says the limit
    elif data.get("message"):
        message = data["message"]
    return error_response(error.code or 500, code, message, details)


def handle_domain_error(error: DomainError):
    return error_response(error.status, error.code, error.message, error.details)
