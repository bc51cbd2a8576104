"""МойСклад's error format: {"errors": [{"error", "parameter", "code", "error_message"}]}.

Codes: 28001 is МойСклад's "confirm the new customer"; the 29xxx range is Kopilka's own.
"""
from __future__ import annotations

from flask import jsonify

from hub.errors import Conflict, DomainError, Invalid, NotFound, Unauthorized

CONFIRMATION_REQUIRED = 28001
AUTH = 29001
VALIDATION = 29002
COUNTERPARTY_NOT_FOUND = 29003
SALE_NOT_FOUND = 29004
SPEND_NOT_ALLOWED = 29005
DISCOUNT_NOT_ALLOWED = 29006
CONFLICT = 29007
VERIFICATION_REQUIRED = 29008
REPEAT_TOO_EARLY = 29009
INTERNAL = 29010
RULE = 29011
GIFT_CARD = 29012

_TITLES = {
    400: "Некорректный запрос",
    401: "Ошибка авторизации",
    404: "Не найдено",
    409: "Конфликт с проведённой операцией",
    412: "Операция не выполнена",
    500: "Внутренняя ошибка",
}

# Core error codes with a code of ours and, where useful, the field they concern.
_DOMAIN = {
    "customer_not_found": (404, COUNTERPARTY_NOT_FOUND, "agent"),
    "receipt_not_found": (404, SALE_NOT_FOUND, "demand"),
    "spend_not_allowed": (412, SPEND_NOT_ALLOWED, "bonusProgram.bonusValueToSpend"),
    "insufficient_bonuses": (412, SPEND_NOT_ALLOWED, "bonusProgram.bonusValueToSpend"),
    "customer_required": (412, COUNTERPARTY_NOT_FOUND, "agent"),
    "discount_not_allowed": (412, DISCOUNT_NOT_ALLOWED, "positions"),
    "invalid_phone": (400, VALIDATION, "phone"),
    "invalid_moment": (400, VALIDATION, "moment"),
    "moment_in_future": (400, VALIDATION, "moment"),
    "code_repeat_too_early": (412, REPEAT_TOO_EARLY, None),
    "return_exceeds_sale": (412, RULE, "positions"),
    "unknown_position": (412, RULE, "positions"),
    "nothing_to_return": (412, RULE, "positions"),
}


class MsError(Exception):
    def __init__(self, status: int, code: int, message: str, parameter: str | None = None,
                 title: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter
        self.title = title or _TITLES.get(status, "Ошибка")


def error_response(err: MsError):
    item = {"error": err.title, "code": err.code, "error_message": err.message}
    if err.parameter:
        item["parameter"] = err.parameter
    response = jsonify({"errors": [item]})
    response.status_code = err.status
    return response


def from_domain(exc: DomainError) -> MsError:
    if exc.code in _DOMAIN:
        status, code, parameter = _DOMAIN[exc.code]
    elif isinstance(exc, Unauthorized):
        status, code, parameter = 401, AUTH, None
    elif isinstance(exc, NotFound):
        status, code, parameter = 404, RULE, None
    elif isinstance(exc, Conflict):
        status, code, parameter = 409, CONFLICT, None
    elif isinstance(exc, Invalid):
        status, code, parameter = 412, RULE, None
    else:
        status, code, parameter = 400, VALIDATION, None
    if exc.code in ("invalid_phone",) and exc.details:
        parameter = next(iter(exc.details), parameter)
    return MsError(status, code, exc.message, parameter)
