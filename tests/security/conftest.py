"""Fixtures of the attacks of SEC-1..8: real HTTP requests with valid CSRF
tokens and real bodies through the Flask test client."""

from __future__ import annotations

import pytest

from tests.csv.conftest import sync  # noqa: F401 - fixture
from tests.directory.conftest import post  # noqa: F401 - shared helper
from tests.factories import make_admin, make_user  # noqa: F401 - shared helper


@pytest.fixture
def second_admin(demo, db_conn):
    """An administrator made by `create-admin`: his contact sits on "Site par défaut",
    which every scoped role reaches."""
    return make_admin(demo.account, "bruno.admin@atelier-dupont.example", demo.password,
                      "Bruno", "Admin")


def contact_form(contact, **changes) -> dict:
    data = {"first_name": contact.first_name, "last_name": contact.last_name,
            "email": contact.email or "", "phone_work": contact.phone_work or "",
            "phone_mobile": contact.phone_mobile or "", "site_id": str(contact.site_id)}
    data.update(changes)
    return data
