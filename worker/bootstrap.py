"""Point the shared database proxy at DATABASE_URL once per process."""

from __future__ import annotations

from webapp.db import db, init_db
from webapp.settings import Settings


def ensure_db(settings: Settings) -> None:
    if db.obj is None:
        init_db(settings.DATABASE_URL)


def drop_db_connection() -> None:
    """After a database outage: close the connection, so the next query opens a new one
    (closing a dead one may fail: it is dropped anyway)."""
    if not db.is_closed():
        try:
            db.close()
        except Exception:  # noqa: BLE001, S110 - a dead connection is dropped anyway
            pass
