"""Gap-free numbering (FR-1): one counter row per series, taken in the caller's transaction.

`next_value("F2026")` increments the series' row and returns the new value. Called inside
the `db.atomic()` block that stores the numbered row: the row lock (PostgreSQL) or the
write lock (SQLite) makes simultaneous creations wait for each other instead of reading
the same count, and a rolled-back creation takes its increment back with it, so the
sequence has neither duplicates nor gaps.
"""

from __future__ import annotations

from webapp.db import db
from webapp.models import NumberSequence, utcnow


def next_value(name: str) -> int:
    with db.atomic():
        NumberSequence.insert(name=name, value=0).on_conflict_ignore().execute()
        NumberSequence.update(value=NumberSequence.value + 1).where(
            NumberSequence.name == name).execute()
        return NumberSequence.get_by_id(name).value


def next_number(prefix: str) -> str:
    """"F2026-00001", "C2026-00002"…: the series is the prefix and the current year."""
    series = f"{prefix}{utcnow().year}"
    return f"{series}-{next_value(series):05d}"
