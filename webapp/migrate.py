"""Schema changes go through peewee-migrate only (migrations/, numbered, append-only)."""

from __future__ import annotations

import logging

from peewee import Database
from peewee_migrate import Router

from webapp.settings import ROOT

MIGRATIONS_DIR = ROOT / "migrations"


def router(database: Database) -> Router:
    logger = logging.getLogger("migrations")
    return Router(database, migrate_dir=str(MIGRATIONS_DIR), logger=logger)


def upgrade(database: Database) -> list[str]:
    """Apply every pending migration; returns the names applied."""
    return router(database).run() or []
