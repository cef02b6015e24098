"""Small factories: one account, user, line… for tests that do not need the whole demo."""

from __future__ import annotations


def make_user(account, email: str, first: str, permissions: str, scope: str,
              sites: list[int], password: str, role_name: str | None = None):
    """A contact with a licence, a user and one custom role."""
    from webapp.models import Contact, Licence, Role, RoleSite, User, UserRole, utcnow
    from webapp.services.accounts import default_site
    from webapp.services.passwords import hash_password

    contact = Contact.create(account=account, site=default_site(account), first_name=first,
                             last_name="Test", email=email)
    Licence.create(account=account, contact=contact, product="manager")
    role = Role.create(account=account, name=role_name or f"Rôle {first}",
                       permissions=permissions, scope=scope)
    for site_id in sites:
        RoleSite.create(role=role, site=site_id)
    user = User.create(account=account, contact=contact, email=email,
                       password_hash=hash_password(password), password_set_at=utcnow())
    UserRole.create(user=user, role=role)
    return user, role
