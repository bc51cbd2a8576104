"""The process's caches of what is derived from a tenant's data: one kind of cache, keyed by
(tenant, version).

A version is a number the data's owner bumps in the same transaction as every change (the
program settings' `version`, the catalog's `catalog_versions` row). A reader reads the version
first — one small query, or none when the request has it already — and gets the value built at
that version, so two processes that read the same version use the same data: no time to live,
no window in which two workers price one receipt differently. A tenant keeps only its newest
version; this process's own changes also drop the tenant's entry at once (`invalidate`).
"""
from __future__ import annotations

import threading
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")


class VersionedCache(Generic[T]):
    """{tenant: (version, value)}: the value of a tenant's data at one version."""

    def __init__(self, name: str, max_tenants: int = 4096) -> None:
        self.name = name
        self.max_tenants = max_tenants
        self._entries: dict[str, tuple[Hashable, T]] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: str, version: Hashable, build: Callable[[], T]) -> T:
        """The value at `version`, built by `build()` when this process has not got it."""
        entry = self._entries.get(tenant_id)
        if entry is not None and entry[0] == version:
            return entry[1]
        value = build()
        with self._lock:
            if len(self._entries) >= self.max_tenants:
                self._entries.clear()
            self._entries[tenant_id] = (version, value)
        return value

    def peek(self, tenant_id: str, version: Hashable) -> T | None:
        entry = self._entries.get(tenant_id)
        return entry[1] if entry is not None and entry[0] == version else None

    def invalidate(self, tenant_id: str) -> None:
        with self._lock:
            self._entries.pop(tenant_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
