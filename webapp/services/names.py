"""The name a person gives to something of theirs (an audio file, a forwarding profile):
white space folded, no control characters, a bounded length, unique among its siblings.
No Flask here."""

from __future__ import annotations

import re
from collections.abc import Callable

from peewee import Query

from webapp.i18n import Text, _
from webapp.services.errors import FormError


def unique_name(raw: str | None, max_len: int, *, missing: Text,
                taken: Callable[[str], Text], siblings: Query) -> str:
    """`raw` with its white space folded; FormError on `name` when it is empty (`missing`),
    longer than `max_len` or with control characters, or when one of `siblings` (a query
    of the other rows it must differ from, filtered here on `siblings.model.name`) already
    has it (`taken(name)`)."""
    name = re.sub(r"\s+", " ", raw or "").strip()
    if not name:
        raise FormError({"name": missing})
    if len(name) > max_len or any(ord(c) < 32 for c in name):
        raise FormError({"name": _("Le nom ne peut pas dépasser %(name_max)s caractères.",
                                   name_max=max_len)})
    if siblings.where(siblings.model.name == name).exists():
        raise FormError({"name": taken(name)})
    return name
