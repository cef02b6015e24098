"""ROLE-1..4 and the security checks: every route × every kind of visitor.

The table lives in tests/routes/*.py (what each visitor gets, and the valid body of every
state-changing route); a route of the app that is not declared there, or a POST route
declared without a body, fails. One app and one demo database serve the whole module:
each (route, visitor) request runs inside a transaction rolled back afterwards, and the
visitor's server-side session is restored, so every visitor posts the same valid body
against the same demo and the matrix does not depend on its order.
"""

from __future__ import annotations

import io
import re
import shutil

import pytest
import redis as redis_lib

from tests.conftest import Browser, job_runner
from tests.routes import (
    ALLOWED,
    CSRF,
    DERIVED,
    INVALID,
    LOGIN,
    VISITORS,
    Demo,
    Route,
    declared_routes,
    demo_ids,
)

IGNORED_ENDPOINTS = {"static"}
REFUSED = (LOGIN, 403, 404)
USERS_ONLY_EMAIL = "acces.seul@atelier-dupont.example"
OTHER_EMAIL = "admin@autre.example"


ROUTES = declared_routes()


# --- the world: one app, one demo, signed-in visitors -----------------------------------

class World:
    def __init__(self, app, redis_url: str, smtp, demo_result) -> None:
        from tests.conftest import StaffBrowser
        from tests.factories import make_user
        from webapp.db import db
        from webapp.models import User
        from webapp.services.accounts import create_account, create_admin
        from webapp.services.passwords import hash_password

        self.app = app
        self.redis = redis_lib.Redis.from_url(redis_url)
        run_jobs = job_runner(redis_url)
        password = demo_result.password
        with db.connection_context():
            other_account = create_account("Autre Entreprise SARL")
            other = create_admin(other_account, OTHER_EMAIL, "Olivier", "Autre")
            User.update(password_hash=hash_password(password)).where(
                User.id == other.id).execute()
            users_only, _role = make_user(demo_result.account, USERS_ONLY_EMAIL, "Inès",
                                          "users.manage", "default", [], password)
            self.demo = Demo(
                account_id=demo_result.account.id,
                admin_user_id=User.get(User.email == demo_result.admin_email).id,
                restricted_user_id=User.get(User.email == demo_result.user_email).id,
                users_only_user_id=users_only.id, other_account_id=other_account.id,
                other_admin_id=other.id, password=password, ids=demo_ids(demo_result.account))
        self.clients: dict[str, Browser] = {}
        emails = {"admin": demo_result.admin_email, "restricted": demo_result.user_email,
                  "users_only": USERS_ONLY_EMAIL, "other": OTHER_EMAIL}
        for n, who in enumerate(VISITORS, start=1):
            client = app.test_client()
            # Each visitor comes from its own address: per-IP limits are its own.
            client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n}"
            if who == "staff":
                b = StaffBrowser(client, smtp, run_jobs)
                b.sign_in(password)
            else:
                b = Browser(client, smtp, run_jobs)
                if who in emails:
                    b.sign_in(emails[who], password)
            self.clients[who] = b
        self.tokens = {who: self._token(who) for who in VISITORS}
        self.user_ids = {who: self.demo.admin_user_id if who == "admin" else
                         self.demo.restricted_user_id if who == "restricted" else
                         self.demo.users_only_user_id if who == "users_only" else
                         self.demo.other_admin_id if who == "other" else None
                         for who in VISITORS}
        self.demo.reader = self._read

    def _read(self, path: str, who: str) -> str:
        response = self.clients[who].client.get(path)
        assert response.status_code == 200, (path, who, response.status_code)
        return response.get_data(as_text=True)

    def _token(self, who: str) -> str:
        page = {"anonymous": "/connexion", "staff": "/ops/"}.get(who, "/compte")
        return self.clients[who].token(page)

    # -- server-side sessions: a request may end or replace its visitor's session
    def _session_key(self, b) -> str | None:
        cookie = b.client.get_cookie("cm_session")
        return f"session:{cookie.value}" if cookie else None

    def save_session(self, b):
        key = self._session_key(b)
        return dict(b.client._cookies), key, self.redis.dump(key) if key else None

    def restore_session(self, b, saved) -> None:
        cookies, key, dumped = saved
        b.client._cookies = dict(cookies)
        if key and dumped is not None:
            self.redis.restore(key, 0, dumped, replace=True)

    def url(self, route: Route) -> str:
        from flask import url_for

        with self.app.test_request_context():
            return url_for(route.endpoint, **(route.args(self.demo) if route.args else {}))

    def attempt(self, route: Route, who: str) -> tuple[object, str, str, bool]:
        """(outcome, url, status and refusal text, whether the database changed), everything
        rolled back."""
        from webapp.db import db
        from webapp.extensions import limiter

        b = self.clients[who]
        headers = {"HX-Request": "true"} if route.htmx else {}
        with db.atomic() as transaction:
            self.demo.user_id = self.user_ids[who]
            url = self.demo.url = self.url(route)
            saved = self.save_session(b)
            data = route.body(self.demo) if route.method != "GET" else None
            if route.prepare is not None:
                prepared = route.prepare(b, self.demo)
                prepared.pop("page", None)
                if data is not None:
                    data.update(prepared)
            with db.savepoint() as savepoint:
                before = changes()
                if data is None:
                    response = b.client.get(url, headers=headers)
                else:
                    data.setdefault("csrf_token", self.tokens[who])
                    response = b.client.open(url, method=route.method, data=data,
                                             headers=headers)
                got = outcome(response)
                why = _why(response) if got != ALLOWED else ""
                response.close()
                changed = False
                if changes() != before and (data is None or got in REFUSED or got == INVALID):
                    after = database_digest()
                    savepoint.rollback()
                    changed = database_digest() != after
            transaction.rollback()
        self.restore_session(b, saved)
        if data is not None:
            limiter.reset()  # every visitor posts under the same limits
        return got, url, f"({response.status_code}) {why}", changed


def changes() -> int:
    """Rows written so far on this connection (SQLite's total_changes)."""
    from webapp.db import db

    return db.connection().total_changes


@pytest.fixture(scope="module")
def world(migrated_template, redis_server, smtp_server, tmp_path_factory):
    from webapp.app import create_app
    from webapp.db import db
    from webapp.services.demo import load_demo

    target = tmp_path_factory.mktemp("matrix") / "manager.db"
    shutil.copy(migrated_template, target)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", f"sqlite:///{target}")
        redis_lib.Redis.from_url(redis_server.url).flushall()
        smtp_server.clear()
        app = create_app({"TESTING": True})
        with db.connection_context():
            demo_result = load_demo()
        w = World(app, redis_server.url, smtp_server, demo_result)
        with db.connection_context():  # one connection for the module: requests reuse it
            yield w
        w.redis.close()


# --- outcomes ------------------------------------------------------------------------------

def outcome(response) -> object:
    status = response.status_code
    if response.headers.get("X-CSRF-Refused"):
        return CSRF  # told apart from a validation error (both are 400)
    location = response.headers.get("Location", "") or response.headers.get("HX-Redirect", "")
    if status in (302, 303, 401) and "/connexion" in location and "next=" in location:
        return LOGIN
    if status in (403, 404):
        return status
    if status in (400, 401, 409, 410, 422):
        return INVALID
    if status >= 300 and status not in (301, 302, 303, 307, 308):
        return status
    return ALLOWED


def _why(response) -> str:
    """The French error a refused body got, for the failure message."""
    if response.status_code < 400 or response.mimetype == "text/event-stream":
        return ""
    text = response.get_data(as_text=True)
    found = [re.sub(r"<[^>]+>", " ", m)[:160] for m in re.findall(
        r'class="(?:field-error|flash flash-error)[^"]*"[^>]*>(.{0,400}?)</(?:p|div|span)>',
        text, re.S)]
    return (" | ".join(" ".join(f.split()) for f in found if f.strip())
            or " ".join(re.sub(r"<[^>]+>", " ", text).split())[:300])[:300]


def required(app, endpoint: str) -> frozenset[str]:
    from webapp.security import PERMS_ATTR

    return frozenset(getattr(app.view_functions[endpoint], PERMS_ATTR, ()))


def expectation(app, route: Route, who: str) -> object:
    expected = getattr(route, who)
    if expected is not DERIVED:
        return expected
    if who == "users_only":
        return 403 if required(app, route.endpoint) - {"users.manage"} else route.admin
    # staff: a stranger on customer pages, the one allowed visitor of the back-office
    if route.endpoint.startswith("ops."):
        return ALLOWED
    return LOGIN if route.anonymous == LOGIN else route.anonymous


def database_digest() -> str:
    """Every table of the schema except the audit journal (a refused attempt is logged)."""
    from tests.dbdigest import digest
    from webapp.db import db
    from webapp.models import AuditEvent
    from webapp.models.base import BaseModel

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    tables = set(db.get_tables())
    models = sorted({m for m in subclasses(BaseModel) if m._meta.table_name in tables
                     and m is not AuditEvent}, key=lambda m: m._meta.table_name)
    return digest(*models)


# --- the tests -------------------------------------------------------------------------

def test_every_route_is_declared(world):
    declared = {(r.endpoint, r.method) for r in ROUTES}
    missing = []
    for rule in world.app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in declared:
                missing.append(f"{method} {rule.endpoint} ({rule.rule})")
    assert not missing, "routes without an entry in tests/routes/: " + ", ".join(missing)


def test_no_duplicate_declarations():
    keys = [(r.endpoint, r.method) for r in ROUTES]
    assert len(keys) == len(set(keys))


def test_every_state_changing_route_has_a_valid_body_someone_may_post():
    """A POST route is declared with its valid body, and the administrator (the staff
    member on /ops) is expected to succeed with it: the matrix proves the view is reached
    and accepts the body, so a refusal elsewhere is a refusal, not a bad body."""
    problems = []
    for r in ROUTES:
        if r.method == "GET":
            continue
        if r.data is None:
            problems.append(f"{r.endpoint}: no body (data=)")
        who = "staff" if r.endpoint.startswith("ops.") else "admin"
        if getattr(r, who) not in (ALLOWED, DERIVED):
            problems.append(f"{r.endpoint}: {who} is not expected to succeed")
        if CSRF in [getattr(r, v) for v in VISITORS]:
            problems.append(f"{r.endpoint}: a CSRF refusal is never an expectation")
    assert not problems, "\n".join(problems)


def test_route_matrix(world):
    failures = []
    checked = {who: 0 for who in VISITORS}
    for route in ROUTES:
        for who in VISITORS:
            expected = expectation(world.app, route, who)
            got, url, why, changed = world.attempt(route, who)
            checked[who] += 1
            if got != expected:
                failures.append(f"{who:10} {route.method:4} {route.endpoint} {url}: expected "
                                f"{expected}, got {got} {why}")
            elif changed:
                failures.append(f"{who:10} {route.method:4} {url}: "
                                f"{'a GET' if route.method == 'GET' else f'refused ({got}) but'}"
                                " changed the database")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
    assert min(checked.values()) == len(ROUTES) > 150, checked


def test_route_matrix_csrf_refusal_is_told_apart_from_a_validation_error(world):
    from webapp.db import db

    b = world.clients["admin"]
    with db.atomic() as transaction:
        before = database_digest()
        no_token = b.client.post("/annuaire/nouveau", data={"first_name": "Eve"})
        assert no_token.status_code == 400 and outcome(no_token) == CSRF
        invalid = b.client.post("/annuaire/nouveau", data={
            "first_name": "Eve", "csrf_token": world.tokens["admin"]})
        assert invalid.status_code == 400 and outcome(invalid) == INVALID
        assert database_digest() == before
        transaction.rollback()



def test_route_matrix_another_accounts_files_are_404_with_nothing_leaked(world):
    """Real files of a second account (made like `create-admin` does, uploaded through
    HTTP by its administrator, its invoice issued by the back-office): the demo's
    administrator gets 404 on their real ids (the others 404 or 403) and none of their
    bytes; their owner gets them."""
    from tests.lines.audio_files import wav_bytes
    from tests.routes.exchange import PDF
    from tests.routes.folders_history import _png
    from webapp.models import Attachment, AudioFile, Contact, Invoice

    other, staff, d = world.clients["other"], world.clients["staff"], world.demo

    def post(b, path, data, token_page="/compte"):
        response = b.client.post(path, data={**data, "csrf_token": b.token(token_page)})
        assert response.status_code in (200, 303), (path, response.status_code, _why(response))

    sound = wav_bytes(0.3)
    post(other, "/configurer/audio", {"file": (io.BytesIO(sound), "autre.wav"),
                                      "name": "Annonce Autre", "kind": "announcement"})
    post(other, "/tickets/nouveau", {"subject": "Facture", "body": "Voir la pièce jointe.",
                                     "files": (io.BytesIO(PDF + b"autre"), "autre.pdf")})
    olivier = Contact.get((Contact.account == d.other_account_id)
                          & (Contact.first_name == "Olivier"))
    photo = _png()
    post(other, f"/annuaire/dossiers/contacts/{olivier.id}/photo",
         {"photo": (io.BytesIO(photo), "olivier.png")})
    post(staff, f"/ops/comptes/{d.other_account_id}/factures",
         {"label": "Abonnement Autre SARL", "amount": "42,00", "due_on": "2031-01-31",
          "order": ""}, token_page="/ops/")
    audio = AudioFile.get(AudioFile.account == d.other_account_id)
    attachment = Attachment.get(Attachment.account == d.other_account_id)
    invoice = Invoice.get(Invoice.account == d.other_account_id)
    files = {f"/configurer/audio/{audio.id}/fichier": sound[:200],
             f"/tickets/pieces-jointes/{attachment.id}": PDF + b"autre",
             f"/annuaire/dossiers/contacts/{olivier.id}/photo": None,
             f"/facturation/factures/{invoice.id}": b"Abonnement Autre SARL",
             f"/facturation/factures/{invoice.id}/pdf": b"%PDF"}
    for path, content in files.items():
        mine = other.client.get(path)
        assert mine.status_code == 200, (path, mine.status_code)
        if content is not None and not path.endswith("/pdf"):
            assert content in mine.data, path
        for who in ("admin", "restricted", "users_only"):
            got = world.clients[who].client.get(path)
            # the administrator holds every permission: 404; the others may be refused
            # earlier for lacking the permission (403) — either way, nothing leaks
            assert got.status_code == 404 if who == "admin" else got.status_code in (403, 404), (
                who, path, got.status_code)
            assert b"Autre" not in got.data and (content is None or content not in got.data)
            assert got.mimetype == "text/html", (who, path, got.mimetype)
