"""Fixtures of the exchange area: operator staff signed in for real (2FA), helpers."""

from __future__ import annotations

import re

import pytest

from tests.conftest import code_in, csrf_from, text_of

STAFF_EMAIL = "sophie.martin@operateur.example"

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%demo\n" + b"0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
TEXT = "Journal d'appels : tonalité absente à 9 h 02.\n".encode()


class StaffBrowser:
    """A test client signing in to the back-office like a person (password, e-mailed code)."""

    def __init__(self, client, smtp, run_jobs) -> None:
        self.client = client
        self.smtp = smtp
        self.run_jobs = run_jobs

    def token(self, path: str = "/ops/connexion") -> str:
        return csrf_from(self.client.get(path).data)

    def post(self, path: str, data: dict | None = None, token_from: str | None = None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(token_from or path))
        return self.client.post(path, data=data, **kw)

    def latest_code(self) -> str:
        self.run_jobs()
        return code_in(self.smtp.last(STAFF_EMAIL))

    def sign_in(self, password: str, trust: bool = False, email: str = STAFF_EMAIL):
        response = self.post("/ops/connexion", {"email": email, "password": password})
        assert response.status_code == 303, response.data[:300]
        if response.headers["Location"].endswith("/ops/connexion/verification"):
            page = self.client.get("/ops/connexion/verification").data
            if b'name="code"' not in page:
                self.post("/ops/connexion/envoyer-code", token_from="/ops/connexion/verification")
            data = {"code": self.latest_code()}
            if trust:
                data["trust"] = "1"
            response = self.post("/ops/connexion/verification", data)
            assert response.status_code == 303, response.data[:300]
        return response


@pytest.fixture
def staff(app, demo, smtp, run_jobs) -> StaffBrowser:
    """The demo operator (Sophie Martin), signed in to the back-office."""
    browser = StaffBrowser(app.test_client(), smtp, run_jobs)
    browser.sign_in(demo.password)
    return browser


@pytest.fixture
def new_staff_browser(app, smtp, run_jobs):
    return lambda: StaffBrowser(app.test_client(), smtp, run_jobs)


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
