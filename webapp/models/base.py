"""Base model: every table lives in the proxied database (no Flask here)."""

from __future__ import annotations

import datetime as dt

from peewee import Model

from webapp.db import db


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: what we store everywhere (SQLite has no time zones)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def unique(*columns: str) -> type:
    """A model's `Meta` with one unique index over `columns` (`Meta = unique("a", "b")`):
    what every link table and per-owner name needs."""
    return type("Meta", (), {"indexes": ((columns, True),)})
