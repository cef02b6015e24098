"""Equipment (desk phones) and Keyyo Phone credentials (DIR-2, DIR-4, SITE-1..3)."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField

from webapp.models.base import BaseModel, utcnow
from webapp.models.core import Account, Service, Site

# Desk phone models offered in the forms (free text is refused: support knows these).
PHONE_MODELS = (
    "Yealink T31P", "Yealink T43U", "Yealink T54W", "Yealink W73P (DECT)",
    "Snom D717", "Snom D785", "Gigaset N870 (DECT)",
)


class Equipment(BaseModel):
    """A desk phone attached to a site, optionally provisioned for one fixed line."""

    account = ForeignKeyField(Account, backref="equipment", on_delete="CASCADE")
    site = ForeignKeyField(Site, backref="equipment", on_delete="RESTRICT")
    model = CharField(max_length=60)
    mac = CharField(max_length=17, unique=True)  # AA:BB:CC:DD:EE:FF, upper case
    line = ForeignKeyField(Service, null=True, backref="equipment", on_delete="SET NULL")
    label = CharField(max_length=120, default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "site"), False),)


class SoftphoneCredential(BaseModel):
    """DIR-4: one live credential per fixed line; only the secret's SHA-256 is kept."""

    account = ForeignKeyField(Account, backref="softphone_credentials", on_delete="CASCADE")
    service = ForeignKeyField(Service, backref="softphone_credentials", on_delete="CASCADE")
    login = CharField(max_length=60, unique=True)
    secret_hash = CharField(max_length=64)
    sip_ha1 = CharField(max_length=32, null=True)  # MD5(login:realm:secret), PBX-1 digest
    created_by = CharField(max_length=40, null=True)  # user id
    created_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("service", "revoked_at"), False),)
