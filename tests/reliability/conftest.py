"""REL fixtures: a database with the demo company on SQLite or on a real PostgreSQL."""

from __future__ import annotations

import shutil

import pytest

from tests.servers import PostgresServer


@pytest.fixture(scope="session")
def postgres_server():
    with PostgresServer() as server:
        yield server


def _load_demo(url: str):
    from webapp.db import db, init_db
    from webapp.migrate import upgrade
    from webapp.services.demo import load_demo

    database = init_db(url)
    if not url.startswith("sqlite"):
        upgrade(database)
    with db.connection_context():
        return load_demo()


@pytest.fixture
def sqlite_demo(migrated_template, tmp_path, redis_url, smtp):
    target = tmp_path / "manager.db"
    shutil.copy(migrated_template, target)
    url = f"sqlite:///{target}"
    return url, _load_demo(url)


@pytest.fixture
def postgres_demo(request, postgres_server, redis_url, smtp):
    url = postgres_server.create_database(f"rel_{request.node.name[:40].lower()}"
                                          .replace("[", "_").replace("]", "").replace("-", "_"))
    return url, _load_demo(url)


@pytest.fixture(params=["sqlite", "postgres"])
def demo_db(request):
    """(DATABASE_URL, Demo) on each kind of database."""
    return request.getfixturevalue(f"{request.param}_demo")
