"""Fixtures of the exchange area: operator staff signed in for real (2FA), helpers."""

from __future__ import annotations

import re

import pytest

from tests.conftest import text_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%demo\n" + b"0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
TEXT = "Journal d'appels : tonalité absente à 9 h 02.\n".encode()


@pytest.fixture
def lucas(demo, new_browser):
    """The restricted demo user (Lyon scope, tickets and deployments, no billing)."""
    b = new_browser()
    b.sign_in(demo.user_email, demo.password)
    return b


@pytest.fixture
def make_user(app, demo):
    """A user of the demo account holding exactly `permissions` (all sites)."""
    from webapp.db import db
    from webapp.models import Contact, Licence, Role, User, UserRole
    from webapp.services.passwords import hash_password

    def make(email: str, permissions: str) -> str:
        with db.connection_context():
            contact = Contact.create(account=demo.account, first_name="Test", last_name=email,
                                     email=email)
            Licence.create(account=demo.account, contact=contact, product="manager")
            user = User.create(account=demo.account, contact=contact, email=email,
                               password_hash=hash_password(demo.password))
            role = Role.create(account=demo.account, name=f"Rôle {email}",
                               permissions=permissions, scope="all")
            UserRole.create(user=user, role=role)
        return email

    return make


@pytest.fixture
def other_admin(app, demo, new_browser):
    """The administrator of another company, signed in."""
    from webapp.db import db
    from webapp.models import User
    from webapp.services.accounts import create_account, create_admin
    from webapp.services.passwords import hash_password

    with db.connection_context():
        account = create_account("Autre Entreprise SARL")
        user = create_admin(account, "admin@autre.example", "Olivier", "Autre")
        User.update(password_hash=hash_password(demo.password)).where(
            User.id == user.id).execute()
    b = new_browser()
    b.sign_in("admin@autre.example", demo.password)
    return b


def q(model, *where):
    """One row, read in its own connection (tests run outside requests)."""
    from webapp.db import db

    with db.connection_context():
        return model.get(*where)


def count(query) -> int:
    from webapp.db import db

    with db.connection_context():
        return query.count()


def events_of(html: str) -> dict[str, int]:
    """kind -> count shown in the "Évènements" block."""
    found = {}
    for kind, number in re.findall(
            r'data-kind="(\w+)">\s*<a[^>]*>\s*<span class="event-count">([^<]+)</span>', html):
        found[kind] = 1 if number == "!" else int(number)
    return found


def link_of(message) -> str:
    return re.findall(r"https?://\S+", text_of(message))[-1]


def subject_of(message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))
