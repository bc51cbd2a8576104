"""The base of every API schema: schema-level messages in Russian."""
from __future__ import annotations

from marshmallow import Schema as _Schema


class Schema(_Schema):
    error_messages = {"unknown": "Неизвестное поле.", "type": "Должен быть JSON-объект."}
