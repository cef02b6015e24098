"""Préférences: security (TFA-4), language."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.extensions import limiter
from webapp.models import TFA_ACTIVE, TrustedBrowser
from webapp.rendering import render
from webapp.security import current_actor
from webapp.services import auth as auth_service
from webapp.services import trusted_browsers
from webapp.services.browsers import describe_browser
from webapp.services.tokens import new_token

bp = Blueprint("preferences", __name__, url_prefix="/preferences")


def _me():
    """The real User row behind the proxy (services compare types)."""
    return current_user._get_current_object()


@bp.route("/")
def index():
    return render("preferences/index.html")


def _security_context() -> dict:
    return {
        "browsers": trusted_browsers.active_trusted_browsers(_me()),
        "current_trust_id": session.get("trust_id"),
        "reactivating": bool(session.get("reactivate_attempt")),
    }


@bp.route("/securite")
def security():
    return render("preferences/security.html", **_security_context())


@bp.route("/securite/navigateurs/<int:browser_id>/revoquer", methods=["POST"])
def revoke_browser(browser_id: int):
    if trusted_browsers.revoke_browser(_me(), browser_id, actor=current_actor()):
        # UI-3: "ce navigateur" only for the one in use; another is named as such
        flash(_("La confiance accordée à ce navigateur est révoquée.")
              if browser_id == session.get("trust_id") else
              _("La confiance accordée à l'autre navigateur est révoquée : il devra de nouveau "
                "saisir un code."), "success")
    if browser_id == session.get("trust_id"):
        return redirect(url_for("auth.login"), 303)
    return redirect(url_for("preferences.security"), 303)


@bp.route("/securite/reactiver", methods=["POST"])
@limiter.limit("3 per minute; 10 per hour")
def reactivate():
    """The user turns 2FA back on after an administrator disabled it (TFA-5)."""
    if current_user.tfa_state == TFA_ACTIVE:
        return redirect(url_for("preferences.security"), 303)
    attempt = new_token()
    session["reactivate_attempt"] = attempt
    auth_service.issue_code(_me(), attempt, settings=current_app.extensions["cm_settings"],
                            browser=describe_browser(request.user_agent.string),
                            actor=current_actor())
    flash(_("Un code vient de vous être envoyé par e-mail à %(email)s.",
            email=current_user.email), "info")
    return redirect(url_for("preferences.security"), 303)


@bp.route("/securite/confirmer", methods=["POST"])
@limiter.limit("10 per minute")
def confirm_reactivation():
    attempt = session.get("reactivate_attempt")
    if not attempt:
        return redirect(url_for("preferences.security"), 303)
    code = request.form.get("code", "").strip()
    result = auth_service.check_code(_me(), attempt, code,
                                     settings=current_app.extensions["cm_settings"],
                                     actor=current_actor())
    if result is auth_service.CodeResult.OK:
        session.pop("reactivate_attempt", None)
        auth_service.activate_tfa(_me(), actor=current_actor())
        flash(_("La double authentification est activée."), "success")
        return redirect(url_for("preferences.security"), 303)
    error = (_("Code incorrect.") if result is auth_service.CodeResult.WRONG
             else _("Ce code n'est plus valable : demandez un nouveau code."))
    return render("preferences/security.html", status=400, error=error, code=code,
                  **_security_context())


def trusted_browser_label(browser: TrustedBrowser) -> str:
    return f"{browser.browser} — {browser.ip}"
