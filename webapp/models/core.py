"""Tenancy core: accounts, sites, contacts, services, licences (DIR/SITE/ACC)."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from webapp.i18n import N_
from webapp.models.base import BaseModel, link_table, unique, utcnow
from webapp.services import search as contact_search

# ACC-5: which application each licence opens, and how it is reached.
LICENCE_PRODUCTS = {
    "manager": "Keyyo Manager",
    "callpad": "Keyyo CallPad",
    "connect": "Keyyo Connect",
    "visio": "Keyyo Visio",
}
SERVICE_KINDS = {
    "fixed": N_("Ligne fixe"),
    "mobile": N_("Ligne mobile"),
    "fax": N_("Ligne fax"),
    "welcome": N_("Numéro d'accueil"),
}


class Account(BaseModel):
    """One customer company: the tenant boundary of everything else."""

    name = CharField(max_length=200)
    timezone = CharField(max_length=64, default="Europe/Paris")
    created_at = DateTimeField(default=utcnow)
    # SCALE-1: the engine shard of the account's telephony (`acd:{N}:…`), set at creation.
    shard = IntegerField(default=0, index=True)
    # SEC-8: the switchboard transfers to the account's own numbers and to national
    # non-premium numbers only, unless the account allows any number (migration 012).
    transfer_anywhere = BooleanField(default=False)


class Site(BaseModel):
    account = ForeignKeyField(Account, backref="sites", on_delete="CASCADE")
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    name = CharField(max_length=120)
    is_default = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "parent", "name"), False),)


class Folder(BaseModel):
    """A directory folder ("dossier", DIR-5): per department, per site, or outside contacts."""

    account = ForeignKeyField(Account, backref="folders", on_delete="CASCADE")
    name = CharField(max_length=80)
    external = BooleanField(default=False)  # outside contacts ("Fournisseurs", …)
    created_at = DateTimeField(default=utcnow)

    Meta = unique("account", "name")


class Contact(BaseModel):
    account = ForeignKeyField(Account, backref="contacts", on_delete="CASCADE")
    site = ForeignKeyField(Site, null=True, backref="contacts", on_delete="SET NULL")
    first_name = CharField(max_length=100)
    last_name = CharField(max_length=100)
    email = CharField(max_length=254, null=True)
    phone_work = CharField(max_length=20, null=True)
    phone_mobile = CharField(max_length=20, null=True)
    created_at = DateTimeField(default=utcnow)
    # DIR-5 contact card (migration 006).
    folder = ForeignKeyField(Folder, null=True, backref="contacts", on_delete="SET NULL")
    company = CharField(max_length=120, null=True)
    job_title = CharField(max_length=120, null=True)
    address = TextField(null=True)
    phone_home = CharField(max_length=20, null=True)
    photo = CharField(max_length=64, null=True)  # thumbnail file name under DATA_DIR/photos
    # UI-2: names, e-mail, company folded + numbers in E.164 and national digits (migration 013).
    search = CharField(max_length=600, default="", index=True)

    class Meta:
        indexes = ((("account", "email"), False), (("account", "last_name", "first_name"), False))

    def save(self, *args, **kwargs):
        self.search = contact_search.document(self)
        return super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


contact_search.MODEL = Contact



class Service(BaseModel):
    """A fixed, mobile or fax line or a welcome number (DIR-2)."""

    account = ForeignKeyField(Account, backref="services", on_delete="CASCADE")
    site = ForeignKeyField(Site, backref="services", on_delete="RESTRICT")
    kind = CharField(max_length=10, choices=list(SERVICE_KINDS.items()))
    number = CharField(max_length=20, unique=True)
    extension = CharField(max_length=10, null=True)
    label = CharField(max_length=120, default="")
    holder = ForeignKeyField(Contact, null=True, backref="held_services", on_delete="SET NULL")
    # LINE-3: fixed lines only; read by the engine's configuration document.
    accept_queue_calls = BooleanField(default=True)
    backup_number = CharField(max_length=20, null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "kind"), False), (("account", "kind", "number"), False))


# The contacts associated with a service (DIR-2); the holder is one of them (DIR-3).
ServiceContact = link_table(Service, Contact)


class Licence(BaseModel):
    account = ForeignKeyField(Account, backref="licences", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="licences", on_delete="CASCADE")
    product = CharField(max_length=20, choices=list(LICENCE_PRODUCTS.items()))
    created_at = DateTimeField(default=utcnow)

    Meta = unique("contact", "product")


class AuditEvent(BaseModel):
    """Security and administration journal; `detail` is JSON without secrets."""

    account = ForeignKeyField(Account, null=True, backref="audit_events", on_delete="CASCADE")
    user_id = CharField(max_length=40, null=True)
    kind = CharField(max_length=60, index=True)
    detail = TextField(default="{}")
    ip = CharField(max_length=64, null=True)
    created_at = DateTimeField(default=utcnow, index=True)
