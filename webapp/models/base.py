"""Base model: every table lives in the proxied database (no Flask here)."""

from __future__ import annotations

import datetime as dt

from peewee import ForeignKeyField, Model

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


def link_table(first: type[Model], second: type[Model]) -> type[BaseModel]:
    """The table linking rows of `first` and `second`, many to many, each pair once.

    `RoleSite = link_table(Role, Site)` has the columns `role` and `site` (the models'
    names in lower case); `Role.site_links` and `Site.role_links` list its rows, which go
    with either side (ON DELETE CASCADE)."""
    a, b = first.__name__.lower(), second.__name__.lower()
    return type(first.__name__ + second.__name__, (BaseModel,), {
        "__module__": first.__module__,
        a: ForeignKeyField(first, backref=f"{b}_links", on_delete="CASCADE"),
        b: ForeignKeyField(second, backref=f"{a}_links", on_delete="CASCADE"),
        "Meta": unique(a, b),
    })
