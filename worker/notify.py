"""Notification jobs (MAIL-1): take ids, pick the recipients, queue one e-mail each.

Idempotent: `send_once` keeps one marker per (event, recipient), so a retried or
duplicated job adds nothing; delivery itself is the `send_email` job (sent-marker,
retries with backoff, permanent failures listed for staff, MAIL-2).
"""

from __future__ import annotations

from webapp.db import db
from webapp.models import (
    DEPLOYMENT_KINDS,
    SLOTS,
    DeploymentEvent,
    Invoice,
    TicketMessage,
)
from webapp.services import billing
from webapp.services.notify import recipients, send_once
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
                subject=f"Réponse du support à votre ticket n° {ticket.id}",
                first_name=user.contact.first_name, ticket_id=ticket.id,
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
            "scheduled": "Déploiement planifié",
            "rescheduled": "Déploiement replanifié",
            "done": "Déploiement terminé",
        }
        if change not in subjects:
            return 0
        sent = 0
        for user in recipients(deployment.account_id, "deployments.view", deployment.site_id):
            sent += send_once(
                settings.REDIS_URL, key=f"deployment:{event.id}", to=user.email,
                kind=f"deployment_{change}", template="deployment_changed",
                account=deployment.account_id,
                subject=f"{subjects[change]} : {deployment.reference}",
                first_name=user.contact.first_name, change=change,
                kind_label=DEPLOYMENT_KINDS[deployment.kind], reference=deployment.reference,
                date=event.scheduled_date.strftime("%d/%m/%Y") if event.scheduled_date else "",
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
                account=invoice.account_id, subject=f"{subject} {invoice.number}",
                first_name=user.contact.first_name, number=invoice.number,
                label=invoice.label, amount=billing.euros(invoice.amount_cents),
                balance=billing.euros(invoice.balance_cents),
                due=invoice.due_on.strftime("%d/%m/%Y"),
                link=f"{settings.BASE_URL}/facturation/factures/{invoice.id}")
        return sent
    return _run(body)


def invoice_issued(invoice_id: int) -> int:
    return _invoice_mail(invoice_id, f"invoice_issued:{invoice_id}", "invoice_issued",
                         "Nouvelle facture")


def payment_overdue(invoice_id: int, day: str) -> int:
    return _invoice_mail(invoice_id, f"payment_overdue:{invoice_id}:{day}", "payment_overdue",
                         "Paiement en retard : facture")
