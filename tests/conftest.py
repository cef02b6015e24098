"""Shared fixtures: real Redis, real SMTP sink, real RQ worker, migrated SQLite per test.

Settings reach the app *and* the worker through the environment, as in production.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
import redis as redis_lib

from tests import factories
from tests.servers import RedisServer, free_port

_TMP = Path(tempfile.mkdtemp(prefix="cm-tests-"))
SMTP_PORT = free_port()
os.environ.update(
    SECRET_KEY="tests-secret-key-not-for-production",
    SMTP_URL=f"smtp://127.0.0.1:{SMTP_PORT}",
    BASE_URL="http://manager.test",
    MAIL_FROM="Communications Manager <no-reply@manager.test>",
    DATA_DIR=str(_TMP / "data"),
)


@pytest.fixture(scope="session")
def redis_server():
    with RedisServer() as server:
        os.environ["REDIS_URL"] = server.url
        yield server


@pytest.fixture
def redis_url(redis_server) -> str:
    """URL of a real, emptied Redis database for this test."""
    conn = redis_lib.Redis.from_url(redis_server.url)
    conn.flushall()
    conn.close()
    return redis_server.url


@pytest.fixture
def redis_conn(redis_url):
    conn = redis_lib.Redis.from_url(redis_url)
    yield conn
    conn.close()


# --- SMTP --------------------------------------------------------------------------

class MailSink:
    """The dev SMTP sink (aiosmtpd) on a fixed free port, writing .eml files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def clear(self) -> None:
        for path in self.directory.glob("*.eml"):
            path.unlink()

    def messages(self, to: str | None = None) -> list[Message]:
        found = []
        for path in sorted(self.directory.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes())
            if to is None or to.lower() in (message["To"] or "").lower():
                found.append(message)
        return found

    def last(self, to: str | None = None) -> Message:
        messages = self.messages(to)
        assert messages, f"no e-mail for {to!r}"
        return messages[-1]


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")


def code_in(message: Message) -> str:
    return re.search(r"^\s+(\d{6})\s*$", text_of(message), re.M).group(1)


def link_in(message: Message) -> str:
    return re.search(r"(https?://\S+/mot-de-passe/definir/\S+)", text_of(message)).group(1)


@pytest.fixture(scope="session")
def smtp_server():
    from worker.mailsink import start

    directory = _TMP / "mail"
    controller = start(directory, port=SMTP_PORT)
    yield MailSink(directory)
    controller.stop()


@pytest.fixture
def smtp(smtp_server) -> MailSink:
    smtp_server.clear()
    return smtp_server


# --- database and app ----------------------------------------------------------------

@pytest.fixture(scope="session")
def migrated_template() -> Path:
    """One migrated SQLite file, copied for every test (the schema comes from migrations)."""
    from webapp.db import init_db
    from webapp.migrate import upgrade

    path = _TMP / "template.db"
    database = init_db(f"sqlite:///{path}")
    upgrade(database)
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def database_url(migrated_template, tmp_path) -> str:
    target = tmp_path / "manager.db"
    shutil.copy(migrated_template, target)
    url = f"sqlite:///{target}"
    os.environ["DATABASE_URL"] = url
    return url


@pytest.fixture
def app(database_url, redis_url, smtp):
    from webapp.app import create_app

    application = create_app({"TESTING": True})
    yield application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_conn(app):
    from webapp.db import db

    opened = db.connect(reuse_if_open=True)
    yield db
    if opened and not db.is_closed():
        db.close()


def job_runner(redis_url: str):
    """A function running every queued RQ job now, in this process, with a real
    SimpleWorker."""
    from rq import Queue, SimpleWorker

    from worker.__main__ import QUEUES

    def run() -> None:
        connection = redis_lib.Redis.from_url(redis_url)
        queues = [Queue(name, connection=connection) for name in QUEUES]
        SimpleWorker(queues, connection=connection).work(burst=True, with_scheduler=False)
        connection.close()

    return run


@pytest.fixture
def run_jobs(redis_url):
    """Run every queued RQ job now, in this process, with a real SimpleWorker."""
    return job_runner(redis_url)


@pytest.fixture
def demo(app):
    from webapp.db import db
    from webapp.services.demo import load_demo

    with db.connection_context():
        return load_demo()


@dataclass
class Tenant:
    """What tests/factories.py made for `tenant`: the attributes `demo` has, no more."""

    account: object
    admin_email: str
    user_email: str
    password: str
    site: object  # the user's role reaches this site only
    line: object  # the user's fixed line


@pytest.fixture
def tenant(app) -> Tenant:
    """A small account for tests that do not need the whole demo: an administrator and a
    user with a custom role on one site ("Responsable Nantes": sites.access
    services.manage tickets.access deployments.view), who holds one fixed line."""
    from webapp.db import db
    from webapp.models import Site

    with db.connection_context():
        account = factories.make_account()
        factories.make_admin(account, "admin@entreprise-test.example")
        site = factories.make_site(account, "Nantes")
        user, _role = factories.make_user(
            account, "user@entreprise-test.example", "Ulysse",
            "sites.access services.manage tickets.access deployments.view", "sites",
            [site.id], role_name="Responsable Nantes")
        line = factories.make_line(account, "+33199000101", holder=user.contact)
        return Tenant(account, "admin@entreprise-test.example", "user@entreprise-test.example",
                      factories.PASSWORD, Site.get_by_id(site.id), line)


# --- signing in ------------------------------------------------------------------------

def csrf_from(html: bytes | str) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


class SigningClient:
    """A test client with the SMTP sink and the worker at hand: it posts forms with the
    CSRF token a page gives (by default the sign-in page of its door)."""

    door = "/connexion"

    def __init__(self, client, smtp: MailSink, run_jobs) -> None:
        self.client = client
        self.smtp = smtp
        self.run_jobs = run_jobs

    def token(self, path: str | None = None) -> str:
        return csrf_from(self.client.get(path or self.door).data)

    def post(self, path: str, data: dict | None = None, token_from: str | None = None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(token_from or path))
        return self.client.post(path, data=data, **kw)


class Browser(SigningClient):
    """A test client that signs in the way a person does (password, e-mailed code)."""

    def password_step(self, email: str, password: str):
        return self.post("/connexion", {"email": email, "password": password})

    def request_code(self):
        return self.post("/connexion/envoyer-code", token_from="/connexion/verification")

    def latest_code(self, email: str) -> str:
        self.run_jobs()
        return code_in(self.smtp.last(email))

    def submit_code(self, code: str, trust: bool = False):
        data = {"code": code}
        if trust:
            data["trust"] = "1"
        return self.post("/connexion/verification", data)

    def sign_in_again(self):
        return self.sign_in(*self.credentials)

    def sign_in(self, email: str, password: str, trust: bool = False):
        self.credentials = (email, password)
        response = self.password_step(email, password)
        assert response.status_code == 303, response.data[:500]
        if response.headers["Location"].endswith("/connexion/verification"):
            page = self.client.get("/connexion/verification").data
            if b"Activer" in page and b'name="code"' not in page:
                self.request_code()
            response = self.submit_code(self.latest_code(email), trust=trust)
            assert response.status_code == 303, response.data[:500]
        return response


@pytest.fixture
def browser(client, smtp, run_jobs) -> Browser:
    return Browser(client, smtp, run_jobs)


@pytest.fixture
def new_browser(app, smtp, run_jobs):
    """Another browser (own cookie jar) on the same app."""
    return lambda: Browser(app.test_client(), smtp, run_jobs)


@pytest.fixture
def admin(demo, browser):
    """The demo administrator, signed in."""
    browser.sign_in(demo.admin_email, demo.password)
    return browser


@pytest.fixture
def tenant_admin(tenant, browser):
    """The administrator of `tenant`, signed in."""
    browser.sign_in(tenant.admin_email, tenant.password)
    return browser


# --- Shared by several areas: demo ids and visitors --------------------------------------

@pytest.fixture
def ids(demo, db_conn):
    from tests.routes import demo_ids

    return demo_ids(demo.account)


@pytest.fixture
def restricted(demo, new_browser):
    """Lucas Petit, demo role "Responsable Lyon" (no sites.manage, no equipment.manage)."""
    b = new_browser()
    b.sign_in(demo.user_email, demo.password)
    return b


@pytest.fixture
def other_admin(demo, new_browser):
    """The administrator of another company (Autre Entreprise SARL), signed in."""
    from webapp.db import db

    with db.connection_context():
        factories.make_admin(factories.make_account("Autre Entreprise SARL"),
                             "admin@autre.example", demo.password, "Olivier", "Autre")
    b = new_browser()
    b.sign_in("admin@autre.example", demo.password)
    return b


@pytest.fixture
def lucas(restricted):
    """`restricted` under the name the exchange and security tests give him."""
    return restricted


@pytest.fixture
def lyon_manager(demo, ids, new_browser):
    """A site manager limited to Lyon (and Entrepôt below it, + the default site)."""
    from tests.factories import make_user

    make_user(demo.account, "site.lyon@atelier-dupont.example", "Sami",
              "sites.manage sites.access services.manage equipment.manage", "sites",
              [ids["site_lyon"]], demo.password)
    b = new_browser()
    b.sign_in("site.lyon@atelier-dupont.example", demo.password)
    return b


@pytest.fixture
def welcome(db_conn, demo):
    """The demo welcome number (« Accueil », +33100000001)."""
    from webapp.models import Service

    return Service.get(Service.number == "+33100000001")


STAFF_EMAIL = "sophie.martin@operateur.example"


class StaffBrowser(SigningClient):
    """A test client signing in to the back-office like a person (password, e-mailed code)."""

    door = "/ops/connexion"

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
