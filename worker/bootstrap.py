"""Point the shared database proxy at DATABASE_URL once per process."""

from __future__ import annotations

from webapp.db import db, init_db
from webapp.settings import Settings


def ensure_db(settings: Settings) -> None:
    if db.obj is None:
        init_db(settings.DATABASE_URL)
