"""Creating tenants: an account with its default site and built-in roles."""

from __future__ import annotations

from webapp.db import db
from webapp.models import Account, Contact, Licence, Role, Site, User, UserRole
from webapp.permissions import ADMIN_ROLE_NAME, PERMISSIONS, SCOPE_ALL
from webapp.services import audit

DEFAULT_SITE_NAME = "Site par défaut"


def create_account(name: str, timezone: str = "Europe/Paris", shards: int | None = None) -> Account:
    """`shards`: ENGINE_SHARDS (read from the environment when not given, SCALE-1)."""
    from webapp.services.shards import assign_shard

    if shards is None:
        from webapp.settings import load

        shards = load().ENGINE_SHARDS
    with db.atomic():
        account = Account.create(name=name, timezone=timezone, shard=assign_shard(shards))
        Site.create(account=account, name=DEFAULT_SITE_NAME, is_default=True)
        Role.create(account=account, name=ADMIN_ROLE_NAME, builtin=True,
                    permissions=" ".join(PERMISSIONS), scope=SCOPE_ALL)
    return account


def default_site(account: Account | int) -> Site:
    return Site.get((Site.account == account) & Site.is_default)


def admin_role(account: Account | int) -> Role:
    return Role.get((Role.account == account) & Role.builtin)


def create_admin(
    account: Account, email: str, first_name: str, last_name: str
) -> User:
    """A contact with a Manager licence, a user and the Administrateur role (no password yet)."""
    address = email.strip().lower()
    with db.atomic():
        contact = Contact.create(account=account, site=default_site(account),
                                 first_name=first_name, last_name=last_name, email=address)
        Licence.create(account=account, contact=contact, product="manager")
        user = User.create(account=account, contact=contact, email=address)
        UserRole.create(user=user, role=admin_role(account))
    audit.record("user.created", account=account, user=user, role=ADMIN_ROLE_NAME)
    return user
