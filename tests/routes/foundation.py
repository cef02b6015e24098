"""Routes of the foundation: sign-in, password, preferences, account, access (TFA-5).

Sign-in bodies are real: the demo administrator's password, a pending sign-in and the
code e-mailed for it, live password and e-mail-change links (made inside the visitor's
rolled-back transaction); the visitor's own session is restored afterwards.
"""

import datetime as dt

from tests.routes import ALLOWED, LOGIN, Route, csrf_of, pending_code, sign_in_started

PUBLIC = dict(anonymous=ALLOWED, admin=ALLOWED, restricted=ALLOWED, other=ALLOWED,
              users_only=ALLOWED, staff=ALLOWED)
ADMIN_EMAIL = "claire.dubois@atelier-dupont.example"
PASSWORD_LINK = "matrice-lien-mot-de-passe-0123456789"
EMAIL_LINK = "matrice-lien-adresse-0123456789"
TIMEZONE = "America/Martinique"


def _password_link(b, d) -> dict:
    """A live password link of the administrator, followed (its cookie is set)."""
    from webapp.models import PasswordToken, User, utcnow
    from webapp.services.tokens import digest

    PasswordToken.create(user=User.get(User.email == ADMIN_EMAIL),
                         token_hash=digest(PASSWORD_LINK),
                         expires_at=utcnow() + dt.timedelta(hours=1))
    b.client.get(f"/mot-de-passe/definir/{PASSWORD_LINK}")
    return {}


def _email_link(d) -> dict:
    """A live link confirming Lucas's new address."""
    from webapp.models import EmailChange, utcnow
    from webapp.services.tokens import digest

    EmailChange.create(user=d.restricted_user_id, new_email="lucas.nouveau@atelier-dupont.example",
                       token_hash=digest(EMAIL_LINK), requested_by=str(d.admin_user_id),
                       expires_at=utcnow() + dt.timedelta(hours=24))
    return {"token": EMAIL_LINK}


def _own_browser(d) -> dict:
    """A trusted browser of the visitor (the administrator's for a stranger)."""
    from webapp.models import TrustedBrowser, utcnow

    row = TrustedBrowser.create(user=d.user_id or d.admin_user_id,
                                token_hash=f"matrice-own-{d.user_id}", browser="Safari sur iPhone",
                                ip="192.0.2.10", expires_at=utcnow() + dt.timedelta(days=7))
    return {"browser_id": row.id}


def _reactivation_code(b, d) -> dict:
    """2FA disabled by an administrator, the visitor asks to turn it back on: the code."""
    if d.user_id is None:
        return {"code": "123456"}
    from tests.conftest import code_in
    from webapp.models import TFA_DISABLED, User

    User.update(tfa_state=TFA_DISABLED).where(User.id == d.user_id).execute()
    user = User.get_by_id(d.user_id)
    b.client.post("/preferences/securite/reactiver", data={
        "csrf_token": csrf_of(b.client.get("/compte").get_data(as_text=True))})
    b.run_jobs()
    return {"code": code_in(b.smtp.last(user.email))}


ROUTES = [
    Route("auth.login", **PUBLIC),
    Route("auth.login", "POST", **PUBLIC,
          data=lambda d: {"email": ADMIN_EMAIL, "password": d.password}),
    Route("auth.verify", **PUBLIC),
    Route("auth.verify", "POST", **PUBLIC, data={},
          prepare=lambda b, d: pending_code(b, d.password, ADMIN_EMAIL)),
    Route("auth.send_code", "POST", **PUBLIC, data={},
          prepare=lambda b, d: sign_in_started(b, d.password, ADMIN_EMAIL)),
    Route("auth.logout", "POST", **PUBLIC, data={}),
    Route("auth.forgot", **PUBLIC),
    Route("auth.forgot", "POST", **PUBLIC, data={"email": ADMIN_EMAIL}),
    Route("auth.password_link", args=lambda d: {"token": PASSWORD_LINK}, **PUBLIC),
    Route("auth.define_password", **PUBLIC, prepare=_password_link),
    Route("auth.define_password", "POST", **PUBLIC, prepare=_password_link, data={
        "password": "Un très long mot de passe 2026", "confirm": "Un très long mot de passe 2026"}),
    Route("auth.password_done", **PUBLIC),
    Route("auth.confirm_email", args=_email_link, **PUBLIC),
    Route("auth.confirm_email", "POST", args=_email_link, **PUBLIC, data={}),
    Route("auth.set_language", "POST", **PUBLIC, data={"language": "en", "next": "/"}),
    Route("main.health", **PUBLIC),
    Route("main.dashboard"),
    Route("main.account"),
    Route("main.account_timezone", "POST", restricted=403, users_only=403,
          data={"timezone": TIMEZONE}),
    Route("preferences.index"),
    Route("preferences.security"),
    Route("preferences.revoke_browser", "POST", args=_own_browser, data={}),
    Route("preferences.reactivate", "POST", data={}),
    Route("preferences.confirm_reactivation", "POST", data={}, prepare=_reactivation_code),
    Route("access.users", restricted=403),
    Route("access.user_detail", args=lambda d: {"user_id": d.admin_user_id},
          restricted=403, other=404),
]

__all__ = ["LOGIN", "ROUTES"]
