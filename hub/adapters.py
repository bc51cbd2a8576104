"""Plugs the packages outside hub/ into it.

An adapter package (moysklad, evotor, onec) may define:
- ``init_app(app)``: register its blueprints and error handlers;
- ``cli``: a click group added to the ``kopilka`` command;
and registers inbox handlers and automation sweeps when imported.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

ADAPTER_MODULES = ("connectors.inbox", "connectors.cli", "moysklad", "evotor", "onec", "hub.notify", "hub.cli.messages", "hub.automation", "hub.cli.users", "hub.cli.wallet", "hub.exports.sweeps")


def load_adapters() -> list[ModuleType]:
    modules = []
    for name in ADAPTER_MODULES:
        if importlib.util.find_spec(name) is not None:
            modules.append(importlib.import_module(name))
    return modules


def init_adapters(app) -> None:  # noqa: ANN001
    for module in load_adapters():
        if hasattr(module, "init_app"):
            module.init_app(app)


def adapter_commands() -> list:
    # (a package whose cli.py is listed itself has that module as its `cli` attribute)
    return [m.cli for m in load_adapters() if hasattr(m, "cli") and not isinstance(m.cli, ModuleType)]
