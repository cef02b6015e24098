"""Sign-in with e-mail 2FA, sign-out, password links (ACC-1..6, TFA-1..3, TFA-6)."""

from __future__ import annotations

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
from flask_login import current_user, login_user, logout_user

from webapp.extensions import limiter
from webapp.models import User
from webapp.rendering import render
from webapp.security import current_actor, public, safe_next, visitor_actor
from webapp.services import audit, email_change, password_links
from webapp.services import auth as auth_service
from webapp.services.access import access_for
from webapp.services.errors import FormError
from webapp.signin import Door, open_session, password_limits
from webapp.translate import translate

bp = Blueprint("auth", __name__)
PASSWORD_COOKIE = "cm_password_link"  # SEC-8: the link's token, never in the session

TRUST_COOKIE = "cm_trust"


def _settings():
    return current_app.extensions["cm_settings"]


@bp.route("/connexion", methods=["GET", "POST"])
@public
@password_limits("signin:")
def login():
    next_url = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("main.dashboard"))
    email = request.values.get("email", "")
    if request.method == "GET":
        return render("auth/login.html", email=email, next_url=next_url)
    user = auth_service.authenticate(email, request.form.get("password", ""))
    if user is None:
        return DOOR.wrong_password(email, next_url)
    if not access_for(user).has_manager:
        return render("auth/login.html", status=403, email=email, next_url=next_url,
                      error=_("Votre compte ne donne pas accès au Manager : il faut au moins "
                              "un rôle avec des permissions. Demandez-le à l'administrateur "
                              "de votre entreprise."))
    return _after_password(user, next_url)


def _complete(user: User, next_url: str, trust_id: int | None = None):
    session.clear()
    login_user(user)
    open_session(user, trust_id)
    audit.record("signin.success", account=user.account_id, actor=current_actor(),
                 trusted=bool(trust_id))
    return redirect(safe_next(next_url, url_for("main.dashboard")), 303)


DOOR = Door(blueprint="auth", kind="user", session_key="pre_auth", trust_cookie=TRUST_COOKIE,
            cookie_path="/connexion", layout="auth/_layout.html", finish=_complete)


def _after_password(user: User, next_url: str):
    logout_user()
    return DOOR.begin(user, next_url)


@bp.route("/connexion/verification", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", methods=["POST"])
def verify():
    return DOOR.verify()


def _resend_key() -> str:
    return f"resend:{DOOR.pending_id()}"


@bp.route("/connexion/envoyer-code", methods=["POST"])
@public
@limiter.limit("3 per minute; 10 per hour", key_func=_resend_key)
def send_code():
    return DOOR.send_code()


@bp.route("/deconnexion", methods=["POST"])
@public
def logout():
    if current_user.is_authenticated:
        audit.record("signout", account=current_user.account_id, actor=current_actor())
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
    password_links.send_password_link_later(email, actor=visitor_actor())
    return render("auth/forgot_sent.html", email=email)


@bp.route("/mot-de-passe/definir/<token>")
@public
def password_link(token: str):
    """Move the token out of the address bar and history, into a short-lived cookie of
    its own: the session (whoever is signed in) is untouched until the form is posted."""
    response = redirect(url_for("auth.define_password"), 303)
    response.set_cookie(PASSWORD_COOKIE, token,
                        max_age=int(password_links.LINK_TTL.total_seconds()), httponly=True,
                        samesite="Lax", path="/mot-de-passe",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.route("/mot-de-passe/definir", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def define_password():
    token = request.cookies.get(PASSWORD_COOKIE)
    row = password_links.live_password_token(token) if token else None
    if row is None:
        return render("auth/link_invalid.html", status=410)
    if request.method == "GET":
        return render("auth/define_password.html", email=row.user.email)
    password = request.form.get("password", "")
    if password != request.form.get("confirm", ""):
        return render("auth/define_password.html", status=400, email=row.user.email,
                      error=_("Les deux saisies ne correspondent pas."))
    try:
        user = password_links.set_password(token, password, actor=visitor_actor())
    except FormError as refused:
        return render("auth/define_password.html", status=400, email=row.user.email,
                      error=translate(refused.message))
    logout_user()
    session.clear()
    if access_for(user).has_manager:
        flash(_("Votre mot de passe est défini. Connectez-vous pour continuer vers le "
                "Manager."), "success")
        response = redirect(url_for("auth.login", email=user.email), 303)
    else:
        response = redirect(url_for("auth.password_done"), 303)
    response.delete_cookie(PASSWORD_COOKIE, path="/mot-de-passe")
    return response


# --- SEC-1: a new sign-in address is used once the link sent to it is followed ----------

@bp.route("/adresse/confirmer/<token>", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def confirm_email(token: str):
    """GET shows a button (mail scanners follow links); POST makes the change."""
    row = email_change.live(token)
    if row is None:
        return render("auth/email_invalid.html", status=410)
    if request.method == "GET":
        return render("auth/email_confirm.html", email=row.new_email, token=token)
    user = email_change.confirm(token, actor=visitor_actor())
    if user is None:
        return render("auth/email_invalid.html", status=410)
    logout_user()
    session.clear()
    flash(_("Votre nouvelle adresse est confirmée : connectez-vous avec %(email)s.",
            email=user.email), "success")
    return redirect(url_for("auth.login", email=user.email), 303)


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
            auth_service.set_language(current_user, language)
    return redirect(safe_next(request.form.get("next"), url_for("main.dashboard")), 303)
