"""Line settings (LINE-1, LINE-2) and the audio library (WN-5). No Flask here."""

from __future__ import annotations

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from webapp.models.base import BaseModel, unique, utcnow
from webapp.models.core import Account, Service

# Where a forwarding rule sends the call (LINE-1).
TARGET_NONE = "none"
TARGET_NUMBER = "number"
TARGET_LINE = "line"
TARGET_VOICEMAIL = "voicemail"
TARGET_KINDS = (TARGET_NONE, TARGET_NUMBER, TARGET_LINE, TARGET_VOICEMAIL)

# The four rules of a profile, in the order the form shows them (LINE-1).
RULES = ("immediate", "busy", "noanswer", "unavailable")

AUDIO_KINDS = {"announcement": "Annonce", "music": "Musique"}
AUDIO_FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg"}


class AudioFile(BaseModel):
    """An uploaded announcement or music, stored under DATA_DIR with a server-made name."""

    account = ForeignKeyField(Account, backref="audio_files", on_delete="CASCADE")
    name = CharField(max_length=120)
    kind = CharField(max_length=20, choices=list(AUDIO_KINDS.items()))
    format = CharField(max_length=4, choices=[(k, k) for k in AUDIO_FORMATS])
    storage_name = CharField(max_length=64, unique=True)
    size_bytes = IntegerField()
    duration_ms = IntegerField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "name"), False),)

    @property
    def content_type(self) -> str:
        return AUDIO_FORMATS[self.format]


class ForwardingProfile(BaseModel):
    """A named call-forwarding profile of a fixed line; one is in force ("forcé").

    The database keeps at most one active and one default profile per line
    (partial unique indexes, migration 003).
    """

    service = ForeignKeyField(Service, backref="forwarding_profiles", on_delete="CASCADE")
    name = CharField(max_length=60)
    is_default = BooleanField(default=False)
    is_active = BooleanField(default=False)
    immediate_kind = CharField(max_length=10, default=TARGET_NONE)
    immediate_number = CharField(max_length=20, null=True)
    immediate_line = ForeignKeyField(Service, null=True, backref="+", on_delete="SET NULL")
    busy_kind = CharField(max_length=10, default=TARGET_NONE)
    busy_number = CharField(max_length=20, null=True)
    busy_line = ForeignKeyField(Service, null=True, backref="+", on_delete="SET NULL")
    noanswer_kind = CharField(max_length=10, default=TARGET_NONE)
    noanswer_number = CharField(max_length=20, null=True)
    noanswer_line = ForeignKeyField(Service, null=True, backref="+", on_delete="SET NULL")
    noanswer_delay_s = IntegerField(default=20)
    unavailable_kind = CharField(max_length=10, default=TARGET_NONE)
    unavailable_number = CharField(max_length=20, null=True)
    unavailable_line = ForeignKeyField(Service, null=True, backref="+", on_delete="SET NULL")
    present_company_number = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    Meta = unique("service", "name")


class VoicemailSettings(BaseModel):
    """LINE-2: one row per fixed line; the PIN is stored only as an argon2 hash."""

    service = ForeignKeyField(Service, backref="voicemail_rows", on_delete="CASCADE",
                              unique=True)
    enabled = BooleanField(default=False)
    greeting_audio = ForeignKeyField(AudioFile, null=True, backref="voicemail_greetings",
                                     on_delete="RESTRICT")
    pin_hash = CharField(max_length=200, null=True)
    notify_email = CharField(max_length=254, null=True)
    attach_message = BooleanField(default=False)
    delete_after_send = BooleanField(default=False)
    updated_at = DateTimeField(default=utcnow)
