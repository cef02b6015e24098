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


def _outcome(response) -> object:
    status = response.status_code
    location = response.headers.get("Location", "") or response.headers.get("HX-Redirect", "")
    if status in (302, 303, 401) and "/connexion" in location and "next=" in location:
        return LOGIN
    if status in (403, 404):
        return status
    if status >= 500 or status == 405:
        return status
    return ALLOWED


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
            if route.method == "GET":
                response = b.client.get(url)
            else:
                data = dict(route.data)
                data["csrf_token"] = b.token("/connexion" if who == "anonymous" else "/compte")
                response = b.client.open(url, method=route.method, data=data)
            got = _outcome(response)
            if got != expected:
                failures.append(f"{who:10} {route.method:6} {url}: expected {expected}, "
                                f"got {got} ({response.status_code})")
            if who != "anonymous" and route.endpoint == "auth.logout":
                b.sign_in_again()
    assert not failures, "\n".join(failures)
