"""RQ task functions. They take ids, are idempotent, and log no secret."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid

from webapp.db import db
from webapp.models import MAIL_FAILED, MAIL_SENT, OutboundEmail, utcnow
from webapp.services.actor import Actor
from webapp.services.mail import RETRY_INTERVALS
from webapp.services.password_links import send_password_link
from webapp.settings import load
from worker.bootstrap import ensure_db
from worker.smtp import deliver

log = logging.getLogger(__name__)

MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1


def build_message(email: OutboundEmail, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = email.to_addr
    message["Subject"] = email.subject
    # Stable per e-mail: should a crash land between delivery and the sent
    # mark, the duplicate carries the same Message-ID and is dropped downstream.
    message["Message-ID"] = make_msgid(idstring=f"cm-{email.id}", domain="manager.local")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text_body or "")
    if email.html_body:
        message.add_alternative(email.html_body, subtype="html")
    if email.attachment_name and email.attachment_body is not None:
        message.add_attachment(("\ufeff" + email.attachment_body).encode(), maintype="text",
                               subtype="csv", filename=email.attachment_name)
    return message


def send_email(email_id: int) -> str:
    """Send one queued e-mail; a retried job never sends twice (sent-marker)."""
    settings = load()
    ensure_db(settings)
    with db.connection_context():
        email = OutboundEmail.get_or_none(OutboundEmail.id == email_id)
        if email is None or email.status == MAIL_SENT:
            return "skipped"
        if email.text_body is None:
            return "no-body"
        try:
            deliver(settings.SMTP_URL, build_message(email, settings.MAIL_FROM))
        except Exception as exc:  # any failure is retried with backoff, then listed
            email.attempts += 1
            email.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
            if email.attempts >= MAX_ATTEMPTS:
                email.status = MAIL_FAILED
                email.text_body = email.html_body = None  # never keep a code or link
            email.save()
            log.warning("e-mail %s failed (attempt %s): %s", email.id, email.attempts,
                        type(exc).__name__)
            raise
        OutboundEmail.update(
            status=MAIL_SENT, sent_at=utcnow(), attempts=OutboundEmail.attempts + 1,
            text_body=None, html_body=None, attachment_body=None, last_error=None,
        ).where(OutboundEmail.id == email.id).execute()
        log.info("e-mail %s (%s) sent", email.id, email.kind)
        return "sent"


def password_link(email: str, ip: str | None = None) -> str:
    """ACC-2, run in the worker so that the web answer is the same for everyone."""
    settings = load()
    ensure_db(settings)
    with db.connection_context():
        sent = send_password_link(email, settings=settings,
                                  actor=Actor.visitor(ip, settings.REDIS_URL))
    return "sent" if sent else "nobody"
