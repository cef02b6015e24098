"""Per-line call history (LINE-5) and blacklist (LINE-4).

Folders and the contact-card fields (DIR-5) live with `Contact` in `core.py`.
"""

from __future__ import annotations

from peewee import (
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from webapp.i18n import N_
from webapp.models.base import BaseModel, unique, utcnow
from webapp.models.core import Account, Service

DIRECTIONS = {"in": N_("Entrant"), "out": N_("Sortant")}
CALL_STATUSES = {
    "answered": N_("Répondu"),
    "missed": N_("Manqué"),
    "busy": N_("Occupé"),
    "blocked": N_("Bloqué"),
    "failed": N_("Échec"),
}
ANONYMOUS = "anonymous"


class CallRecord(BaseModel):
    """One finished call leg on a line, from a `pbx:cdr` entry (docs/protocol.md)."""

    account = ForeignKeyField(Account, backref="call_records", on_delete="CASCADE")
    service = ForeignKeyField(Service, backref="call_records", on_delete="CASCADE")
    # The stream entry id: the consumer inserts with ON CONFLICT IGNORE on it, so a
    # replayed entry (restart before XACK) never makes a second row.
    entry_id = CharField(max_length=40, unique=True)
    direction = CharField(max_length=3)
    peer = CharField(max_length=20)
    status = CharField(max_length=10)
    started_at = DateTimeField()
    answered_at = DateTimeField(null=True)
    ended_at = DateTimeField()
    duration_s = IntegerField(default=0)  # talk time (answered → ended)
    call_ref = CharField(max_length=64, default="")

    class Meta:
        indexes = ((("service", "started_at"), False),)


class BlockedNumber(BaseModel):
    """LINE-4: one blocked caller of a line; `number` is E.164 or "anonymous"."""

    service = ForeignKeyField(Service, backref="blocked_numbers", on_delete="CASCADE")
    number = CharField(max_length=20)
    created_at = DateTimeField(default=utcnow)

    Meta = unique("service", "number")
