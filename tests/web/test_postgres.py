"""PostgreSQL through DATABASE_URL: every migration applies and the product works on it."""

from __future__ import annotations

import os

import pytest

from tests.servers import PostgresServer


@pytest.fixture(scope="module")
def postgres():
    with PostgresServer() as server:
        yield server


@pytest.fixture
def pg_app(postgres, redis_url, smtp, monkeypatch, request):
    from webapp.app import create_app

    url = postgres.create_database(f"manager_{request.node.name[:40].lower()}")
    monkeypatch.setenv("DATABASE_URL", url)
    app = create_app({"TESTING": True})
    from webapp.db import db
    from webapp.migrate import upgrade

    applied = upgrade(db.obj)
    yield app, applied
    db.close()


def test_postgres_every_migration_applies(pg_app):
    from webapp.db import db

    app, applied = pg_app
    assert applied and applied[0] == "001_initial"
    assert len(applied) == len([f for f in os.listdir("migrations") if f[:3].isdigit()])
    assert "user" in db.get_tables()


def test_postgres_demo_loads_and_admin_signs_in(pg_app, smtp, run_jobs):
    from tests.conftest import Browser
    from webapp.db import db
    from webapp.services.demo import load_demo

    app, _ = pg_app
    with db.connection_context():
        demo = load_demo()
        assert load_demo().created is False  # idempotent
    browser = Browser(app.test_client(), smtp, run_jobs)
    response = browser.sign_in(demo.admin_email, demo.password)
    assert response.headers["Location"] == "/"
    assert "Tableau de bord" in browser.client.get("/").get_data(as_text=True)
