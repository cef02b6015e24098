"""One sign-in flow with e-mailed 2FA, for customers (`auth`) and operator staff (`ops`).

The blueprint checks the password, then hands the principal to its `Door`: from there
both follow the same steps (TFA-1..3, OPS-1) — a trusted browser or disabled 2FA
signs in at once; otherwise a pending attempt lives in the session for 15 minutes,
a code goes out by e-mail (or on "Activer" the first time), `verify` checks it and
may trust the browser, then the door's `finish` opens the session. The rules
themselves are in `webapp.services.auth` (codes, tries) and `trusted_browsers`; this
module owns what is Flask's: the session, the cookie and the page
(`auth/verify.html`, extending the door's layout).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from webapp.extensions import client_ip, limiter
from webapp.models import TFA_ACTIVE, TFA_DISABLED
from webapp.rendering import render
from webapp.security import visitor_actor
from webapp.services import audit, trusted_browsers
from webapp.services import auth as auth_service
from webapp.services.browsers import describe_browser
from webapp.services.tokens import new_token

PRE_AUTH_TTL_S = 15 * 60


def locked_message(wait) -> str:
    """SEC-3: the account waits after too many wrong codes; say for how long."""
    minutes = auth_service.minutes_left(wait)
    return ngettext("Trop de codes erronés ont été saisis pour ce compte : par sécurité, sa "
                    "connexion est suspendue. Réessayez dans %(num)d minute. Un e-mail "
                    "d'alerte a été envoyé à son adresse.",
                    "Trop de codes erronés ont été saisis pour ce compte : par sécurité, sa "
                    "connexion est suspendue. Réessayez dans %(num)d minutes. Un e-mail "
                    "d'alerte a été envoyé à son adresse.", minutes)


def password_limits(prefix: str):
    """The password form's rate limits: per address, and per account (`prefix` + the
    e-mail typed); only refused attempts count (SEC-3)."""
    def failed(response) -> bool:
        return response.status_code >= 400

    def account_key() -> str:
        return prefix + request.form.get("email", "").strip().lower()

    def decorate(view):
        view = limiter.limit("5 per minute; 20 per hour", key_func=account_key,
                             methods=["POST"], deduct_when=failed)(view)
        return limiter.limit("20 per minute; 100 per hour", methods=["POST"],
                             deduct_when=failed)(view)
    return decorate


def open_session(principal, trust_id: int | None, prefix: str = "") -> None:
    """The session of a principal who passed the door, after the caller cleared it and put
    in who signs in: the auth version that a password change bumps (`<prefix>auth_version`),
    when it started, the trusted browser used (`<prefix>trust_id`), a new session id."""
    session[f"{prefix}auth_version"] = principal.auth_version
    session["started_at"] = time.time()
    if trust_id:
        session[f"{prefix}trust_id"] = trust_id
    current_app.session_interface.regenerate(session)
    auth_service.record_sign_in(principal)


@dataclass(frozen=True)
class Door:
    blueprint: str  # endpoints <blueprint>.login / .verify / .send_code
    kind: str  # "user" or "staff" (auth_service.principal)
    session_key: str  # where the pending attempt lives
    trust_cookie: str
    cookie_path: str
    layout: str  # the card layout the 2FA page extends
    finish: Callable  # finish(principal, next_url, trust_id) -> response
    reset_path: str | None = None  # the password help page named in the code e-mail
    failed_audit: str = "signin.failed"  # the journal's kind for a wrong password

    def wrong_password(self, email: str, next_url: str):
        """The same answer whether the address exists or not (ACC-6)."""
        audit.record(self.failed_audit, actor=visitor_actor())
        return render(f"{self.blueprint}/login.html", status=401, email=email,
                      next_url=next_url, error=_("Adresse e-mail ou mot de passe incorrect."))

    def begin(self, principal, next_url: str):
        """The password is right: a new session, then 2FA unless trusted or disabled."""
        session.clear()
        token = request.cookies.get(self.trust_cookie)
        if principal.tfa_state == TFA_DISABLED:
            return self.finish(principal, next_url, None)
        if principal.tfa_state == TFA_ACTIVE and trusted_browsers.is_trusted(
                principal, token, actor=visitor_actor()):
            return self.finish(principal, next_url, trusted_browsers.trusted_browser_id(
                principal, token))
        wait = auth_service.code_lockout(principal)
        if wait:  # SEC-3: too many wrong codes for this account lately
            return render(f"{self.blueprint}/login.html", status=429,
                          email=principal.email, next_url=next_url, error=locked_message(wait))
        attempt = new_token()
        session[self.session_key] = {"user_id": principal.id, "attempt": attempt, "next": next_url,
                                     "at": time.time(), "code_sent": False}
        if principal.tfa_state == TFA_ACTIVE:
            self._send_code(principal, attempt)
        current_app.session_interface.regenerate(session)
        return redirect(url_for(f"{self.blueprint}.verify"), 303)

    def pending(self) -> tuple[object | None, dict]:
        pending = session.get(self.session_key) or {}
        if not pending or time.time() - pending.get("at", 0) > PRE_AUTH_TTL_S:
            return None, {}
        principal = auth_service.principal(self.kind, pending.get("user_id"))
        return (principal, pending) if principal is not None else (None, {})

    def pending_id(self) -> object:
        """Rate-limit key of the code resends: the pending principal, else the address."""
        return (session.get(self.session_key) or {}).get("user_id", client_ip())

    def _send_code(self, principal, attempt: str) -> None:
        settings = current_app.extensions["cm_settings"]
        auth_service.issue_code(
            principal, attempt, settings=settings,
            browser=describe_browser(request.user_agent.string), actor=visitor_actor(),
            reset_url=f"{settings.BASE_URL}{self.reset_path}" if self.reset_path else None)
        pending = session.get(self.session_key) or {}
        pending["code_sent"] = True
        session[self.session_key] = pending

    def verify(self):
        """The 2FA page (GET) and the code it posts."""
        principal, pending = self.pending()
        if principal is None:
            flash(_("Votre tentative de connexion a expiré : reconnectez-vous."), "warning")
            return redirect(url_for(f"{self.blueprint}.login"))
        context = {"principal": principal, "code_sent": pending.get("code_sent"),
                   "activating": principal.tfa_state != TFA_ACTIVE, "door": self}
        if request.method == "GET":
            return render("auth/verify.html", **context)
        typed = request.form.get("code", "")
        # UI-3: "735 313", "735-313" are the code; anything not 6 digits costs no try
        code = re.sub(r"[\s\u00a0\u202f.\-]", "", typed)
        if not re.fullmatch(r"[0-9]{6}", code):
            error = _("Saisissez les 6 chiffres du code reçu par e-mail (les espaces sont "
                      "acceptés).")
            return render("auth/verify.html", status=400, error=error, code=typed, **context)
        settings = current_app.extensions["cm_settings"]
        result = auth_service.check_code(principal, pending["attempt"], code, settings=settings,
                                         actor=visitor_actor())
        if result is auth_service.CodeResult.LOCKED:
            return render("auth/verify.html", status=429, code="", **context,
                          error=locked_message(auth_service.code_lockout(principal)
                                               or auth_service.ACCOUNT_WINDOW))
        if result is auth_service.CodeResult.OK:
            return self._signed_in(principal, pending.get("next", ""))
        if result is auth_service.CodeResult.WRONG:
            left = auth_service.tries_left(principal, pending["attempt"])
            error = ngettext("Code incorrect. Il vous reste %(num)d essai.",
                             "Code incorrect. Il vous reste %(num)d essais.", left)
        elif result is auth_service.CodeResult.EXPIRED:
            error = _("Ce code a expiré : demandez un nouveau code.")
        else:
            error = _("Ce code n'est plus valable (trop d'essais ou remplacé) : "
                      "demandez un nouveau code.")
        return render("auth/verify.html", status=400, error=error, code=code, **context)

    def _signed_in(self, principal, next_url: str):
        auth_service.activate_tfa(principal, actor=visitor_actor())
        token = trust_id = None
        if request.form.get("trust") == "1":
            token = trusted_browsers.trust_browser(principal, actor=visitor_actor(),
                                                  browser=describe_browser(request.user_agent.string))
            trust_id = trusted_browsers.trusted_browser_id(principal, token)
        response = self.finish(principal, next_url, trust_id)
        if token:
            response.set_cookie(
                self.trust_cookie, token, max_age=int(trusted_browsers.TRUST_TTL.total_seconds()),
                httponly=True, samesite="Lax", path=self.cookie_path,
                secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response

    def send_code(self):
        """"Activer" and "Envoyer un nouveau code": a fresh code, the previous one dies."""
        principal, pending = self.pending()
        if principal is None:
            return redirect(url_for(f"{self.blueprint}.login"))
        wait = auth_service.code_lockout(principal)
        if wait:  # SEC-3: resends do not reset the count
            flash(locked_message(wait), "error")
            return redirect(url_for(f"{self.blueprint}.verify"), 303)
        self._send_code(principal, pending["attempt"])
        flash(_("Un code vient de vous être envoyé par e-mail à %(email)s.",
                email=principal.email), "info")
        return redirect(url_for(f"{self.blueprint}.verify"), 303)
