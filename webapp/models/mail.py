"""Outgoing e-mail journal: the worker's sent-marker and MAIL-2's failure list."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from webapp.models.base import BaseModel, utcnow
from webapp.models.core import Account

MAIL_QUEUED = "queued"
MAIL_SENT = "sent"
MAIL_FAILED = "failed"


class OutboundEmail(BaseModel):
    """One message to send. Bodies may hold a code or link: they are erased once sent."""

    account = ForeignKeyField(Account, null=True, backref="emails", on_delete="CASCADE")
    kind = CharField(max_length=40)
    to_addr = CharField(max_length=254)
    subject = CharField(max_length=200)
    text_body = TextField(null=True)
    html_body = TextField(null=True)
    status = CharField(max_length=10, default=MAIL_QUEUED, index=True)
    attempts = IntegerField(default=0)
    last_error = CharField(max_length=300, null=True)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    # one text attachment (the weekly statistics CSV, SWB-8), erased with the bodies
    attachment_name = CharField(max_length=120, null=True)
    attachment_body = TextField(null=True)
