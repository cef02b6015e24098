"""Database handle shared by the web app, the worker and the engine's config builder.

A `DatabaseProxy` lets models be declared before we know whether we talk to a
SQLite file (default) or PostgreSQL (`DATABASE_URL`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from peewee import Database, DatabaseProxy
from playhouse.db_url import connect

db = DatabaseProxy()

# peewee logs every query *with its parameters* at DEBUG: e-mail bodies carry
# codes and links until sent, so that logger never goes below INFO (MAIL-2).
logging.getLogger("peewee").setLevel(logging.INFO)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}


def make_database(url: str) -> Database:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return connect(url, pragmas=SQLITE_PRAGMAS)
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    return connect(url)


def init_db(url: str) -> Database:
    """Point the proxy at the database named by `url` and return it."""
    database = make_database(url)
    db.initialize(database)
    return database


def with_own_connection(chunks):
    """Wrap a streamed response body: the generator outlives the request, so it opens
    (and then closes) a database connection of its own if the request's one is gone."""
    opened = db.connect(reuse_if_open=True)
    try:
        yield from chunks
    finally:
        if opened and not db.is_closed():
            db.close()
