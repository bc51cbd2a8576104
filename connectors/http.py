"""The outbound HTTP client every adapter uses: timeouts, retries with backoff on 429 and
5xx honouring Retry-After, and structured logs without secrets."""
from __future__ import annotations

import email.utils
import logging
import time
from datetime import timezone
from typing import Any, Callable

import requests

from hub.secrets import SECRET_WORDS
from hub.clock import utcnow

log = logging.getLogger("kopilka.http")

RETRY_STATUSES = {429, 500, 502, 503, 504}


class OutboundError(Exception):
    def __init__(self, message: str, status: int | None = None, body: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = body


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - utcnow()).total_seconds())


def _safe_headers(headers: dict) -> dict:
    return {k: ("***" if any(w in k.lower() for w in SECRET_WORDS) else v) for k, v in headers.items()}


class HttpClient:
    def __init__(self, base_url: str = "", *, headers: dict | None = None, timeout: float = 10.0,
                 retries: int = 3, backoff: float = 0.5, max_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.headers = headers or {}
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.session = session or requests.Session()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send with retries; returns the final response (raises OutboundError on failure)."""
        full = url if url.startswith("http") else f"{self.base_url}/{url.lstrip('/')}"
        headers = {**self.headers, **kwargs.pop("headers", {})}
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self.session.request(method, full, headers=headers,
                                                timeout=kwargs.pop("timeout", self.timeout), **kwargs)
            except requests.RequestException as exc:
                log.warning("http %s %s attempt=%d error=%s", method, full, attempt, type(exc).__name__)
                if attempt > self.retries:
                    raise OutboundError(f"{method} {full}: {type(exc).__name__}: {exc}") from exc
                self.sleep(min(self.backoff * 2 ** (attempt - 1), self.max_wait))
                continue
            elapsed_ms = round((time.monotonic() - started) * 1000)
            log.info("http %s %s status=%d ms=%d attempt=%d headers=%s", method, full,
                     response.status_code, elapsed_ms, attempt, _safe_headers(headers))
            if response.status_code in RETRY_STATUSES and attempt <= self.retries:
                wait = _retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = self.backoff * 2 ** (attempt - 1)
                self.sleep(min(wait, self.max_wait))
                continue
            if response.status_code >= 400:
                raise OutboundError(f"{method} {full}: HTTP {response.status_code}",
                                    response.status_code, response.text[:2000])
            return response

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", url, **kwargs)
