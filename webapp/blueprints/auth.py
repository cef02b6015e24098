"""Sign-in with e-mail 2FA, sign-out, password links (ACC-1..6, TFA-1..3, TFA-6)."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from webapp.extensions import client_ip, limiter
from webapp.models import TFA_ACTIVE, TFA_DISABLED, TrustedBrowser, User, utcnow
from webapp.rendering import render
from webapp.security import public, safe_next
from webapp.services import audit
from webapp.services import auth as auth_service
from webapp.services.access import access_for
from webapp.services.browsers import describe_browser
from webapp.services.tokens import digest, new_token

bp = Blueprint("auth", __name__)

TRUST_COOKIE = "cm_trust"
PRE_AUTH_TTL_S = 15 * 60


def _settings():
    return current_app.extensions["cm_settings"]


def _account_key() -> str:
    return "signin:" + request.form.get("email", "").strip().lower()


def _failed(response) -> bool:
    return response.status_code >= 400


@bp.route("/connexion", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute; 100 per hour", methods=["POST"], deduct_when=_failed)
@limiter.limit("5 per minute; 20 per hour", key_func=_account_key, methods=["POST"],
               deduct_when=_failed)
def login():
    next_url = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("main.dashboard"))
    email = request.values.get("email", "")
    if request.method == "GET":
        return render("auth/login.html", email=email, next_url=next_url)
    user = auth_service.authenticate(email, request.form.get("password", ""))
    if user is None:
        audit.record("signin.failed", ip=client_ip())
        return render("auth/login.html", status=401, email=email, next_url=next_url,
                      error=_("Adresse e-mail ou mot de passe incorrect."))
    if not access_for(user).has_manager:
        return render("auth/login.html", status=403, email=email, next_url=next_url,
                      error=_("Votre compte ne donne pas accès au Manager : il faut au moins "
                              "un rôle avec des permissions. Demandez-le à l'administrateur "
                              "de votre entreprise."))
    return _after_password(user, next_url)


def _after_password(user: User, next_url: str):
    """The password is right: new session id, then 2FA unless trusted or disabled."""
    logout_user()
    session.clear()
    trust_token = request.cookies.get(TRUST_COOKIE)
    if user.tfa_state == TFA_DISABLED:
        return _complete(user, next_url)
    if user.tfa_state == TFA_ACTIVE and auth_service.is_trusted(user, trust_token,
                                                                  ip=client_ip()):
        trusted = TrustedBrowser.get(TrustedBrowser.token_hash == digest(trust_token))
        return _complete(user, next_url, trust_id=trusted.id)
    attempt = new_token()
    session["pre_auth"] = {"user_id": user.id, "attempt": attempt, "next": next_url,
                           "at": time.time(), "code_sent": False}
    if user.tfa_state == TFA_ACTIVE:
        _send_code(user, attempt)
    current_app.session_interface.regenerate(session)
    return redirect(url_for("auth.verify"), 303)


def _pending() -> tuple[User | None, dict]:
    pending = session.get("pre_auth") or {}
    if not pending or time.time() - pending.get("at", 0) > PRE_AUTH_TTL_S:
        return None, {}
    user = User.get_or_none(User.id == pending["user_id"])
    if user is None or not user.is_active:
        return None, {}
    return user, pending


def _send_code(user: User, attempt: str) -> None:
    auth_service.issue_code(user, attempt, settings=_settings(),
                            browser=describe_browser(request.user_agent.string),
                            ip=client_ip())
    pending = session.get("pre_auth") or {}
    pending["code_sent"] = True
    session["pre_auth"] = pending


@bp.route("/connexion/verification", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", methods=["POST"])
def verify():
    user, pending = _pending()
    if user is None:
        flash(_("Votre tentative de connexion a expiré : reconnectez-vous."), "warning")
        return redirect(url_for("auth.login"))
    context = {"user": user, "code_sent": pending.get("code_sent"),
               "activating": user.tfa_state != TFA_ACTIVE}
    if request.method == "GET":
        return render("auth/verify.html", **context)
    code = request.form.get("code", "").strip()
    result = auth_service.check_code(user, pending["attempt"], code, settings=_settings())
    if result is auth_service.CodeResult.OK:
        auth_service.activate_tfa(user, client_ip())
        trust_id = None
        token = None
        if request.form.get("trust") == "1":
            token = auth_service.trust_browser(
                user, browser=describe_browser(request.user_agent.string), ip=client_ip())
            trust_id = TrustedBrowser.get(TrustedBrowser.token_hash == digest(token)).id
        response = _complete(user, pending.get("next", ""), trust_id=trust_id)
        if token:
            response.set_cookie(
                TRUST_COOKIE, token, max_age=int(auth_service.TRUST_TTL.total_seconds()),
                httponly=True, samesite="Lax",
                secure=current_app.config["SESSION_COOKIE_SECURE"], path="/connexion")
        return response
    if result is auth_service.CodeResult.WRONG:
        left = auth_service.tries_left(user, pending["attempt"])
        error = ngettext("Code incorrect. Il vous reste %(num)d essai.",
                         "Code incorrect. Il vous reste %(num)d essais.", left)
    elif result is auth_service.CodeResult.EXPIRED:
        error = _("Ce code a expiré : demandez un nouveau code.")
    else:
        error = _("Ce code n'est plus valable (trop d'essais ou remplacé) : "
                  "demandez un nouveau code.")
    return render("auth/verify.html", status=400, error=error, code=code, **context)


def _resend_key() -> str:
    pending = session.get("pre_auth") or {}
    return f"resend:{pending.get('user_id', client_ip())}"


@bp.route("/connexion/envoyer-code", methods=["POST"])
@public
@limiter.limit("3 per minute; 10 per hour", key_func=_resend_key)
def send_code():
    """"Activer" and "Envoyer un nouveau code": a fresh code, the previous one dies."""
    user, pending = _pending()
    if user is None:
        return redirect(url_for("auth.login"))
    _send_code(user, pending["attempt"])
    flash(_("Un code vient de vous être envoyé par e-mail à %(email)s.", email=user.email),
          "info")
    return redirect(url_for("auth.verify"), 303)


def _complete(user: User, next_url: str, trust_id: int | None = None):
    session.clear()
    login_user(user)
    session["auth_version"] = user.auth_version
    session["started_at"] = time.time()
    if trust_id:
        session["trust_id"] = trust_id
    current_app.session_interface.regenerate(session)
    User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
    audit.record("signin.success", account=user.account_id, user=user, ip=client_ip(),
                 trusted=bool(trust_id))
    return redirect(safe_next(next_url, url_for("main.dashboard")), 303)


@bp.route("/deconnexion", methods=["POST"])
@public
def logout():
    if current_user.is_authenticated:
        audit.record("signout", account=current_user.account_id, user=current_user,
                     ip=client_ip())
    logout_user()
    session.clear()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("auth.login"), 303)


# --- ACC-2/3: define or reset the password ------------------------------------------

@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
@public
@limiter.limit("5 per minute; 30 per hour", methods=["POST"])
def forgot():
    if request.method == "GET":
        return render("auth/forgot.html", email=request.args.get("email", ""))
    email = request.form.get("email", "").strip()
    if "@" not in email:
        return render("auth/forgot.html", status=400, email=email,
                      error=_("Saisissez une adresse e-mail valide."))
    # The whole lookup runs in the worker: same answer, same time, whoever asks.
    from worker.jobs import enqueue_password_link

    enqueue_password_link(_settings().REDIS_URL, email, client_ip())
    return render("auth/forgot_sent.html", email=email)


@bp.route("/mot-de-passe/definir/<token>")
@public
def password_link(token: str):
    """Move the token out of the address bar and history, into the session."""
    session["password_token"] = token
    return redirect(url_for("auth.define_password"), 303)


@bp.route("/mot-de-passe/definir", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def define_password():
    token = session.get("password_token")
    row = auth_service.live_password_token(token) if token else None
    if row is None:
        return render("auth/link_invalid.html", status=410)
    if request.method == "GET":
        return render("auth/define_password.html", email=row.user.email)
    password = request.form.get("password", "")
    if password != request.form.get("confirm", ""):
        return render("auth/define_password.html", status=400, email=row.user.email,
                      error=_("Les deux saisies ne correspondent pas."))
    user, errors = auth_service.set_password(token, password, ip=client_ip())
    if user is None:
        return render("auth/define_password.html", status=400, email=row.user.email,
                      error=" ".join(errors))
    logout_user()
    session.clear()
    if access_for(user).has_manager:
        flash(_("Votre mot de passe est défini. Connectez-vous pour continuer vers le "
                "Manager."), "success")
        return redirect(url_for("auth.login", email=user.email), 303)
    return redirect(url_for("auth.password_done"), 303)


@bp.route("/mot-de-passe/termine")
@public
def password_done():
    return render("auth/password_done.html")


@bp.route("/langue", methods=["POST"])
@public
def set_language():
    language = request.form.get("language")
    if language in ("fr", "en"):
        session["language"] = language
        if current_user.is_authenticated:
            User.update(language=language).where(User.id == current_user.id).execute()
    return redirect(safe_next(request.form.get("next"), url_for("main.dashboard")), 303)
