"""Fixtures of the exchange area: operator staff signed in for real (2FA), helpers."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.conftest import text_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%demo\n" + b"0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
TEXT = "Journal d'appels : tonalité absente à 9 h 02.\n".encode()


@pytest.fixture
def make_user(app, demo):
    """A user of the demo account holding exactly `permissions` (all sites)."""
    from webapp.db import db

    def make(email: str, permissions: str) -> str:
        with db.connection_context():
            factories.make_user(demo.account, email, "Test", permissions, "all", [],
                                demo.password, role_name=f"Rôle {email}")
        return email

    return make


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
