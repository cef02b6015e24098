"""Store, exchange and billing (DEP-1, TKT-1..2, BIL-1) and operator staff (OPS-1).

Everything customers see here is produced by operator staff in the back-office.
Amounts are integer cents (euros, TTC); dates of deployments and invoices are
calendar dates in the account's time zone.
"""

from __future__ import annotations

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from webapp.i18n import N_, _, ngettext
from webapp.models.auth import TFA_INACTIVE, CodeFields, TrustedBrowserFields, User
from webapp.models.base import BaseModel, unique, utcnow
from webapp.models.core import Account, Site
from webapp.models.mail import OutboundEmail

# --- operator staff (OPS-1) ----------------------------------------------------------


class StaffUser(BaseModel):
    """An operator employee. Never a customer `User`: separate table, session and cookie."""

    email = CharField(max_length=254, unique=True)
    first_name = CharField(max_length=100)
    last_name = CharField(max_length=100, default="")
    password_hash = CharField(max_length=255, null=True)
    is_active = BooleanField(default=True)
    tfa_state = CharField(max_length=10, default=TFA_INACTIVE)
    auth_version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class StaffCode(CodeFields):
    """Same columns as `OneTimeCode` so that services.auth handles both principals."""

    user = ForeignKeyField(StaffUser, backref="codes", on_delete="CASCADE")


class StaffTrustedBrowser(TrustedBrowserFields):
    """Same columns as `TrustedBrowser` (TFA-3 for staff)."""

    user = ForeignKeyField(StaffUser, backref="trusted_browsers", on_delete="CASCADE")


# services.auth picks the code and trust tables from the principal's class.
StaffUser.CODE_MODEL = StaffCode
StaffUser.TRUST_MODEL = StaffTrustedBrowser


# --- deployments (DEP-1) ---------------------------------------------------------------

DEPLOYMENT_KINDS = {
    "fixed_porting": N_("Portabilité fixe"),
    "mobile_porting": N_("Portabilité mobile"),
    "link": N_("Déploiement de lien"),
    "onsite": N_("Intervention sur site"),
}
DEPLOYMENT_STATUSES = {
    "requested": N_("Demandé"),
    "scheduled": N_("Planifié"),
    "in_progress": N_("En cours"),
    "done": N_("Terminé"),
    "cancelled": N_("Annulé"),
}
DEPLOYMENT_OPEN = ("requested", "scheduled", "in_progress")
SLOTS = {
    "08-10": "8 h – 10 h",
    "10-12": "10 h – 12 h",
    "14-16": "14 h – 16 h",
    "16-18": "16 h – 18 h",
    "08-12": N_("Matinée (8 h – 12 h)"),
    "14-18": N_("Après-midi (14 h – 18 h)"),
}


class Deployment(BaseModel):
    account = ForeignKeyField(Account, backref="deployments", on_delete="CASCADE")
    site = ForeignKeyField(Site, null=True, backref="deployments", on_delete="SET NULL")
    kind = CharField(max_length=20, choices=list(DEPLOYMENT_KINDS.items()))
    reference = CharField(max_length=30, unique=True)
    title = CharField(max_length=200, default="")
    scheduled_date = DateField(null=True)
    slot = CharField(max_length=10, null=True)
    status = CharField(max_length=12, default="requested", index=True)
    numbers = TextField(default="")  # one E.164 number a line
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "status"), False),)

    @property
    def number_list(self) -> list[str]:
        return [n for n in self.numbers.split() if n]


class DeploymentEvent(BaseModel):
    """Status history of a deployment: every change, with the date and slot in force."""

    deployment = ForeignKeyField(Deployment, backref="events", on_delete="CASCADE")
    status = CharField(max_length=12)
    change = CharField(max_length=20)  # created | scheduled | rescheduled | status
    scheduled_date = DateField(null=True)
    slot = CharField(max_length=10, null=True)
    note = CharField(max_length=300, default="")
    staff = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


# --- tickets (TKT-1..2) --------------------------------------------------------------

TICKET_OPEN = "open"
TICKET_CLOSED = "closed"


class Ticket(BaseModel):
    account = ForeignKeyField(Account, backref="tickets", on_delete="CASCADE")
    # "T2026-00001": FR-1's gap-free sequence, like orders and invoices (migration 015)
    reference = CharField(max_length=30, unique=True)
    subject = CharField(max_length=200)
    status = CharField(max_length=10, default=TICKET_OPEN, index=True)
    created_by = ForeignKeyField(User, null=True, backref="tickets", on_delete="SET NULL")
    assigned_to = ForeignKeyField(StaffUser, null=True, backref="tickets", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    closed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("account", "status"), False),)


class TicketMessage(BaseModel):
    ticket = ForeignKeyField(Ticket, backref="messages", on_delete="CASCADE")
    author_user = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    author_staff = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    body = TextField()
    created_at = DateTimeField(default=utcnow)

    @property
    def from_operator(self) -> bool:
        return self.author_staff_id is not None


class Attachment(BaseModel):
    """A file of a message, stored under DATA_DIR with a server-generated name.

    `message` is null while the file is a pending upload (kept after a refused
    form, TKT-2), bound to the uploader and to a key held in their session.
    """

    account = ForeignKeyField(Account, backref="+", on_delete="CASCADE")
    message = ForeignKeyField(TicketMessage, null=True, backref="attachments",
                              on_delete="CASCADE")
    uploader = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    pending_key = CharField(max_length=64, null=True, index=True)
    filename = CharField(max_length=150)
    stored_name = CharField(max_length=64, unique=True)
    content_type = CharField(max_length=60)
    size = IntegerField()
    created_at = DateTimeField(default=utcnow)

    @property
    def size_label(self) -> str:
        """"312 octets", "48 Ko", "1,9 Mo" (numbers by Babel in the reader's language)."""
        if self.size < 1024:
            return ngettext("%(num)s octet", "%(num)s octets", self.size)
        if self.size < 1024 * 1024:
            return _("%(num)s Ko", num=round(self.size / 1024))
        return _("%(num)s Mo", num=round(self.size / 1024 / 1024, 1))


# --- orders, invoices, payments, credit limit (BIL-1) ----------------------------------

ORDER_STATUSES = {
    "received": N_("Reçue"),
    "processing": N_("En préparation"),
    "shipped": N_("Expédiée"),
    "done": N_("Livrée"),
    "cancelled": N_("Annulée"),
}
ORDER_OPEN = ("received", "processing", "shipped")


class Order(BaseModel):
    account = ForeignKeyField(Account, backref="orders", on_delete="CASCADE")
    reference = CharField(max_length=30, unique=True)
    title = CharField(max_length=200)
    status = CharField(max_length=12, default="received", index=True)
    amount_cents = BigIntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Invoice(BaseModel):
    account = ForeignKeyField(Account, backref="invoices", on_delete="CASCADE")
    order = ForeignKeyField(Order, null=True, backref="invoices", on_delete="SET NULL")
    number = CharField(max_length=30, unique=True)
    label = CharField(max_length=200)
    issued_on = DateField()
    due_on = DateField()
    amount_cents = BigIntegerField()  # TTC
    vat_rate = IntegerField(default=20)  # FR-1: per cent, fixed when issued (migration 014)
    paid_cents = BigIntegerField(default=0)  # sum of payments, kept with them atomically
    created_at = DateTimeField(default=utcnow)

    @property
    def balance_cents(self) -> int:
        return max(0, self.amount_cents - self.paid_cents)

    @property
    def is_paid(self) -> bool:
        return self.paid_cents >= self.amount_cents


class Payment(BaseModel):
    account = ForeignKeyField(Account, backref="payments", on_delete="CASCADE")
    invoice = ForeignKeyField(Invoice, backref="payments", on_delete="CASCADE")
    amount_cents = BigIntegerField()
    received_on = DateField()
    method = CharField(max_length=30, default="virement")
    staff = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class CreditLimit(BaseModel):
    """The account's authorised outstanding balance ("encours autorisé")."""

    account = ForeignKeyField(Account, unique=True, backref="+", on_delete="CASCADE")
    limit_cents = BigIntegerField()
    updated_at = DateTimeField(default=utcnow)


# --- notifications (MAIL-1) ------------------------------------------------------------


class Notification(BaseModel):
    """One e-mail per (event, recipient): a retried notify job finds it and stops."""

    key = CharField(max_length=120)  # e.g. "ticket_reply:42"
    to_addr = CharField(max_length=254)
    email = ForeignKeyField(OutboundEmail, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    Meta = unique("key", "to_addr")


class NumberSequence(BaseModel):
    """FR-1: one gap-free counter per numbered series ("F2026" invoices, "C2026" orders,
    "D2026" deployments, "T2026" tickets).

    Taken with `services.sequences.next_value()` inside the transaction that stores the
    numbered row, so a rolled-back creation gives its number back and two simultaneous
    creations never get the same one (migration 014)."""

    name = CharField(max_length=30, primary_key=True)
    value = BigIntegerField(default=0)
