"""Business errors raised by services; each adapter renders them in its wire format."""
from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    """The request is well-formed but breaks a business rule (HTTP 422)."""
    status = 422


class Unauthorized(DomainError):
    status = 401
