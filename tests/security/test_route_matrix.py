"""ROLE-1..4 and the security checks: every route × every kind of visitor.

The table lives in tests/routes/*.py; a route of the app that is not declared
there fails `test_every_route_is_declared`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

import pytest

import tests.routes as routes_pkg
from tests.routes import ALLOWED, LOGIN, Route, demo_ids

IGNORED_ENDPOINTS = {"static"}


def declared_routes() -> list[Route]:
    found: list[Route] = []
    for info in pkgutil.iter_modules(routes_pkg.__path__):
        module = importlib.import_module(f"tests.routes.{info.name}")
        found.extend(getattr(module, "ROUTES", []))
    return found


ROUTES = declared_routes()


@dataclass
class Demo:
    admin_user_id: int
    restricted_user_id: int
    account_id: int
    ids: dict


def test_every_route_is_declared(app):
    declared = {(r.endpoint, r.method) for r in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in declared:
                missing.append(f"{method} {rule.endpoint} ({rule.rule})")
    assert not missing, "routes without an entry in tests/routes/: " + ", ".join(missing)


def test_no_duplicate_declarations():
    keys = [(r.endpoint, r.method) for r in ROUTES]
    assert len(keys) == len(set(keys))


@pytest.fixture
def visitors(app, demo, new_browser):
    """Signed-in test clients for each kind of visitor, plus the demo ids."""
    from webapp.db import db
    from webapp.models import User
    from webapp.services.accounts import create_account, create_admin
    from webapp.services.passwords import hash_password

    with db.connection_context():
        other_account = create_account("Autre Entreprise SARL")
        other = create_admin(other_account, "admin@autre.example", "Olivier", "Autre")
        User.update(password_hash=hash_password(demo.password)).where(
            User.id == other.id).execute()
        admin_user = User.get(User.email == demo.admin_email)
        restricted_user = User.get(User.email == demo.user_email)
        ids = demo_ids(demo.account)
    clients = {"anonymous": new_browser()}
    for name, email in (("admin", demo.admin_email), ("restricted", demo.user_email),
                        ("other", "admin@autre.example")):
        b = new_browser()
        b.sign_in(email, demo.password)
        clients[name] = b
    return clients, Demo(admin_user.id, restricted_user.id, demo.account.id, ids)


CSRF = "csrf refused"  # never expected: every visitor posts a valid token


def _outcome(response) -> object:
    status = response.status_code
    if response.headers.get("X-CSRF-Refused"):
        return CSRF  # told apart from a validation error (both are 400)
    location = response.headers.get("Location", "") or response.headers.get("HX-Redirect", "")
    if status in (302, 303, 401) and "/connexion" in location and "next=" in location:
        return LOGIN
    if status in (403, 404):
        return status
    if status >= 500 or status == 405:
        return status
    return ALLOWED


REFUSED = (LOGIN, 403, 404)


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


def _request(b, route, url, token_page):
    if route.method == "GET":
        return b.client.get(url)
    data = dict(route.data)
    data["csrf_token"] = b.token(token_page)
    return b.client.open(url, method=route.method, data=data)


def test_route_matrix(app, visitors):
    clients, demo = visitors
    from flask import url_for

    failures = []
    for route in ROUTES:
        with app.test_request_context():
            url = url_for(route.endpoint, **(route.args(demo) if route.args else {}))
        for who in ("anonymous", "other", "restricted", "admin"):
            expected = getattr(route, who)
            b = clients[who]
            check_unchanged = route.method != "GET" and expected in REFUSED
            before = database_digest() if check_unchanged else None
            response = _request(b, route, url, "/connexion" if who == "anonymous" else "/compte")
            got = _outcome(response)
            if got != expected:
                failures.append(f"{who:10} {route.method:6} {url}: expected {expected}, "
                                f"got {got} ({response.status_code})")
            elif check_unchanged and database_digest() != before:
                failures.append(f"{who:10} {route.method:6} {url}: refused ({got}) but the "
                                "database changed")
            if who != "anonymous" and route.endpoint == "auth.logout":
                b.sign_in_again()
    assert not failures, "\n".join(failures)


def _required(app, endpoint: str) -> frozenset[str]:
    from webapp.security import PERMS_ATTR

    return frozenset(getattr(app.view_functions[endpoint], PERMS_ATTR, ()))


def test_route_matrix_access_manager_only_and_staff_session(app, demo, visitors, smtp,
                                                            run_jobs, new_browser):
    """Two more visitors on every route: a user holding only "Gérer les accès
    utilisateurs" is refused (403) wherever a view requires another permission, and a
    back-office staff session is a stranger (sign-in page) on every customer route; when
    refused, a POST changes nothing in the database."""
    from flask import url_for

    from tests.conftest import StaffBrowser
    from tests.factories import make_user
    from webapp.db import db

    clients, d = visitors
    with db.connection_context():
        make_user(demo.account, "acces.seul@atelier-dupont.example", "Inès", "users.manage",
                  "default", [], demo.password)
    only_access = new_browser()
    only_access.sign_in("acces.seul@atelier-dupont.example", demo.password)
    staff = StaffBrowser(app.test_client(), smtp, run_jobs)
    staff.sign_in(demo.password)
    failures = []
    checked: dict[str, int] = {"users-only": 0, "staff": 0}
    for route in ROUTES:
        with app.test_request_context():
            url = url_for(route.endpoint, **(route.args(d) if route.args else {}))
        checks = []
        needed = _required(app, route.endpoint)
        if needed - {"users.manage"}:
            checks.append(("users-only", only_access, "/compte", 403))
        if not route.endpoint.startswith("ops.") and route.anonymous == LOGIN:
            checks.append(("staff", staff, "/ops/", LOGIN))
        for who, b, token_page, expected in checks:
            checked[who] += 1
            before = database_digest() if route.method != "GET" else None
            got = _outcome(_request(b, route, url, token_page))
            if got != expected:
                failures.append(f"{who:10} {route.method:6} {url}: expected {expected}, "
                                f"got {got}")
            elif before is not None and database_digest() != before:
                failures.append(f"{who:10} {route.method:6} {url}: refused but the database "
                                "changed")
    assert not failures, "\n".join(failures)
    assert checked["users-only"] > 80 and checked["staff"] > 140, checked


def test_route_matrix_csrf_refusal_is_told_apart_from_a_validation_error(admin, db_conn):
    from webapp.models import Contact

    before = database_digest()
    no_token = admin.client.post("/annuaire/nouveau", data={"first_name": "Eve"})
    assert no_token.status_code == 400 and _outcome(no_token) == CSRF
    invalid = admin.post("/annuaire/nouveau", {"first_name": "Eve"}, token_from="/compte")
    assert invalid.status_code == 400 and _outcome(invalid) == ALLOWED
    assert database_digest() == before
    assert not Contact.select().where(Contact.first_name == "Eve").exists()
