"""Demo data of the exchange area (idempotent): an operator staff account, tickets,
deployments, orders, invoices and a credit limit for the demo company."""

from __future__ import annotations

import datetime as dt

from webapp.db import db
from webapp.models import (
    Account,
    CreditLimit,
    Deployment,
    DeploymentEvent,
    Invoice,
    Order,
    Payment,
    Site,
    StaffUser,
    Ticket,
    TicketMessage,
    User,
    utcnow,
)
from webapp.services.passwords import hash_password

DEMO_STAFF_EMAIL = "sophie.martin@operateur.example"


def ensure_staff(password: str) -> StaffUser:
    staff = StaffUser.get_or_none(StaffUser.email == DEMO_STAFF_EMAIL)
    if staff is None:
        return StaffUser.create(email=DEMO_STAFF_EMAIL, first_name="Sophie", last_name="Martin",
                                password_hash=hash_password(password))
    StaffUser.update(password_hash=hash_password(password)).where(
        StaffUser.id == staff.id).execute()
    return staff


def seed(account: Account, admin_email: str, password: str) -> StaffUser:
    staff = ensure_staff(password)
    if Ticket.select().where(Ticket.account == account).exists():
        return staff
    admin = User.get(User.email == admin_email)
    site = {s.name: s for s in Site.select().where(Site.account == account)}
    today = dt.date.today()
    now = utcnow()
    with db.atomic():
        ticket = Ticket.create(account=account, reference="T-DEMO-00001",
                               subject="Pas de tonalité sur le poste de l'accueil",
                               created_by=admin, assigned_to=staff)
        TicketMessage.create(ticket=ticket, author_user=admin,
                             created_at=now - dt.timedelta(hours=3),
                             body="Bonjour,\nle poste 104 de l'accueil n'a plus de tonalité "
                                  "depuis ce matin. Pouvez-vous vérifier ?")
        TicketMessage.create(ticket=ticket, author_staff=staff,
                             created_at=now - dt.timedelta(hours=2),
                             body="Bonjour Madame Dubois,\nnous avons relancé la ligne. "
                                  "Pouvez-vous redémarrer le poste et nous dire si la tonalité "
                                  "est revenue ?")
        closed = Ticket.create(account=account, reference="T-DEMO-00002",
                               subject="Changement d'adresse de facturation",
                               created_by=admin, status="closed", closed_at=now)
        TicketMessage.create(ticket=closed, author_user=admin,
                             body="Notre siège déménage : merci de mettre à jour l'adresse.")
        TicketMessage.create(ticket=closed, author_staff=staff,
                             body="C'est fait, l'adresse apparaîtra sur la prochaine facture.")

        def deployment(kind, ref, site_name, status, date, slot, numbers, title):
            d = Deployment.create(account=account, site=site.get(site_name), kind=kind,
                                  reference=ref, status=status, scheduled_date=date, slot=slot,
                                  numbers=numbers, title=title)
            DeploymentEvent.create(deployment=d, status="requested", change="created",
                                   created_at=now - dt.timedelta(days=20))
            if date:
                DeploymentEvent.create(deployment=d, status="scheduled", change="scheduled",
                                       scheduled_date=date, slot=slot, staff=staff,
                                       created_at=now - dt.timedelta(days=10))
            if status == "done":
                DeploymentEvent.create(deployment=d, status="done", change="status",
                                       scheduled_date=date, slot=slot, staff=staff,
                                       created_at=now - dt.timedelta(days=2))
            return d

        deployment("fixed_porting", "D-DEMO-00001", "Lyon", "scheduled",
                   today + dt.timedelta(days=10), "08-12", "+33478000001\n+33478000002",
                   "Portabilité des numéros de l'agence de Lyon")
        deployment("onsite", "D-DEMO-00002", "Paris — Siège", "done",
                   today - dt.timedelta(days=3), "14-18", "", "Installation des postes du siège")
        deployment("link", "D-DEMO-00003", "Bordeaux", "requested", None, None, "",
                   "Lien fibre du site de Bordeaux")

        phones = Order.create(account=account, reference="C-DEMO-00001", status="processing",
                              title="4 postes Yealink T54W", amount_cents=74_400)
        Order.create(account=account, reference="C-DEMO-00002", status="done",
                     title="Lien fibre Lyon", amount_cents=0)
        paid = Invoice.create(account=account, number="F-DEMO-00001",
                              label="Abonnements — mois précédent",
                              issued_on=today - dt.timedelta(days=40),
                              due_on=today - dt.timedelta(days=10), amount_cents=18_990,
                              paid_cents=18_990)
        Payment.create(account=account, invoice=paid, amount_cents=18_990,
                       received_on=today - dt.timedelta(days=12), staff=staff)
        Invoice.create(account=account, number="F-DEMO-00002", label="Postes Yealink (acompte)",
                       order=phones, issued_on=today - dt.timedelta(days=35),
                       due_on=today - dt.timedelta(days=5), amount_cents=28_990)
        Invoice.create(account=account, number="F-DEMO-00003", label="Abonnements — mois en cours",
                       issued_on=today - dt.timedelta(days=2),
                       due_on=today + dt.timedelta(days=28), amount_cents=45_900)
        CreditLimit.create(account=account, limit_cents=60_000)
    return staff
