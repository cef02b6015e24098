"""Sign-in, e-mailed 2FA codes, trusted browsers and password links (ACC, TFA).

Plain values in, plain values out: the blueprint owns cookies and sessions.
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
from types import SimpleNamespace

from rq import Queue

from webapp.db import db
from webapp.i18n import Text, _
from webapp.models import (
    TFA_ACTIVE,
    TFA_DISABLED,
    AuditEvent,
    Contact,
    OneTimeCode,
    PasswordToken,
    StaffUser,
    TrustedBrowser,
    User,
    utcnow,
)
from webapp.redis_conn import redis_for
from webapp.services import audit, mail
from webapp.services.access import may_have_account
from webapp.services.mail import MAIL_QUEUE
from webapp.services.passwords import hash_password, needs_rehash, problems, verify_password
from webapp.services.roles import WIDER_RIGHTS, may_act_on
from webapp.services.tokens import code_digest, digest, new_code, new_token
from webapp.settings import Settings

CODE_TTL = dt.timedelta(minutes=10)
MAX_WRONG_CODES = 5
# SEC-3: wrong codes per account across sign-in attempts and resends.
ACCOUNT_WRONG_CODES = 10
ACCOUNT_WINDOW = dt.timedelta(minutes=15)
TRUST_TTL = dt.timedelta(days=7)
LINK_TTL = dt.timedelta(hours=1)
INVITATION_TTL = dt.timedelta(hours=72)  # UI-4: a new user's "Bienvenue" link


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


def _trusts(principal):
    return getattr(principal, "TRUST_MODEL", TrustedBrowser)


def _account_id(principal) -> int | None:
    return principal.account_id if isinstance(principal, User) else None


def _who(principal):
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
        (AuditEvent.kind == "tfa.code_wrong") & (AuditEvent.user_id == str(_who(principal).id))
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
        template="tfa_locked", account=_account_id(principal), locale=mail.locale_of(principal),
        first_name=_first_name(principal), count=ACCOUNT_WRONG_CODES,
        minutes=int(ACCOUNT_WINDOW.total_seconds() // 60),
        reset_url=f"{settings.BASE_URL}/mot-de-passe/oublie",
    )
    audit.record("tfa.locked", account=_account_id(principal), user=_who(principal), ip=ip)


# --- TFA-1/2: codes ---------------------------------------------------------------

def issue_code(
    user: User, attempt: str, *, settings: Settings, browser: str, ip: str,
    reset_url: str | None = None,
) -> OneTimeCode:
    """A new code for this sign-in attempt; every earlier live one dies (TFA-2).

    Raises PermissionError while the account waits after too many wrong codes (SEC-3)."""
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
        account=_account_id(user),
        locale=mail.locale_of(user),
        code=code,
        browser=browser,
        ip=ip,
        minutes=int(CODE_TTL.total_seconds() // 60),
        reset_url=reset_url or f"{settings.BASE_URL}/mot-de-passe/oublie",
        first_name=_first_name(user),
    )
    audit.record("tfa.code_sent", account=_account_id(user), user=_who(user), ip=ip,
                 browser=browser)
    return row


def check_code(user: User, attempt: str, code: str, *, settings: Settings,
               ip: str | None = None) -> CodeResult:
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
    audit.record("tfa.code_wrong", account=_account_id(user), user=_who(user), failures=failed,
                 ip=ip)
    if len(_wrong_codes_since(user, now - ACCOUNT_WINDOW)) == ACCOUNT_WRONG_CODES:
        # The tenth: this account's sign-in now waits; its owner is alerted (once).
        OneTimeCode.update(invalidated_at=now).where(
            (OneTimeCode.user == user) & OneTimeCode.used_at.is_null()
            & OneTimeCode.invalidated_at.is_null()).execute()
        _alert_locked(user, settings, ip)
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


def activate_tfa(user: User, ip: str) -> None:
    if user.tfa_state != TFA_ACTIVE:
        model = type(user)
        model.update(tfa_state=TFA_ACTIVE).where(model.id == user.id).execute()
        user.tfa_state = TFA_ACTIVE
        audit.record("tfa.activated", account=_account_id(user), user=_who(user), ip=ip)


def set_tfa_state(user: User, state: str, *, by: User, ip: str) -> None:
    User.update(tfa_state=state).where(User.id == user.id).execute()
    audit.record(f"tfa.{state}", account=user.account_id, user=user, ip=ip, by=by.id)


def _guard_other(access, target: User, by: User, kind: str, ip: str | None) -> None:
    """SEC-2: acting on someone else's 2FA follows the role-change guard."""
    if access is None or not access.can("users.manage") or not may_act_on(access, target):
        audit.record(f"{kind}_refused", account=target.account_id, user=by, ip=ip,
                     target=target.id)
        raise PermissionError(WIDER_RIGHTS)


def _tell(target: User, settings: Settings, what: Text, by: User) -> None:
    mail.send_later(settings.REDIS_URL, kind="security_changed", to=target.email,
                    subject=_("Sécurité de votre compte Communications Manager"),
                    template="security_changed", account=target.account_id,
                    locale=mail.locale_of(target),
                    first_name=target.contact.first_name, what=what,
                    by_name=by.contact.full_name if isinstance(by, User) else "")


def disable_tfa_of(access, target: User, *, by: User, ip: str, settings: Settings) -> None:
    """TFA-5 by an administrator (guarded, SEC-2): 2FA off, every trusted browser revoked,
    the user told by e-mail."""
    _guard_other(access, target, by, "tfa.disable", ip)
    with db.atomic():
        set_tfa_state(target, TFA_DISABLED, by=by, ip=ip)
        revoke_all_browsers(target)
    _tell(target, settings, _("La double authentification de votre compte a été désactivée "
                              "et vos navigateurs de confiance ont été révoqués."), by)


# --- TFA-3/4: trusted browsers ----------------------------------------------------

def trust_browser(user: User, *, browser: str, ip: str) -> str:
    """Returns the cookie token; only its digest is stored."""
    TrustedBrowser = _trusts(user)  # noqa: N806
    token = new_token()
    now = utcnow()
    TrustedBrowser.create(
        user=user, token_hash=digest(token), browser=browser[:120], ip=ip,
        created_at=now, last_used_at=now, expires_at=now + TRUST_TTL,
    )
    audit.record("tfa.browser_trusted", account=_account_id(user), user=_who(user), ip=ip,
                 browser=browser)
    return token


def is_trusted(user: User, token: str | None, *, ip: str) -> bool:
    TrustedBrowser = _trusts(user)  # noqa: N806
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
    TrustedBrowser.update(last_used_at=now, ip=ip).where(TrustedBrowser.id == row.id).execute()
    return True


def trusted_browser_id(user, token: str) -> int:
    """The row id of a browser token just issued or checked (kept in the session)."""
    TrustedBrowser = _trusts(user)  # noqa: N806
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


def revoke_browser(user: User, browser_id: int, *, by: User, ip: str, access=None,
                   settings: Settings | None = None) -> bool:
    """Revoke one trusted browser of `user`; someone else's needs the guard (SEC-2), and
    the user is told by e-mail."""
    other = by.id != user.id or type(by) is not type(user)
    if other:
        _guard_other(access, user, by, "tfa.browser_revoke", ip)
    changed = TrustedBrowser.update(revoked_at=utcnow()).where(
        (TrustedBrowser.id == browser_id) & (TrustedBrowser.user == user)
        & TrustedBrowser.revoked_at.is_null()
    ).execute()
    if changed:
        audit.record("tfa.browser_revoked", account=user.account_id, user=user, ip=ip,
                     browser_id=browser_id, by=by.id)
        if other and settings is not None:
            _tell(user, settings, _("La confiance accordée à l'un de vos navigateurs a été "
                                    "révoquée : il vous demandera de nouveau un code."), by)
    return bool(changed)


def revoke_all_browsers(user: User) -> None:
    TrustedBrowser.update(revoked_at=utcnow()).where(
        (TrustedBrowser.user == user) & TrustedBrowser.revoked_at.is_null()
    ).execute()


# --- ACC-2/3/4: password links ----------------------------------------------------

def eligible_user_for_email(email: str) -> User | None:
    """The user for this address, created on first use for an eligible contact (ACC-1)."""
    address = normalise_email(email)
    if not address:
        return None
    user = User.get_or_none(User.email == address)
    if user is not None:
        return user if user.is_active and may_have_account(user) else None
    for contact in Contact.select().where(Contact.email == address).order_by(Contact.id):
        if User.select().where(User.contact == contact.id).exists():
            continue  # that contact signs in with its own, confirmed address (SEC-1)
        candidate = User(account=contact.account_id, contact=contact, email=address)
        if may_have_account(candidate):
            candidate.save()
            return candidate
    return None


def send_password_link_later(redis_url: str, email: str, ip: str) -> None:
    """The whole lookup runs in the worker (`send_password_link`): same answer, same
    time, whoever asks (ACC-6)."""
    Queue(MAIL_QUEUE, connection=redis_for(redis_url)).enqueue(
        "worker.tasks.password_link", email, ip, description="password_link(…)")


def send_password_link(email: str, *, settings: Settings, ip: str | None = None,
                       invitation: bool = False, invited_by: str = "") -> bool:
    """ACC-2: e-mail a single-use link (1 h); any older link dies. False if nobody matched.

    UI-4: `invitation` — a user just given access who has no password yet — gets its own
    e-mail instead ("Bienvenue", who invited them, valid 72 h)."""
    user = eligible_user_for_email(email)
    if user is None:
        return False
    invitation = invitation and not user.password_hash
    ttl = INVITATION_TTL if invitation else LINK_TTL
    token = new_token()
    now = utcnow()
    with db.atomic():
        PasswordToken.update(superseded_at=now).where(
            (PasswordToken.user == user) & PasswordToken.used_at.is_null()
            & PasswordToken.superseded_at.is_null()
        ).execute()
        PasswordToken.create(user=user, token_hash=digest(token), expires_at=now + ttl)
    if invitation:
        mail.send_later(
            settings.REDIS_URL, kind="invitation", to=user.email,
            subject=_("Bienvenue sur Communications Manager : définissez votre mot de passe"),
            template="invitation", account=user.account_id, locale=mail.locale_of(user),
            link=f"{settings.BASE_URL}/mot-de-passe/definir/{token}",
            first_name=user.contact.first_name, company=user.account.name,
            invited_by=invited_by, hours=int(ttl.total_seconds() // 3600), email=user.email)
        audit.record("password.invitation_sent", account=user.account_id, user=user, ip=ip)
        return True
    mail.send_later(
        settings.REDIS_URL,
        kind="password_link",
        to=user.email,
        subject=_("Définir votre mot de passe Communications Manager"),
        template="password_link",
        account=user.account_id,
        locale=mail.locale_of(user),
        link=f"{settings.BASE_URL}/mot-de-passe/definir/{token}",
        first_name=user.contact.first_name,
        hours=1,
    )
    audit.record("password.link_sent", account=user.account_id, user=user, ip=ip)
    return True


def live_password_token(token: str) -> PasswordToken | None:
    return PasswordToken.get_or_none(
        (PasswordToken.token_hash == digest(token))
        & PasswordToken.used_at.is_null()
        & PasswordToken.superseded_at.is_null()
        & (PasswordToken.expires_at > utcnow())
    )


def set_password(token: str, password: str, *, ip: str) -> tuple[User | None, list[str]]:
    """Use the link once: set the password, end other sessions and trusted browsers."""
    errors = problems(password)
    if errors:
        return None, errors
    row = live_password_token(token)
    if row is None:
        return None, [_("Ce lien n'est plus valide : demandez-en un nouveau.")]
    now = utcnow()
    with db.atomic():
        won = PasswordToken.update(used_at=now).where(
            (PasswordToken.id == row.id) & PasswordToken.used_at.is_null()
        ).execute()
        if won != 1:
            return None, [_("Ce lien n'est plus valide : demandez-en un nouveau.")]
        User.update(
            password_hash=hash_password(password), password_set_at=now,
            auth_version=User.auth_version + 1,
        ).where(User.id == row.user_id).execute()
        user = User.get_by_id(row.user_id)
        revoke_all_browsers(user)
    audit.record("password.set", account=user.account_id, user=user, ip=ip)
    return user, []


def end_all_sessions(user: User) -> None:
    """Every session of `user` stops at its next request (auth_version check)."""
    User.update(auth_version=User.auth_version + 1).where(User.id == user.id).execute()
