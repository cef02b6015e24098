"""Application factory: `create_app(config=None)` (docs/architecture.md §1)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib
import logging
import pkgutil
from pathlib import Path

from flask import Flask, g, redirect, request, session, url_for
from flask.globals import _cv_app
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    get_translations,
    gettext,
)
from flask_htmx import make_response as htmx_response
from flask_login import current_user, logout_user
from jinja2 import pass_eval_context
from markupsafe import Markup

import webapp.blueprints as package
from webapp import cli, errors, navigation
from webapp import settings as settings_module
from webapp.blueprints.pickers import account_order_state as account_order_picker_state
from webapp.blueprints.pickers import account_site_state as account_site_picker_state
from webapp.blueprints.pickers import line_state as line_picker_state
from webapp.blueprints.pickers import state as site_picker_state
from webapp.db import db, init_db, retry_conflicts
from webapp.extensions import babel, compress, csrf, htmx, limiter, login_manager, server_session
from webapp.i18n import Text, duration, duration_patterns, money
from webapp.permissions import PERMISSIONS
from webapp.proxies import TrustedProxyFix, parse
from webapp.redis_conn import redis_for
from webapp.security import current_access, request_is_background, request_is_public
from webapp.services import audio as audio_service
from webapp.services import directory_csv, folders, phones, tickets
from webapp.translate import translate

LOCALES = ("fr", "en")
# The idle clock (SEC-8) is kept to the minute: a page writes the session back to Redis
# only when its last user action is at least this old, so reading pages costs one Redis
# read, not a read and a write. A session ends at most this much before its idle limit.
IDLE_CLOCK_STEP_S = 60


def create_app(config: dict | None = None) -> Flask:
    settings = settings_module.load(config)
    if not settings.SECRET_KEY:
        raise RuntimeError("SECRET_KEY must be set (see README, Configuration).")
    app = Flask(__name__)
    app.config.update(_flask_config(settings))
    app.extensions["cm_settings"] = settings
    if settings.TRUSTED_PROXIES:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, parse(settings.TRUSTED_PROXIES))

    init_db(settings.DATABASE_URL, pooled=True)
    _init_extensions(app, settings)
    _register_blueprints(app)
    _retry_write_conflicts(app)
    _install_request_hooks(app, settings)
    _install_template_helpers(app)

    errors.register(app)
    cli.register(app)
    return app


def _flask_config(settings) -> dict:
    secure = settings.BASE_URL.startswith("https://")
    return {
        "SECRET_KEY": settings.SECRET_KEY,
        "TESTING": settings.TESTING,
        "SESSION_TYPE": "redis",
        "SESSION_REDIS": redis_for(settings.REDIS_URL),
        "SESSION_KEY_PREFIX": "session:",
        "SESSION_PERMANENT": True,
        "SESSION_USE_SIGNER": False,
        "SESSION_COOKIE_NAME": "cm_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        # stored (and its cookie and expiry renewed) only when it changes: the idle clock
        # below changes it at most once a minute, not on every page (SCALE-4)
        "SESSION_REFRESH_EACH_REQUEST": False,
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES),
        "RATELIMIT_STORAGE_URI": settings.REDIS_URL,
        "RATELIMIT_ENABLED": settings.RATELIMIT_ENABLED,
        "RATELIMIT_KEY_PREFIX": "limit",
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        # gzip level 3 (flask-compress's default 6): a page compresses in about two thirds
        # of the time for some 10 % more bytes (brotli keeps its quality 4)
        "COMPRESS_LEVEL": 3,
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "application/javascript",
                               "text/javascript", "application/json", "image/svg+xml",
                               "text/csv"],
        "SEND_FILE_MAX_AGE_DEFAULT": dt.timedelta(days=365),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
    }


def _select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.language in LOCALES:
        return current_user.language
    chosen = session.get("language")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "fr"


def _select_timezone() -> str | None:
    """SCALE-3: dates on screen in the signed-in user's account time zone (flask-babel
    asks once per request); the back office and signed-out pages keep the default."""
    if current_user and current_user.is_authenticated:
        # the user's account row, loaded once per request (the layout shows its name)
        return current_user.account.timezone or None
    return None


def _catalogue():
    """The translations of the request's locale, kept on `g` while that locale holds
    (a `force_locale` block gets its own). A page asks for it dozens of times: the app
    context's `g` is read without its proxy, and flask-babel's locale from where it keeps
    it (`g._flask_babel.babel_locale`), `get_locale()` only the first time."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:  # flask-babel's fallback (no translation)
        return get_translations()
    state = app_ctx.g.__dict__
    babel_state = state.get("_flask_babel")
    locale = getattr(babel_state, "babel_locale", None)
    cached = state.get("cm_catalogue")
    if locale is None or cached is None or cached[0] is not locale:
        locale = get_locale()
        cached = state["cm_catalogue"] = (locale, get_translations())
    return cached[1]


@pass_eval_context
def _template_gettext(eval_ctx, string: str, **variables):
    """`{{ _("…") }}` and `{{ gettext("…") }}`: what Jinja's newstyle gettext returns (the
    message, escaped values formatted in), in one call instead of three."""
    message = _catalogue().ugettext(string)
    if eval_ctx.autoescape:
        message = Markup(message)
    return message % variables if variables or "%" in message else message


def _init_extensions(app: Flask, settings) -> None:
    server_session.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone,
                   default_translation_directories=str(Path(app.root_path) / "translations"))
    # A page's dozens of {{ _() }} look the catalogue up once per request and locale, not
    # once per call (flask-babel's own callables find its context, domain and locale again
    # each time); same catalogue, same newstyle formatting and escaping by Jinja.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True)
    # `_` and `gettext`, dozens per page, then bypass Jinja's newstyle wrappers installed
    # above (the plural and context forms keep them)
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # sessions are server-side and rotated by us


def _register_blueprints(app: Flask) -> None:
    """Every module of webapp.blueprints that defines `bp` is registered."""
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        bp = getattr(module, "bp", None)
        if bp is not None:
            app.register_blueprint(bp)


def _retry_write_conflicts(app: Flask) -> None:
    """REL-1: an unsafe request whose transaction lost a PostgreSQL conflict (serialisation
    failure, deadlock) is run again, a bounded number of times (webapp.db)."""
    def wrap(view):
        retried = retry_conflicts(view)

        @functools.wraps(view)
        def dispatch(**kwargs):
            if request.method in ("GET", "HEAD", "OPTIONS"):
                return view(**kwargs)
            return retried(**kwargs)

        return dispatch

    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = wrap(view)


def _install_request_hooks(app: Flask, settings) -> None:
    max_age = dt.timedelta(hours=settings.SESSION_MAX_HOURS)
    hsts = settings.BASE_URL.startswith("https://")

    @app.before_request
    def _open_db():
        # Close at teardown only what this request opened (tests and CLI may hold one).
        g.db_opened_here = db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close_db(exc):
        if g.get("db_opened_here") and not db.is_closed():
            db.close()

    idle_s = settings.SESSION_IDLE_MINUTES * 60

    @app.before_request
    def _enforce_session():
        now = dt.datetime.now(dt.UTC).timestamp()
        started = session.get("started_at")
        if started and now - started > max_age.total_seconds():
            logout_user()
            session.clear()
            started = None
        if started:
            # The idle timeout counts from the last *user* request: polls and live streams
            # the page makes by itself (@background) never extend it (SEC-8).
            last_action = session.get("last_action", started)
            if now - last_action > idle_s:
                logout_user()
                session.clear()
            elif not request_is_background() and (
                    "last_action" not in session or now - last_action >= IDLE_CLOCK_STEP_S):
                session["last_action"] = now
        if request_is_public() or current_user.is_authenticated:
            return None
        if request.headers.get("HX-Request"):
            return htmx_response("", 401, redirect=url_for("auth.login",
                                                           next=request.full_path))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.after_request
    def _translate_flashes(response):
        """A service's message flashed by a view (a Text) is kept translated, as plain text:
        the reader's language now, and the session stores only plain values."""
        flashes = session.get("_flashes")
        if flashes and any(isinstance(message, Text) for _category, message in flashes):
            session["_flashes"] = [(category, str(translate(message)))
                                   for category, message in flashes]
        return response

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if hsts:  # SEC-8: served over HTTPS, browsers never try plain HTTP again
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static" and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store" if current_user.is_authenticated else "no-cache"
        return response


_static_versions: dict[str, str] = {}
_static_urls: dict[tuple[str, str], str] = {}


def _install_template_helpers(app: Flask) -> None:
    static_dir = Path(app.static_folder or "")

    def static_url(filename: str) -> str:
        """Long-cached static files: the URL changes with the content (built once per
        file and mount point; again on every page in debug)."""
        key = (request.script_root, filename)
        url = _static_urls.get(key)
        if url is None or app.debug:
            version = _static_versions.get(filename)
            if version is None or app.debug:
                path = static_dir / filename
                version = (hashlib.sha256(path.read_bytes()).hexdigest()[:12]
                           if path.exists() else "0")
                _static_versions[filename] = version
            url = _static_urls[key] = url_for("static", filename=filename, v=version)
        return url

    @app.context_processor
    def _globals():
        nav = navigation.visible_items(current_access()) if current_user.is_authenticated else []
        return {
            "current_locale": str(get_locale() or "fr"),
            "nav_items": nav,
            "nav_links": [(href, item.label, item.key == g.get("active_nav"))
                          for item, href in nav],
            "PERMISSIONS": PERMISSIONS,
            "active_nav": g.get("active_nav"),
        }

    app.jinja_env.filters["phone"] = phones.display  # UI-2: "01 23 45 67 89"
    # UI-3: upload limits the browser checks before sending (the server checks again)
    app.jinja_env.globals["upload_max"] = {
        "audio": audio_service.MAX_BYTES, "ticket": tickets.MAX_BYTES,
        "csv": directory_csv.MAX_BYTES, "photo": folders.PHOTO_MAX_BYTES}
    app.jinja_env.globals["upload_max_label"] = lambda n: gettext(
        "%(num)s Mo", num=format_decimal(round(n / 1024 / 1024, 1)))
    # UI-5: dates and amounts through Babel, in the reader's language (never strftime or
    # a hand-made "€"); a stored (UTC) datetime is shown in the account's time zone
    # (SCALE-3), an already local one (`|local`, `|clock`) as it is.
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        format_datetime(value.replace(tzinfo=dt.UTC), fmt) if value else ""
    )
    app.jinja_env.filters["local"] = lambda value, fmt="medium": (
        format_datetime(value, fmt, rebase=False) if value else "")
    app.jinja_env.filters["clock"] = lambda value: (
        format_time(value, "short", rebase=False) if value else "")
    app.jinja_env.filters["date"] = lambda value, fmt="short": (
        format_date(value, fmt) if value else "")
    app.jinja_env.filters["money"] = lambda cents: money(cents, str(get_locale() or "fr"))
    app.jinja_env.filters["duration"] = lambda seconds: duration(seconds,
                                                                 str(get_locale() or "fr"))
    app.jinja_env.globals["duration_patterns"] = lambda: duration_patterns(
        str(get_locale() or "fr"))
    # A service's message (webapp.i18n.Text) shows in the reader's language.
    app.jinja_env.finalize = translate

    app.jinja_env.globals.update(
        site_picker_state=site_picker_state,
        line_picker_state=line_picker_state,
        account_site_picker_state=account_site_picker_state,
        account_order_picker_state=account_order_picker_state,
        static_url=static_url,
        current_access=current_access,
        has_endpoint=lambda name: name in app.view_functions,
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
