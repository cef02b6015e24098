"""Password links (ACC-2/3/4): e-mailed once, single use, one live link per user.

The lookup runs in the worker (`send_password_link_later`), so the web answer is the same
whoever asks (ACC-6). A refused password raises `FormError` (field "password").
"""

from __future__ import annotations

import datetime as dt

from rq import Queue

from webapp.db import db
from webapp.i18n import _
from webapp.models import Contact, PasswordToken, User, utcnow
from webapp.redis_conn import redis_for
from webapp.services import audit, mail
from webapp.services.access import may_have_account
from webapp.services.actor import Actor
from webapp.services.auth import normalise_email
from webapp.services.errors import FormError
from webapp.services.mail import MAIL_QUEUE
from webapp.services.passwords import check_password, hash_password
from webapp.services.tokens import digest, new_token
from webapp.services.trusted_browsers import revoke_all_browsers
from webapp.settings import Settings

LINK_TTL = dt.timedelta(hours=1)
INVITATION_TTL = dt.timedelta(hours=72)  # UI-4: a new user's "Bienvenue" link
LINK_DEAD = _("Ce lien n'est plus valide : demandez-en un nouveau.")


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


def send_password_link_later(email: str, *, actor: Actor) -> None:
    """The whole lookup runs in the worker (`send_password_link`): same answer, same
    time, whoever asks (ACC-6)."""
    Queue(MAIL_QUEUE, connection=redis_for(actor.redis_url)).enqueue(
        "worker.tasks.password_link", email, actor.ip, description="password_link(…)")


def send_password_link(email: str, *, settings: Settings, actor: Actor | None = None,
                       invitation: bool = False, invited_by: str = "") -> bool:
    """ACC-2: e-mail a single-use link (1 h); any older link dies. False if nobody matched.

    UI-4: `invitation` — a user just given access who has no password yet — gets its own
    e-mail instead ("Bienvenue", who invited them, valid 72 h). `actor`: who asked (the
    administrator inviting, the visitor asking for a link); none for a command."""
    ip = actor.ip if actor is not None else None
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
    mail.send_later(settings.REDIS_URL, kind="password_link", to=user.email,
                    subject=_("Définir votre mot de passe Communications Manager"),
                    template="password_link", account=user.account_id,
                    locale=mail.locale_of(user),
                    link=f"{settings.BASE_URL}/mot-de-passe/definir/{token}",
                    first_name=user.contact.first_name, hours=1)
    audit.record("password.link_sent", account=user.account_id, user=user, ip=ip)
    return True


def live_password_token(token: str) -> PasswordToken | None:
    return PasswordToken.get_or_none(
        (PasswordToken.token_hash == digest(token))
        & PasswordToken.used_at.is_null()
        & PasswordToken.superseded_at.is_null()
        & (PasswordToken.expires_at > utcnow())
    )


def set_password(token: str, password: str, *, actor: Actor) -> User:
    """Use the link once: set the password, end other sessions and trusted browsers.

    Raises FormError ("password": too short, too common…; "": the link is dead)."""
    check_password(password)
    row = live_password_token(token)
    if row is None:
        raise FormError(LINK_DEAD)
    now = utcnow()
    with db.atomic():
        won = PasswordToken.update(used_at=now).where(
            (PasswordToken.id == row.id) & PasswordToken.used_at.is_null()
        ).execute()
        if won != 1:
            raise FormError(LINK_DEAD)
        User.update(
            password_hash=hash_password(password), password_set_at=now,
            auth_version=User.auth_version + 1,
        ).where(User.id == row.user_id).execute()
        user = User.get_by_id(row.user_id)
        revoke_all_browsers(user)
    audit.record("password.set", account=user.account_id, user=user, ip=actor.ip)
    return user
