"""What the three web cabinets share: the base template, static assets (vendored htmx 2,
Alpine.js, Chart.js: nothing from a CDN), sessions (Flask-Login), CSRF on every form and htmx
request, secure cookies, login throttling, and Russian formatting filters.

The cabinets live in hub/web/cabinet (the owner's), hub/web/cashier (the cashier's workplace)
and hub/web/my (the participant's); `init_cabinets(app)` sets up what they share and hub.app
registers each of them.
"""
from __future__ import annotations

import os

from flask import Blueprint, Flask, Response, g, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from hub.web.ui import formatting
from hub.web.ui.auth import load_user
from hub.unavailable import register_unavailable_renderer

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "cabinet.login"
login_manager.login_message = "Войдите, чтобы продолжить."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"
login_manager.blueprint_login_views = {"cabinet": "cabinet.login", "cashier": "cashier.login"}

# The blueprints whose every POST (forms and htmx) must carry the CSRF token.
PROTECTED = ("cabinet", "cashier", "my")


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are Secure whenever the request came over HTTPS (or always, with
    SESSION_COOKIE_SECURE / KOPILKA_SECURE_COOKIES=1 in production behind a proxy), HttpOnly,
    SameSite=Lax."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return bool(has_request_context() and request.is_secure)


@login_manager.user_loader
def _load_user(user_id: str):
    return load_user(user_id)


# The policy of every page of the cabinets and the front page. Scripts only from the hub's own
# files (inline handlers moved to ui/static/ui.js): an injected <script> or onerror= does not
# run. 'unsafe-eval' because Alpine.js evaluates its x-data/x-show expressions with
# new Function; styles allow inline because the templates use style="" attributes, which a
# nonce cannot cover. No framing at all (clickjacking of the cashier's buttons).
CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
PAGES = PROTECTED + ("web",)


def _headers(response):
    """Signed-in pages are never kept by the browser (no-store): after «Выйти» on a shop's
    shared tablet, Back must not show a client card, a receipt or a participant's profile
    from the cache or the back-forward cache. Static files keep their caching."""
    if request.blueprint in PAGES and not (request.endpoint or "").endswith(".static"):
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")      # browsers before frame-ancestors
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _protect() -> None:
    if request.blueprint in PROTECTED:
        csrf.protect()


def _csrf_failed(exc: CSRFError):
    message = "Страница устарела или форма отправлена не отсюда. Обновите страницу и повторите."
    if request.headers.get("HX-Request"):
        return render_template("ui/error_fragment.html", message=message), 400
    return render_template("ui/error.html", title="Ошибка проверки формы", message=message), 400


UNAVAILABLE_TITLE = "Сервис временно недоступен"


UNAVAILABLE_TEXT = ("Сервис временно недоступен: база данных не отвечает, ничего не сохранено. "
                    "Обновите страницу через несколько секунд.")


def unavailable_page(message: str):  # people read a page, not the API's wording
    """The database is down: a Russian page (or an htmx fragment) instead of the API's JSON;
    hub.app sets 503 and Retry-After. Nothing here may touch the database."""
    if has_request_context():
        # Flask-Login's template context loads the signed-in user from the database: the page
        # is rendered for an anonymous visitor instead of failing a second time.
        g._login_user = login_manager.anonymous_user()
    if has_request_context() and request.headers.get("HX-Request"):
        body = render_template("ui/error_fragment.html", message=UNAVAILABLE_TEXT)
    else:
        body = render_template("ui/error.html", title=UNAVAILABLE_TITLE, message=UNAVAILABLE_TEXT,
                               back=request.full_path.rstrip("?") if has_request_context() else "/")
    return Response(body, content_type="text/html; charset=utf-8")


def init_cabinets(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)   # checked for our blueprints only
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)      # the Origin/token pair is enough
    if os.environ.get("KOPILKA_SECURE_COOKIES", "").lower() in ("1", "true", "yes"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    login_manager.init_app(app)
    app.before_request(_protect)
    app.after_request(_headers)
    app.register_error_handler(CSRFError, _csrf_failed)
    formatting.install(app)
    app.register_blueprint(bp)

    for name in ("ui", "web", *PROTECTED):
        register_unavailable_renderer(name, unavailable_page)
