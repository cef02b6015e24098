"""Sign-in and e-mailed 2FA codes for customers and staff (ACC-1, TFA-1/2, SEC-3).

Plain values in, plain values out: the blueprint owns cookies and sessions. Trusted
browsers are `trusted_browsers`, password links `password_links`.
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
from types import SimpleNamespace

from webapp.db import db
from webapp.i18n import _
from webapp.models import (
    TFA_ACTIVE,
    AuditEvent,
    OneTimeCode,
    StaffUser,
    TrustedBrowser,
    User,
    utcnow,
)
from webapp.services import audit, mail
from webapp.services.access import may_have_account
from webapp.services.actor import Actor
from webapp.services.passwords import hash_password, needs_rehash, verify_password
from webapp.services.tokens import code_digest, new_code
from webapp.settings import Settings

CODE_TTL = dt.timedelta(minutes=10)
MAX_WRONG_CODES = 5
# SEC-3: wrong codes per account across sign-in attempts and resends.
ACCOUNT_WRONG_CODES = 10
ACCOUNT_WINDOW = dt.timedelta(minutes=15)


class CodeResult(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # wrong code, tries left
    DEAD = "dead"  # five wrong tries, or no live code: ask for a new one
    EXPIRED = "expired"
    LOCKED = "locked"  # SEC-3: too many wrong codes for this account lately: wait


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The user whose e-mail and password match, else None (same cost either way)."""
    user = User.get_or_none(User.email == normalise_email(email))
    if not verify_password(user.password_hash if user else None, password):
        return None
    if not user.is_active or not may_have_account(user):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        user.save(only=[User.password_hash])
    return user


# --- principals --------------------------------------------------------------------
# The 2FA rules apply to two kinds of principal: customer `User`s and operator
# `StaffUser`s (OPS-1). A principal class may name its own code and trust tables
# (same columns as OneTimeCode / TrustedBrowser) with CODE_MODEL / TRUST_MODEL.

def _codes(principal):
    return getattr(principal, "CODE_MODEL", OneTimeCode)


def trust_table(principal):
    return getattr(principal, "TRUST_MODEL", TrustedBrowser)


def account_of(principal) -> int | None:
    return principal.account_id if isinstance(principal, User) else None


def audited_as(principal):
    """What the audit journal records as the actor (staff ids are prefixed)."""
    return principal if isinstance(principal, User) else SimpleNamespace(
        id=f"staff:{principal.id}")


def principal(kind: str, principal_id: int | None):
    """The active customer user (kind "user") or staff member ("staff") with this id."""
    model = StaffUser if kind == "staff" else User
    found = model.get_or_none(model.id == principal_id) if principal_id else None
    return found if found is not None and found.is_active else None


def set_language(user: User, language: str) -> None:
    """The user's own choice of language, kept for their next sign-ins."""
    User.update(language=language).where(User.id == user.id).execute()


def record_sign_in(principal) -> None:
    model = type(principal)
    model.update(last_login_at=utcnow()).where(model.id == principal.id).execute()


def _first_name(principal) -> str:
    return principal.contact.first_name if isinstance(principal, User) else principal.first_name


# --- SEC-3: wrong codes counted per account, whatever the attempt ---------------------

def _wrong_codes_since(principal, since: dt.datetime) -> list[dt.datetime]:
    return [row[0] for row in AuditEvent.select(AuditEvent.created_at).where(
        (AuditEvent.kind == "tfa.code_wrong")
        & (AuditEvent.user_id == str(audited_as(principal).id))
        & (AuditEvent.created_at > since)).order_by(AuditEvent.created_at).tuples()]


def code_lockout(principal) -> dt.timedelta | None:
    """How long this account's sign-in still waits, or None: at most ACCOUNT_WRONG_CODES
    wrong codes in any ACCOUNT_WINDOW, counted across attempts, sessions and resends."""
    now = utcnow()
    wrong = _wrong_codes_since(principal, now - ACCOUNT_WINDOW)
    if len(wrong) < ACCOUNT_WRONG_CODES:
        return None
    # Free again when enough of them have left the window.
    release = wrong[len(wrong) - ACCOUNT_WRONG_CODES] + ACCOUNT_WINDOW
    return max(release - now, dt.timedelta(seconds=1))


def minutes_left(wait: dt.timedelta) -> int:
    return max(1, -(-int(wait.total_seconds()) // 60))


def _alert_locked(principal, settings: Settings, ip: str | None) -> None:
    mail.send_later(
        settings.REDIS_URL, kind="tfa_locked", to=principal.email,
        subject=_("Connexion suspendue : trop de codes erronés"),
        template="tfa_locked", account=account_of(principal), locale=mail.locale_of(principal),
        first_name=_first_name(principal), count=ACCOUNT_WRONG_CODES,
        minutes=int(ACCOUNT_WINDOW.total_seconds() // 60),
        reset_url=f"{settings.BASE_URL}/mot-de-passe/oublie",
    )
    audit.record("tfa.locked", account=account_of(principal), user=audited_as(principal), ip=ip)


# --- TFA-1/2: codes ---------------------------------------------------------------

def issue_code(
    user: User, attempt: str, *, settings: Settings, browser: str, actor: Actor,
    reset_url: str | None = None,
) -> OneTimeCode:
    """A new code for this sign-in attempt; every earlier live one dies (TFA-2). `actor`
    is who asks (the person signing in, not signed in yet: `Actor.visitor`).

    Raises PermissionError while the account waits after too many wrong codes (SEC-3)."""
    ip = actor.ip
    OneTimeCode = _codes(user)  # noqa: N806 - the principal's code table
    if code_lockout(user):
        raise PermissionError("locked")
    now = utcnow()
    code = new_code()
    with db.atomic():
        OneTimeCode.update(invalidated_at=now).where(
            (OneTimeCode.user == user)
            & OneTimeCode.used_at.is_null()
            & OneTimeCode.invalidated_at.is_null()
        ).execute()
        row = OneTimeCode.create(
            user=user,
            attempt=attempt,
            code_hash=code_digest(settings.SECRET_KEY, attempt, code),
            expires_at=now + CODE_TTL,
        )
    mail.send_later(
        settings.REDIS_URL,
        kind="tfa_code",
        to=user.email,
        subject=_("Votre code de vérification Communications Manager"),
        template="tfa_code",
        account=account_of(user),
        locale=mail.locale_of(user),
        code=code,
        browser=browser,
        ip=ip,
        minutes=int(CODE_TTL.total_seconds() // 60),
        reset_url=reset_url or f"{settings.BASE_URL}/mot-de-passe/oublie",
        first_name=_first_name(user),
    )
    audit.record("tfa.code_sent", account=account_of(user), user=audited_as(user), ip=ip,
                 browser=browser)
    return row


def check_code(user: User, attempt: str, code: str, *, settings: Settings,
               actor: Actor) -> CodeResult:
    """Accept a code once; count wrong tries atomically so that races cannot cheat.

    While the account waits (SEC-3) no code is even compared, the right one included."""
    OneTimeCode = _codes(user)  # noqa: N806
    if code_lockout(user):
        return CodeResult.LOCKED
    now = utcnow()
    row = (
        OneTimeCode.select()
        .where(
            (OneTimeCode.user == user)
            & (OneTimeCode.attempt == attempt)
            & OneTimeCode.used_at.is_null()
            & OneTimeCode.invalidated_at.is_null()
        )
        .order_by(OneTimeCode.id.desc())
        .first()
    )
    if row is None or row.failed_attempts >= MAX_WRONG_CODES:
        return CodeResult.DEAD
    if row.expires_at <= now:
        return CodeResult.EXPIRED
    candidate = code_digest(settings.SECRET_KEY, attempt, code.strip())
    live = (
        (OneTimeCode.id == row.id)
        & OneTimeCode.used_at.is_null()
        & OneTimeCode.invalidated_at.is_null()
        & (OneTimeCode.failed_attempts < MAX_WRONG_CODES)
    )
    if hmac.compare_digest(candidate, row.code_hash):
        if code_lockout(user):  # wrong codes raced in meanwhile (SEC-3)
            return CodeResult.LOCKED
        won = OneTimeCode.update(used_at=now).where(live).execute()
        return CodeResult.OK if won == 1 else CodeResult.DEAD
    OneTimeCode.update(failed_attempts=OneTimeCode.failed_attempts + 1).where(live).execute()
    failed = OneTimeCode.get_by_id(row.id).failed_attempts
    audit.record("tfa.code_wrong", account=account_of(user), user=audited_as(user), failures=failed,
                 ip=actor.ip)
    if len(_wrong_codes_since(user, now - ACCOUNT_WINDOW)) == ACCOUNT_WRONG_CODES:
        # The tenth: this account's sign-in now waits; its owner is alerted (once).
        OneTimeCode.update(invalidated_at=now).where(
            (OneTimeCode.user == user) & OneTimeCode.used_at.is_null()
            & OneTimeCode.invalidated_at.is_null()).execute()
        _alert_locked(user, settings, actor.ip)
        return CodeResult.LOCKED
    return CodeResult.DEAD if failed >= MAX_WRONG_CODES else CodeResult.WRONG


def tries_left(user: User, attempt: str) -> int:
    OneTimeCode = _codes(user)  # noqa: N806
    row = (
        OneTimeCode.select()
        .where((OneTimeCode.user == user) & (OneTimeCode.attempt == attempt)
               & OneTimeCode.invalidated_at.is_null())
        .order_by(OneTimeCode.id.desc())
        .first()
    )
    return max(0, MAX_WRONG_CODES - row.failed_attempts) if row else 0


def activate_tfa(user: User, *, actor: Actor) -> None:
    if user.tfa_state != TFA_ACTIVE:
        model = type(user)
        model.update(tfa_state=TFA_ACTIVE).where(model.id == user.id).execute()
        user.tfa_state = TFA_ACTIVE
        audit.record("tfa.activated", account=account_of(user), user=audited_as(user), ip=actor.ip)


def end_all_sessions(user: User) -> None:
    """Every session of `user` stops at its next request (auth_version check)."""
    User.update(auth_version=User.auth_version + 1).where(User.id == user.id).execute()
