"""Welcome numbers: routing profiles, their lines and keys, time rules (WN-1..4), and the
switchboard's break reasons, shared callbacks and statistics subscriptions. No Flask.

The call log the calllog worker copies from the engine (SWB-3) is in `history.py`."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField

from webapp.i18n import N_
from webapp.models.base import BaseModel, unique, utcnow
from webapp.models.core import Account, Contact, Service
from webapp.models.lines import AudioFile

# WN-2: the profile types, with their French names (docs/protocol.md type ids).
PROFILE_TYPES = {
    "queue": N_("File d'attente"),
    "ring_all": N_("Simultané"),
    "sequential": N_("Séquentiel"),
    "menu": N_("Serveur vocal"),
    "announcement": N_("Annonce"),
}
QUEUE_MODES = {"inactivity": N_("Inactivité"), "random": N_("Aléatoire")}


class WelcomeProfile(BaseModel):
    """A routing profile of a welcome number (Service kind "welcome").

    `key` is the profile's name in the engine's document: made once from the first
    name and never changed, so renaming a profile does not re-route waiting calls.
    """

    service = ForeignKeyField(Service, backref="welcome_profiles", on_delete="CASCADE")
    key = CharField(max_length=40)
    name = CharField(max_length=60)
    kind = CharField(max_length=12, choices=list(PROFILE_TYPES.items()))
    is_entry = BooleanField(default=False)
    # WN-3 general configuration (any type)
    caller_preanswer = ForeignKeyField(AudioFile, null=True, backref="+", on_delete="RESTRICT")
    music = ForeignKeyField(AudioFile, null=True, backref="+", on_delete="RESTRICT")
    callee_preanswer = ForeignKeyField(AudioFile, null=True, backref="+", on_delete="RESTRICT")
    confirm = BooleanField(default=False)
    # WN-4 queue parameters (ring_s also for ring_all / sequential)
    size = IntegerField(default=5)
    rest_s = IntegerField(default=10)
    ring_s = IntegerField(default=20)
    mode = CharField(max_length=12, default="inactivity")
    # menu / announcement
    media = ForeignKeyField(AudioFile, null=True, backref="+", on_delete="RESTRICT")
    timeout_s = IntegerField(default=10)
    then = ForeignKeyField("self", null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # SWB-6: service-level threshold of the queue (switchboard colours, statistics);
    # "Pause automatique" after that many offers in a row left ringing/declined (0 off).
    sla_s = IntegerField(default=20)
    autopause = IntegerField(default=0)

    class Meta:
        indexes = ((("service", "key"), True), (("service", "name"), True))


class WelcomeLine(BaseModel):
    """A line of a profile: queue agent (priority, weight) or ring_all/sequential line."""

    profile = ForeignKeyField(WelcomeProfile, backref="lines", on_delete="CASCADE")
    line = ForeignKeyField(Service, backref="welcome_lines", on_delete="CASCADE")
    priority = IntegerField(default=1)
    weight = IntegerField(default=1)
    position = IntegerField(default=0)

    Meta = unique("profile", "line")


class WelcomeMenuKey(BaseModel):
    """A key of a "Serveur vocal" profile leading to another profile of the number."""

    profile = ForeignKeyField(WelcomeProfile, backref="keys", on_delete="CASCADE")
    key = CharField(max_length=1)
    target = ForeignKeyField(WelcomeProfile, backref="+", on_delete="CASCADE")

    Meta = unique("profile", "key")


class WelcomeTimeRule(BaseModel):
    """A weekly slot (`days` "0,1,2" with 0 = Monday, `start`/`end` "HH:MM") or a dated
    exception (`date`, the whole day or `start`/`end`), in the account's time zone."""

    service = ForeignKeyField(Service, backref="welcome_rules", on_delete="CASCADE")
    profile = ForeignKeyField(WelcomeProfile, backref="rules", on_delete="CASCADE")
    label = CharField(max_length=60, default="")
    date = DateField(null=True)
    days = CharField(max_length=20, null=True)
    start = CharField(max_length=5, null=True)
    end = CharField(max_length=5, null=True)
    created_at = DateTimeField(default=utcnow)


# the built-in break reasons (PROTOCOL `line.paused` codes) and their French labels.
PAUSE_REASONS = {"pause": N_("Pause"), "reunion": N_("Réunion"), "dejeuner": N_("Déjeuner"),
                 "formation": N_("Formation")}


class PauseReason(BaseModel):
    """One of the account's own break reasons (Q-13), managed in Configurer; its `code`
    (made once from the label) is what `line.paused` carries."""

    account = ForeignKeyField(Account, backref="+", on_delete="CASCADE")
    code = CharField(max_length=24)
    label = CharField(max_length=40)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "code"), True), (("account", "label"), True))


class CallbackMark(BaseModel):
    """SWB-6: an abandoned/missed caller of today marked "traité" by a receptionist
    (shared by the account's receptionists)."""

    account = ForeignKeyField(Account, backref="+", on_delete="CASCADE")
    call = CharField(max_length=64)
    by = ForeignKeyField(Contact, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    Meta = unique("account", "call")


class StatsSubscription(BaseModel):
    """A user who receives the weekly statistics report of a welcome number (SWB-8)."""

    service = ForeignKeyField(Service, backref="+", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="+", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)

    Meta = unique("service", "contact")
