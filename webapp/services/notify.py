"""Notification e-mails (MAIL-1): at most one per (event, recipient), sent by the worker.

The web request only enqueues a job with ids (`enqueue`); the job (worker/notify.py)
picks the recipients and calls `send_once`, which stores the message and its
marker in one transaction, then hands it to the existing `send_email` job
(sent-marker, retries with backoff, MAIL-2 failure list).
"""

from __future__ import annotations

from peewee import IntegrityError
from rq import Queue, Retry

from webapp.db import db
from webapp.models import MAIL_QUEUED, Notification, OutboundEmail, User
from webapp.redis_conn import redis_for
from webapp.services import mail
from webapp.services.access import access_for

NOTIFY_QUEUE = "default"


def enqueue(redis_url: str, job: str, *args) -> None:
    """Queue `worker.notify.<job>(*ids)`; call after the transaction has committed."""
    Queue(NOTIFY_QUEUE, connection=redis_for(redis_url)).enqueue(
        f"worker.notify.{job}", *args,
        retry=Retry(max=len(mail.RETRY_INTERVALS), interval=mail.RETRY_INTERVALS),
        description=f"{job}{args!r}",
    )


def recipients(account_id: int, permission: str, site_id: int | None = None) -> list[User]:
    """Active users of the account who hold `permission` (and see `site_id`, if given)."""
    found = []
    for user in User.select().where((User.account == account_id) & User.is_active
                                    & User.password_hash.is_null(False)).order_by(User.id):
        access = access_for(user)
        if access.can(permission) and (site_id is None or access.sees_site(site_id)):
            found.append(user)
    return found


def send_once(redis_url: str, *, key: str, to: str, kind: str, subject: str, template: str,
              account=None, attachment: tuple[str, str] | None = None, locale: str = "fr",
              **context) -> bool:
    """Store and queue the e-mail unless this (key, recipient) already has one;
    `attachment`: (file name, text) of one CSV file; `locale`: the recipient's language."""
    existing = Notification.get_or_none((Notification.key == key) & (Notification.to_addr == to))
    if existing is not None:
        email = existing.email
        if email is not None and email.status == MAIL_QUEUED:
            mail.enqueue(redis_url, email.id)  # crash between commit and enqueue; same job id
        return False
    subject = mail.translate(subject, locale)
    text, html = mail.render(template, locale, subject=subject, **context)
    try:
        with db.atomic():
            name, body = attachment or (None, None)
            email = OutboundEmail.create(account=account, kind=kind, to_addr=to, subject=subject,
                                         text_body=text, html_body=html, attachment_name=name,
                                         attachment_body=body)
            Notification.create(key=key, to_addr=to, email=email)
    except IntegrityError:
        return False  # a concurrent run of the same job won
    mail.enqueue(redis_url, email.id)
    return True
