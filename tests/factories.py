"""Small factories: one account, site, contact, line, welcome number, user… for tests that
do not need the whole demo (`tenant` in tests/conftest.py puts a few of them together).

Each goes through the service that creates the thing in the product where there is one
(`create_account` gives the default site and the built-in role, `create_service` the
default forwarding profile of a fixed line), so what a test gets is what users get.
"""

from __future__ import annotations

PASSWORD = "une phrase de passe pour les tests"


def make_account(name: str = "Entreprise Test SARL", timezone: str = "Europe/Paris"):
    """An account with its default site and the built-in Administrateur role."""
    from webapp.services.accounts import create_account

    return create_account(name, timezone=timezone)


def make_site(account, name: str, parent=None):
    from webapp.models import Site

    return Site.create(account=account, parent=parent, name=name)


def make_contact(account, first: str = "Alice", last: str = "Test", site=None,
                 email: str | None = None, licences: tuple[str, ...] = (), **fields):
    """A contact on `site` (the default site unless given) with these licences."""
    from webapp.models import Contact, Licence
    from webapp.services.accounts import default_site

    contact = Contact.create(account=account, site=site or default_site(account),
                             first_name=first, last_name=last, email=email, **fields)
    for product in licences:
        Licence.create(account=account, contact=contact, product=product)
    return contact


def make_line(account, number: str, kind: str = "fixed", site=None, holder=None,
              label: str | None = None, **fields):
    """A fixed (with its default forwarding profile), mobile or fax line, or a welcome
    number; its holder, if any, is also one of its contacts (DIR-3)."""
    from webapp.models import ServiceContact
    from webapp.services.provisioning import create_service

    service = create_service(account=account, site=site or _holder_site(account, holder),
                             kind=kind, number=number, label=label or f"Ligne {number[-3:]}",
                             holder=holder, **fields)
    if holder is not None:
        ServiceContact.create(service=service, contact=holder)
    return service


def _holder_site(account, holder):
    from webapp.services.accounts import default_site

    return holder.site if holder is not None and holder.site_id else default_site(account)


def make_welcome_number(account, number: str, lines=(), kind: str = "queue",
                        site=None, **profile):
    """A welcome number whose entry profile (`key` "jour", "Jour") rings `lines` in this
    order, priority 1, weight 1; `profile` sets the other WelcomeProfile fields."""
    from webapp.models import WelcomeLine, WelcomeProfile

    welcome = make_line(account, number, kind="welcome", site=site, label="Accueil")
    fields = {"key": "jour", "name": "Jour", **profile}
    entry = WelcomeProfile.create(service=welcome, kind=kind, is_entry=True, **fields)
    for position, line in enumerate(lines):
        WelcomeLine.create(profile=entry, line=line, priority=1, weight=1, position=position)
    return welcome


def make_admin(account, email: str, password: str = PASSWORD, first: str = "Admin",
               last: str = "Test"):
    """An administrator (Manager licence, Administrateur role) who has set a password and
    never activated two-factor sign-in, like the demo's."""
    from webapp.models import User, utcnow
    from webapp.services.accounts import create_admin
    from webapp.services.passwords import hash_password

    user = create_admin(account, email, first, last)
    User.update(password_hash=hash_password(password), password_set_at=utcnow()).where(
        User.id == user.id).execute()
    return User.get_by_id(user.id)


def make_role(account, permissions: str, scope: str, sites=(), name: str = "Rôle test"):
    """A custom role (ROLE-1..3) limited to `sites` (ids) when its scope is "sites"."""
    from webapp.models import Role, RoleSite

    role = Role.create(account=account, name=name, permissions=permissions, scope=scope)
    for site in sites:
        RoleSite.create(role=role, site=site)
    return role


def make_user(account, email: str, first: str, permissions: str, scope: str,
              sites: list[int], password: str = PASSWORD, role_name: str | None = None):
    """A contact with a Manager licence, a user who has set a password and one custom
    role; returns (user, role)."""
    from webapp.models import User, UserRole, utcnow
    from webapp.services.passwords import hash_password

    contact = make_contact(account, first, email=email, licences=("manager",))
    role = make_role(account, permissions, scope, sites, role_name or f"Rôle {first}")
    user = User.create(account=account, contact=contact, email=email,
                       password_hash=hash_password(password), password_set_at=utcnow())
    UserRole.create(user=user, role=role)
    return user, role
