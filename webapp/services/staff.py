"""Operator staff accounts (OPS-1): separate from customer users, same 2FA rules.

Codes and trusted browsers go through webapp.services.auth and trusted_browsers, which
handle both
principals; this module only knows who the staff are.
"""

from __future__ import annotations

import secrets

from webapp.db import db
from webapp.models import StaffTrustedBrowser, StaffUser, utcnow
from webapp.services import audit
from webapp.services.passwords import (
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)


def normalise(email: str) -> str:
    return email.strip().lower()


def create_staff(email: str, first_name: str, last_name: str = "",
                 password: str | None = None) -> tuple[StaffUser, str]:
    """A new staff account; returns it with its password (generated when not given)."""
    password = password or secrets.token_urlsafe(12)
    check_password(password)  # FormError (a ValueError) when refused
    staff = StaffUser.create(email=normalise(email), first_name=first_name,
                             last_name=last_name, password_hash=hash_password(password))
    audit.record("staff.created", staff=staff.id)
    return staff, password


def set_staff_password(staff: StaffUser, password: str) -> None:
    check_password(password)  # FormError (a ValueError) when refused

    with db.atomic():
        StaffUser.update(password_hash=hash_password(password),
                         auth_version=StaffUser.auth_version + 1).where(
            StaffUser.id == staff.id).execute()
        # SEC-8: as for customers, a new password revokes every trusted browser.
        StaffTrustedBrowser.update(revoked_at=utcnow()).where(
            (StaffTrustedBrowser.user == staff.id)
            & StaffTrustedBrowser.revoked_at.is_null()).execute()
    audit.record("staff.password_set", staff=staff.id)


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active staff member with this e-mail and password, else None (same cost)."""
    staff = StaffUser.get_or_none(StaffUser.email == normalise(email))
    if not verify_password(staff.password_hash if staff else None, password):
        return None
    if not staff.is_active:
        return None
    if needs_rehash(staff.password_hash):
        StaffUser.update(password_hash=hash_password(password)).where(
            StaffUser.id == staff.id).execute()
    return staff


def active_staff() -> list[StaffUser]:
    return list(StaffUser.select().where(StaffUser.is_active).order_by(StaffUser.first_name))
