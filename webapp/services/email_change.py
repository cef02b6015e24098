"""SEC-1: the sign-in address of a Manager user changes only with the right to manage
access, and only once the new address has proven it is reachable.

Every path that changes a contact's e-mail (contact form, CSV synchronisation, any
future one) goes through `guard()` and `request_change()` for contacts that sign in:
- the actor needs "Gérer les accès utilisateurs" and passes the role-change guard
  (nobody acts on a user who holds rights they lack);
- the new address is written nowhere until the link sent to it is followed
  (`confirm()`); the old address is told; pending password links of the user die.
"""

from __future__ import annotations

import datetime as dt

from webapp.db import db
from webapp.i18n import N_, _
from webapp.models import Contact, EmailChange, PasswordToken, User, utcnow
from webapp.services import audit, mail
from webapp.services.access import Access
from webapp.services.actor import Actor
from webapp.services.errors import FormError
from webapp.services.roles import BeyondRights, may_act_on
from webapp.services.tokens import digest, new_token
from webapp.services.trusted_browsers import revoke_all_browsers

LINK_TTL = dt.timedelta(hours=24)

NEEDS_PERMISSION = N_("Ce contact se connecte au Manager avec son adresse e-mail : la modifier "
                    "demande la permission « Gérer les accès utilisateurs ».")
WIDER_RIGHTS = N_("Ce contact se connecte au Manager et a des droits plus larges que les "
                "vôtres : seul un administrateur peut modifier son adresse e-mail.")
TAKEN = N_("Cette adresse est déjà celle d'un autre utilisateur.")


def user_of(contact: Contact | int) -> User | None:
    contact_id = contact if isinstance(contact, int) else contact.id
    return User.get_or_none(User.contact == contact_id)


def check_may_change(access: Access, target: User) -> None:
    """BeyondRights (field "email") unless `access` may change `target`'s sign-in
    address."""
    if not access.can("users.manage") or access.account_id != target.account_id:
        raise BeyondRights({"email": NEEDS_PERMISSION})
    if not may_act_on(access, target):
        raise BeyondRights({"email": WIDER_RIGHTS})


def guard(access: Access, target: User, actor: Actor) -> None:
    """`check_may_change`, the refusal written to the security journal (SEC-1)."""
    try:
        check_may_change(access, target)
    except BeyondRights:
        audit.record("user.email_change_refused", account=target.account_id, actor=actor,
                     target=target.id)
        raise


def kill_password_links(user_id: int) -> int:
    return PasswordToken.update(superseded_at=utcnow()).where(
        (PasswordToken.user == user_id) & PasswordToken.used_at.is_null()
        & PasswordToken.superseded_at.is_null()).execute()


def request_change(access: Access, target: User, new_email: str, *, actor: Actor, settings
                   ) -> EmailChange:
    """Sends the confirmation link to the new address and a notice to the old one.

    Raises BeyondRights when refused, FormError (field "email") when the address is taken.
    """
    guard(access, target, actor)
    address = new_email.strip().lower()
    if User.select().where((User.email == address) & (User.id != target.id)).exists():
        raise FormError({"email": TAKEN})
    token = new_token()
    now = utcnow()
    with db.atomic():
        EmailChange.update(superseded_at=now).where(
            (EmailChange.user == target.id) & EmailChange.used_at.is_null()
            & EmailChange.superseded_at.is_null()).execute()
        row = EmailChange.create(user=target.id, new_email=address, token_hash=digest(token),
                                 requested_by=str(actor.user.id) if actor.user else None,
                                 expires_at=now + LINK_TTL)
        kill_password_links(target.id)
    first_name = target.contact.first_name
    mail.send_later(settings.REDIS_URL, kind="email_change_confirm", to=address,
                    subject=_("Confirmez votre nouvelle adresse Communications Manager"),
                    template="email_change_confirm", account=target.account_id,
                    locale=mail.locale_of(target),
                    first_name=first_name, link=f"{settings.BASE_URL}/adresse/confirmer/{token}",
                    hours=int(LINK_TTL.total_seconds() // 3600))
    mail.send_later(settings.REDIS_URL, kind="email_change_notice", to=target.email,
                    subject=_("Changement de votre adresse de connexion Communications Manager"),
                    template="email_change_notice", account=target.account_id,
                    locale=mail.locale_of(target),
                    first_name=first_name, new_email=address)
    audit.record("user.email_change_requested", account=target.account_id, actor=actor,
                 target=target.id)
    return row


def live(token: str) -> EmailChange | None:
    return EmailChange.get_or_none(
        (EmailChange.token_hash == digest(token)) & EmailChange.used_at.is_null()
        & EmailChange.superseded_at.is_null() & (EmailChange.expires_at > utcnow()))


def confirm(token: str, *, actor: Actor) -> User | None:
    """Follow the link: the address becomes the contact's and the sign-in one. Every
    session, pending password link and trusted browser of the user ends."""
    row = live(token)
    if row is None:
        return None
    now = utcnow()
    with db.atomic():
        if User.select().where((User.email == row.new_email) & (User.id != row.user_id)
                               ).exists():
            return None
        won = EmailChange.update(used_at=now).where(
            (EmailChange.id == row.id) & EmailChange.used_at.is_null()
            & EmailChange.superseded_at.is_null()).execute()
        if won != 1:
            return None
        user = User.get_by_id(row.user_id)
        old = user.email
        User.update(email=row.new_email, auth_version=User.auth_version + 1).where(
            User.id == user.id).execute()
        Contact.update(email=row.new_email).where(Contact.id == user.contact_id).execute()
        kill_password_links(user.id)
        revoke_all_browsers(user)
    audit.record("user.email_changed", account=user.account_id, user=user, ip=actor.ip,
                 previous_domain=old.rsplit("@", 1)[-1])
    return User.get_by_id(user.id)


def pending(user: User) -> EmailChange | None:
    return (EmailChange.select().where(
        (EmailChange.user == user.id) & EmailChange.used_at.is_null()
        & EmailChange.superseded_at.is_null() & (EmailChange.expires_at > utcnow()))
        .order_by(EmailChange.id.desc()).first())
