"""The parts list of the composition root, by name: what create_app, every `kopilka` command,
the rq worker and the embedded scheduler plug in. Nothing registers itself when imported.

- the periodic sweeps, in the order one run executes them (hub.sweeps.run_due); message
  delivery last, so that one run sends what the sweeps before it queued;
- the inbox handlers: which function applies an event of each adapter's source and kind;
- the columns that hold encrypted credentials (`kopilka secrets rotate` re-encrypts them);
- the adapters' web parts (blueprints and their 503 formats).
"""
from __future__ import annotations

from flask import Flask

import evotor.models
import moysklad.models
import onec.models
from connectors import inbox
from connectors.registry import mark_unreadable
from hub.secrets import register_encrypted
from evotor import documents as evotor_documents
from evotor.app import init_app as init_evotor
from hub.analytics.operations import fold as analytics_sweep
from hub.automation.sweep import run as automation_sweep
from hub.certificates.operations import expiry_sweep as certificates_sweep
from hub.connections.models import Connection
from hub.exports.operations import build_queued_exports
from hub.exports.sweeps import fail_abandoned_exports
from hub.notify.delivery import sweep as delivery_sweep
from hub.notify.models import NotifyChannel
from hub.sweeps import register_sweep
from hub.wallet.models import WalletPassConfig
from moysklad.app import init_app as init_moysklad
from moysklad.jsonapi import handlers as moysklad_handlers
from onec import odata as onec_odata
from onec.app import init_app as init_onec

# The adapters' own tables, for one MetaData with the hub's (Alembic, create_all).
ADAPTER_MODELS = (evotor.models, moysklad.models, onec.models)

SWEEPS = (
    ("certificates", certificates_sweep),
    ("automation", automation_sweep),
    ("analytics", analytics_sweep),         # folds the sales deltas into the daily rollups
    ("exports_abandoned", fail_abandoned_exports),
    ("exports_queued", build_queued_exports),   # with rq: those its jobs have not taken
    ("inbox_retried", inbox.retry_due),
    ("onec_odata_pulled", onec_odata.sync_due),
    ("onec_writeoffs_flagged", onec_odata.flag_unclaimed),
    ("notify", delivery_sweep),             # last: sends what the sweeps before it queued
)

INBOX_HANDLERS = (
    ("evotor", "document", evotor_documents.apply_document),
    ("moysklad", "retaildemand", moysklad_handlers.apply_retaildemand),
    ("moysklad", "retailsalesreturn", moysklad_handlers.apply_retailsalesreturn),
    ("onec", "document", onec_odata.apply_document),
    ("onec", "writeoff_unclaimed", onec_odata.review_writeoff),
)

ENCRYPTED_COLUMNS = (
    (Connection, "credentials", mark_unreadable),
    (NotifyChannel, "credentials", None),
    (WalletPassConfig, "credentials", None),
)


def wire() -> None:
    """Register the sweeps, inbox handlers and encrypted columns (idempotent)."""
    for name, fn in SWEEPS:
        register_sweep(name, fn, last=name == "notify")
    for source, kind, fn in INBOX_HANDLERS:
        inbox.register_handler(source, kind, fn)
    for model, attribute, on_unreadable in ENCRYPTED_COLUMNS:
        register_encrypted(model, attribute, on_unreadable)


def init_adapters(app: Flask) -> None:
    init_moysklad(app)
    init_evotor(app)
    init_onec(app)
