"""The evotor adapter's part of the application: its blueprints and its 503 format (called by
hub.adapters)."""
from __future__ import annotations
from evotor.documents import bp as documents_bp
from evotor.cloud import bp as cloud_bp
from hub.unavailable import register_unavailable_renderer
from evotor.common import EvotorError, cloud_error, terminal_error
from evotor.terminal import bp as terminal_bp


def init_app(app) -> None:
    app.config.setdefault("EVOTOR_APP_TOKEN", None)
    app.config.setdefault("EVOTOR_API_BASE", "https://api.evotor.ru")
    app.register_blueprint(cloud_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(terminal_bp)

    def cloud_unavailable(message: str):
        return cloud_error(EvotorError(503, 0, message, reason="unavailable"))
    register_unavailable_renderer("evotor_cloud", cloud_unavailable)
    register_unavailable_renderer("evotor_documents", cloud_unavailable)
    register_unavailable_renderer("evotor_terminal",
                                  lambda message: terminal_error(503, "database_unavailable", message))
