"""Notification jobs (MAIL-1): take ids, pick the recipients, queue one e-mail each.

Idempotent: `send_once` keeps one marker per (event, recipient), so a retried or
duplicated job adds nothing; delivery itself is the `send_email` job (sent-marker,
retries with backoff, permanent failures listed for staff, MAIL-2).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from rq import Queue

from webapp.db import db
from webapp.i18n import N_, Text, _
from webapp.models import (
    DEPLOYMENT_KINDS,
    SLOTS,
    Account,
    DeploymentEvent,
    Invoice,
    TicketMessage,
)
from webapp.redis_conn import redis_for
from webapp.services import billing, mail
from webapp.services.notify import NOTIFY_QUEUE, recipients, send_once
from webapp.settings import load
from worker.bootstrap import ensure_db


def _run(body) -> int:
    settings = load()
    ensure_db(settings)
    with db.connection_context():
        return body(settings)


def ticket_reply(message_id: int) -> int:
    """An operator answered: the ticket's author (or, failing that, its readers) is told."""
    def body(settings) -> int:
        message = TicketMessage.get_or_none(TicketMessage.id == message_id)
        if message is None or message.author_staff_id is None:
            return 0
        ticket = message.ticket
        readers = recipients(ticket.account_id, "tickets.access")
        author = [u for u in readers if u.id == ticket.created_by_id]
        sent = 0
        for user in author or readers:
            sent += send_once(
                settings.REDIS_URL, key=f"ticket_reply:{message.id}", to=user.email,
                kind="ticket_reply", template="ticket_reply", account=ticket.account_id,
                subject=_("Réponse du support à votre ticket n° %(reference)s",
                          reference=ticket.reference), locale=mail.locale_of(user),
                first_name=user.contact.first_name, ticket_reference=ticket.reference,
                ticket_subject=ticket.subject, excerpt=message.body[:500],
                closed=ticket.status == "closed",
                link=f"{settings.BASE_URL}/tickets/{ticket.id}")
        return sent
    return _run(body)


def deployment_changed(event_id: int) -> int:
    """Scheduled, rescheduled or done: users who see the deployment are told."""
    def body(settings) -> int:
        event = DeploymentEvent.get_or_none(DeploymentEvent.id == event_id)
        if event is None:
            return 0
        deployment = event.deployment
        change = "done" if event.status == "done" else event.change
        subjects = {
            "scheduled": N_("Déploiement planifié : %(reference)s"),
            "rescheduled": N_("Déploiement replanifié : %(reference)s"),
            "done": N_("Déploiement terminé : %(reference)s"),
        }
        if change not in subjects:
            return 0
        sent = 0
        for user in recipients(deployment.account_id, "deployments.view", deployment.site_id):
            sent += send_once(
                settings.REDIS_URL, key=f"deployment:{event.id}", to=user.email,
                kind=f"deployment_{change}", template="deployment_changed",
                account=deployment.account_id,
                subject=Text(subjects[change], {"reference": deployment.reference}),
                locale=mail.locale_of(user),
                first_name=user.contact.first_name, change=change,
                kind_label=DEPLOYMENT_KINDS[deployment.kind], reference=deployment.reference,
                date=event.scheduled_date,
                slot=SLOTS.get(event.slot or "", ""),
                site=deployment.site.name if deployment.site_id else "",
                link=f"{settings.BASE_URL}/store/deploiements/{deployment.id}")
        return sent
    return _run(body)


def _invoice_mail(invoice_id: int, key: str, kind: str, subject: str) -> int:
    def body(settings) -> int:
        invoice = Invoice.get_or_none(Invoice.id == invoice_id)
        if invoice is None or (kind == "payment_overdue" and invoice.is_paid):
            return 0
        sent = 0
        for user in recipients(invoice.account_id, "billing.view"):
            sent += send_once(
                settings.REDIS_URL, key=key, to=user.email, kind=kind, template=kind,
                account=invoice.account_id, locale=mail.locale_of(user),
                subject=Text(subject, {"number": invoice.number}),
                first_name=user.contact.first_name, number=invoice.number,
                label=invoice.label, amount=invoice.amount_cents,
                balance=invoice.balance_cents, due=invoice.due_on,
                link=f"{settings.BASE_URL}/facturation/factures/{invoice.id}",
                pdf_link=f"{settings.BASE_URL}/facturation/factures/{invoice.id}/pdf")
        return sent
    return _run(body)


def invoice_issued(invoice_id: int) -> int:
    return _invoice_mail(invoice_id, f"invoice_issued:{invoice_id}", "invoice_issued",
                         N_("Nouvelle facture %(number)s"))


def payment_overdue(invoice_id: int, day: str) -> int:
    return _invoice_mail(invoice_id, f"payment_overdue:{invoice_id}:{day}", "payment_overdue",
                         N_("Paiement en retard : facture %(number)s"))


# Automatic "paiement en retard" reminders: these days after the due date (MAIL-1).
REMINDER_DAYS = (1, 7, 15, 30)
SWEEP_HOUR = 8  # local time of the daily sweep
SWEEP_ZONE = ZoneInfo("Europe/Paris")


def overdue_sweep() -> int:
    """Daily job: remind the billing users of each invoice that is 1, 7, 15 or 30 days late.

    Idempotent per invoice and day (`payment_overdue` keys its e-mails by day), and it
    schedules the next day's sweep itself, so the chain survives worker restarts.
    """
    def due_today(settings) -> list[tuple[int, str]]:
        found = []
        for account in Account.select():
            today = billing.today_for(account)
            for invoice in billing.overdue(account.id, today):
                if (today - invoice.due_on).days in REMINDER_DAYS:
                    found.append((invoice.id, today.isoformat()))
        return found

    pending = _run(due_today)
    sent = sum(payment_overdue(invoice_id, day) for invoice_id, day in pending)
    schedule_overdue_sweep(redis_for(load().REDIS_URL))
    return sent


def schedule_overdue_sweep(connection, now: dt.datetime | None = None) -> str:
    """Put the next sweep (08:00 Paris time) on the RQ scheduler; one job id per day, so
    several workers or restarts never schedule it twice."""
    now = (now or dt.datetime.now(SWEEP_ZONE)).astimezone(SWEEP_ZONE)
    run_at = now.replace(hour=SWEEP_HOUR, minute=0, second=0, microsecond=0)
    if run_at <= now:
        run_at += dt.timedelta(days=1)
    return schedule_once(connection, run_at, "worker.notify.overdue_sweep", "overdue-sweep")


def schedule_once(connection, run_at: dt.datetime, function: str, name: str) -> str:
    """Put `function` on the RQ scheduler at `run_at`, with one job id per day (`name`
    and the date): several workers or restarts never schedule it twice."""
    job_id = f"{name}-{run_at.date().isoformat()}"
    Queue(NOTIFY_QUEUE, connection=connection).enqueue_at(
        run_at, function, job_id=job_id, description=f"{function.rsplit('.', 1)[1]}()")
    return job_id
