"""Evotor adapter: the Evotor cloud's webhooks (users, installation, subscription, documents),
the terminal app's API (customers, quote with a hold, commit, release, payback) and the cloud
API client (catalog and documents for reconciliation). Every address starts with /evotor;
see evotor/README.md."""
from __future__ import annotations

from evotor import models  # noqa: F401  - the adapter's tables
from evotor import documents  # noqa: F401  - registers the inbox handler
from evotor.cli import cli


def init_app(app) -> None:  # noqa: ANN001
    from evotor.cloud import bp as cloud_bp
    from evotor.documents import bp as documents_bp
    from evotor.terminal import bp as terminal_bp
    app.config.setdefault("EVOTOR_APP_TOKEN", None)
    app.config.setdefault("EVOTOR_API_BASE", "https://api.evotor.ru")
    app.register_blueprint(cloud_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(terminal_bp)
    from evotor.common import EvotorError, cloud_error, terminal_error
    from hub.app import register_unavailable_renderer

    def cloud_unavailable(message: str):  # noqa: ANN202
        return cloud_error(EvotorError(503, 0, message, reason="unavailable"))
    register_unavailable_renderer("evotor_cloud", cloud_unavailable)
    register_unavailable_renderer("evotor_documents", cloud_unavailable)
    register_unavailable_renderer("evotor_terminal",
                                  lambda message: terminal_error(503, "database_unavailable", message))


__all__ = ["cli", "init_app"]
