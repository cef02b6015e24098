"""Call history: per line (LINE-5) and the engine's call log as the calllog worker
copies it (SWB-3); the blacklist (LINE-4).

Folders and the contact-card fields (DIR-5) live with `Contact` in `core.py`.
"""

from __future__ import annotations

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, IntegerField

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


class CallLogEntry(BaseModel):
    """One entry of `acd:{N}:log` (docs/protocol.md "Outcomes"), copied verbatim-ish.

    (shard, entry_id) is unique: re-delivered entries are ignored (idempotent).
    """

    shard = IntegerField(default=0)
    entry_id = CharField(max_length=32)
    account = ForeignKeyField(Account, null=True, backref="+", on_delete="CASCADE")
    number = CharField(max_length=20)
    call = CharField(max_length=64)
    type = CharField(max_length=16)
    line = CharField(max_length=20, null=True)
    result = CharField(max_length=12, null=True)
    reason = CharField(max_length=20, null=True)
    to = CharField(max_length=20, null=True)
    wait_ms = IntegerField(null=True)
    ring_ms = IntegerField(null=True)
    talk_ms = IntegerField(null=True)
    paused_ms = IntegerField(null=True)  # `line.unpaused`
    caller = CharField(max_length=20, null=True)  # outcomes, when the engine gives it
    profile = CharField(max_length=40, null=True)  # the queue profile, when given
    ts_ms = BigIntegerField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("shard", "entry_id"), True), (("number", "ts_ms"), False),
                   (("account", "ts_ms"), False))
