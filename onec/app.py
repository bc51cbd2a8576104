"""The onec adapter's part of the application: its blueprints and its 503 format (called by
hub.adapters)."""
from __future__ import annotations
from hub.unavailable import register_unavailable_renderer
from onec.exchange import failure
from onec.exchange import bp as exchange_bp
from onec.loyalty import as_text
from onec.soap import SOAP11, SOAP12, fault
from onec.loyalty import bp as loyalty_bp
from onec.soap import bp as soap_bp


def init_app(app) -> None:
    app.register_blueprint(loyalty_bp)
    app.register_blueprint(soap_bp)
    app.register_blueprint(exchange_bp)
    from flask import request


    def soap_unavailable(message: str):
        # The envelope's version is not parsed yet: the Content-Type tells it (as in the view).
        version = SOAP12 if "soap+xml" in (request.content_type or "").lower() else SOAP11
        return fault(version, message, False)
    # 1С's own loyalty provider answers failures in plain text; the exchange in "failure\n…".
    register_unavailable_renderer("onec_loyalty", as_text)
    register_unavailable_renderer("onec_soap", soap_unavailable)
    register_unavailable_renderer("onec_exchange", failure)
