"""Trusted browsers (TFA-3/4) and an administrator's action on another's 2FA (TFA-5).

Acting on someone else's browsers or 2FA follows the role-change guard (SEC-2) and tells
them by e-mail. `actor` is who acts; the 2FA rules serve customers' `User`s and staff.
"""

from __future__ import annotations

import datetime as dt

from webapp.db import db
from webapp.i18n import Text, _
from webapp.models import TFA_DISABLED, TrustedBrowser, User, utcnow
from webapp.services import audit, mail
from webapp.services.actor import Actor
from webapp.services.auth import account_of, audited_as, trust_table
from webapp.services.roles import WIDER_RIGHTS, BeyondRights, may_act_on
from webapp.services.tokens import digest, new_token
from webapp.settings import Settings

TRUST_TTL = dt.timedelta(days=7)


def _by(actor: Actor):
    """The person acting: a customer's user or a staff member."""
    return actor.user if actor.user is not None else actor.staff


def set_tfa_state(user: User, state: str, *, actor: Actor) -> None:
    User.update(tfa_state=state).where(User.id == user.id).execute()
    audit.record(f"tfa.{state}", account=user.account_id, user=user, ip=actor.ip,
                 by=_by(actor).id)


def _guard_other(access, target: User, actor: Actor, kind: str) -> None:
    """SEC-2: acting on someone else's 2FA follows the role-change guard."""
    if access is None or not access.can("users.manage") or not may_act_on(access, target):
        audit.record(f"{kind}_refused", account=target.account_id, user=_by(actor),
                     ip=actor.ip, target=target.id)
        raise BeyondRights(WIDER_RIGHTS)


def _tell(target: User, settings: Settings, what: Text, by: User) -> None:
    mail.send_later(settings.REDIS_URL, kind="security_changed", to=target.email,
                    subject=_("Sécurité de votre compte Communications Manager"),
                    template="security_changed", account=target.account_id,
                    locale=mail.locale_of(target),
                    first_name=target.contact.first_name, what=what,
                    by_name=by.contact.full_name if isinstance(by, User) else "")


def disable_tfa_of(access, target: User, *, actor: Actor, settings: Settings) -> None:
    """TFA-5 by an administrator (guarded, SEC-2): 2FA off, every trusted browser revoked,
    the user told by e-mail."""
    _guard_other(access, target, actor, "tfa.disable")
    with db.atomic():
        set_tfa_state(target, TFA_DISABLED, actor=actor)
        revoke_all_browsers(target)
    _tell(target, settings, _("La double authentification de votre compte a été désactivée "
                              "et vos navigateurs de confiance ont été révoqués."), _by(actor))



def trust_browser(user: User, *, browser: str, actor: Actor) -> str:
    """Returns the cookie token; only its digest is stored."""
    TrustedBrowser = trust_table(user)  # noqa: N806
    ip = actor.ip
    token = new_token()
    now = utcnow()
    TrustedBrowser.create(
        user=user, token_hash=digest(token), browser=browser[:120], ip=ip,
        created_at=now, last_used_at=now, expires_at=now + TRUST_TTL,
    )
    audit.record("tfa.browser_trusted", account=account_of(user), user=audited_as(user), ip=ip,
                 browser=browser)
    return token


def is_trusted(user: User, token: str | None, *, actor: Actor) -> bool:
    TrustedBrowser = trust_table(user)  # noqa: N806
    if not token:
        return False
    now = utcnow()
    row = TrustedBrowser.get_or_none(
        (TrustedBrowser.token_hash == digest(token))
        & (TrustedBrowser.user == user)
        & TrustedBrowser.revoked_at.is_null()
        & (TrustedBrowser.expires_at > now)
    )
    if row is None:
        return False
    TrustedBrowser.update(last_used_at=now, ip=actor.ip).where(
        TrustedBrowser.id == row.id).execute()
    return True


def trusted_browser_id(user, token: str) -> int:
    """The row id of a browser token just issued or checked (kept in the session)."""
    TrustedBrowser = trust_table(user)  # noqa: N806
    return TrustedBrowser.get(TrustedBrowser.token_hash == digest(token)).id


def trusted_browser_alive(token: str | None) -> bool:
    if not token:
        return False
    return TrustedBrowser.select().where(
        (TrustedBrowser.token_hash == digest(token))
        & TrustedBrowser.revoked_at.is_null()
        & (TrustedBrowser.expires_at > utcnow())
    ).exists()


def active_trusted_browsers(user: User) -> list[TrustedBrowser]:
    return list(
        TrustedBrowser.select()
        .where((TrustedBrowser.user == user) & TrustedBrowser.revoked_at.is_null()
               & (TrustedBrowser.expires_at > utcnow()))
        .order_by(TrustedBrowser.last_used_at.desc())
    )


def revoke_browser(user: User, browser_id: int, *, actor: Actor, access=None,
                   settings: Settings | None = None) -> bool:
    """Revoke one trusted browser of `user`; someone else's needs the guard (SEC-2), and
    the user is told by e-mail."""
    by = _by(actor)
    other = by.id != user.id or type(by) is not type(user)
    if other:
        _guard_other(access, user, actor, "tfa.browser_revoke")
    changed = TrustedBrowser.update(revoked_at=utcnow()).where(
        (TrustedBrowser.id == browser_id) & (TrustedBrowser.user == user)
        & TrustedBrowser.revoked_at.is_null()
    ).execute()
    if changed:
        audit.record("tfa.browser_revoked", account=user.account_id, user=user, ip=actor.ip,
                     browser_id=browser_id, by=by.id)
        if other and settings is not None:
            _tell(user, settings, _("La confiance accordée à l'un de vos navigateurs a été "
                                    "révoquée : il vous demandera de nouveau un code."), by)
    return bool(changed)


def revoke_all_browsers(user: User) -> None:
    TrustedBrowser.update(revoked_at=utcnow()).where(
        (TrustedBrowser.user == user) & TrustedBrowser.revoked_at.is_null()
    ).execute()
