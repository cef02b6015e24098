"""The dashboard's "Évènements" block (EVT-1): what needs attention, per permission.

`summary` returns plain values; the view turns endpoints into URLs and uses
`fingerprint` as the ETag, so that an unchanged block costs a few COUNTs and a
bodiless 304.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from peewee import SQL, fn

from webapp.db import Prepared
from webapp.i18n import N_, Money, _
from webapp.models import DEPLOYMENT_KINDS, TICKET_OPEN, Deployment, Invoice, Order, Ticket
from webapp.services import billing, deployments
from webapp.services.access import Access

MAX_ITEMS = 3
# SCALE-4: each list reads only the columns its items show
INVOICE_SHOWN = (Invoice.id, Invoice.number, Invoice.amount_cents, Invoice.paid_cents)


@dataclass(frozen=True)
class Item:
    label: str
    endpoint: str
    args: tuple[tuple[str, int], ...]
    action: str  # French msgid of the action link


@dataclass(frozen=True)
class Entry:
    kind: str
    label: str  # French msgid
    count: int
    endpoint: str  # the list with the details
    args: tuple[tuple[str, str], ...]
    action: str  # French msgid
    items: tuple[Item, ...]
    tone: str = "info"  # info | warn | danger
    amount: int | None = None  # cents, shown by Babel (|money)


def _head(query):
    """`query` with, on each row, how many rows it matches (`total_rows`: a window over the
    whole result, computed before the LIMIT), cut to its first MAX_ITEMS: one query."""
    return query.select_extend(fn.COUNT(SQL("*")).over().alias("total_rows")).limit(MAX_ITEMS)


def _upcoming_deployments(account, site_ids):
    return _head(deployments.upcoming(deployments.scoped(account, site_ids))
                 .select(Deployment.id, Deployment.kind, Deployment.scheduled_date))


# The block shows on every dashboard: its queries' SQL is built once (SCALE-4).
_ORDERS = Prepared(lambda account: _head(
    billing.open_orders(account).select(Order.id, Order.reference, Order.title)))
_TICKETS = Prepared(lambda account: _head(
    Ticket.select(Ticket.id, Ticket.subject)
    .where((Ticket.account == account) & (Ticket.status == TICKET_OPEN))
    .order_by(Ticket.updated_at.desc())))
_DEPLOYMENTS = Prepared(lambda account: _upcoming_deployments(account, None))
_TO_PAY = Prepared(lambda account, today: _head(
    billing.to_pay(account, today).select(*INVOICE_SHOWN)))
_OVERDUE = Prepared(lambda account, today: _head(
    billing.overdue(account, today).select(*INVOICE_SHOWN)))


def _counted(rows: list) -> tuple[int, list]:
    return (rows[0].total_rows if rows else 0), rows


def _deployment_rows(access: Access) -> list:
    """A scope of some sites is an IN list, which a prepared query cannot take."""
    if access.site_ids is None:
        return _DEPLOYMENTS.rows(access.account_id)
    return list(_upcoming_deployments(access.account_id, access.site_ids))


def summary(access: Access, today: dt.date) -> list[Entry]:
    entries: list[Entry] = []
    account = access.account_id
    if access.can("orders.view"):
        count, rows = _counted(_ORDERS.rows(account))
        if count:
            entries.append(Entry(
                "orders", N_("Commandes en cours"), count, "store.orders", (), N_("Suivre"),
                tuple(Item(f"{o.reference} — {o.title}", "store.order", (("order_id", o.id),),
                           N_("Voir la commande")) for o in rows)))
    if access.can("tickets.access"):
        count, rows = _counted(_TICKETS.rows(account))
        if count:
            entries.append(Entry(
                "tickets", N_("Tickets ouverts"), count, "tickets.index", (), N_("Répondre"),
                tuple(Item(t.subject, "tickets.detail", (("ticket_id", t.id),), N_("Répondre"))
                      for t in rows)))
    if access.can("deployments.view"):
        count, rows = _counted(_deployment_rows(access))
        if count:
            entries.append(Entry(
                "deployments", N_("Déploiements à venir"), count, "store.deployments", (),
                N_("Voir les déploiements"),
                tuple(Item(_deployment_label(d), "store.deployment",
                           (("deployment_id", d.id),), N_("Détails"))
                      for d in rows)))
    if access.can("billing.view"):
        count, rows = _counted(_TO_PAY.rows(account, today))
        if count:
            entries.append(Entry(
                "invoices", N_("Appels à factures"), count, "billing.index", (), N_("Payer"),
                tuple(Item(_invoice_label(i), "billing.invoice", (("invoice_id", i.id),),
                           N_("Voir et payer")) for i in rows), "warn"))
        balance = billing.balance(account)
        if balance.exceeded:
            entries.append(Entry(
                "credit", N_("Dépassement d'encours"), 1, "billing.index", (), N_("Régulariser"),
                (), "danger",
                amount=balance.over_by_cents))
        count, rows = _counted(_OVERDUE.rows(account, today))
        if count:
            entries.append(Entry(
                "collection", N_("Recouvrement"), count, "billing.index", (("filtre", "retard"),),
                N_("Régler"),
                tuple(Item(_invoice_label(i), "billing.invoice", (("invoice_id", i.id),),
                           N_("Voir et payer")) for i in rows), "danger"))
    return entries


def _invoice_label(invoice) -> str:
    return _("%(number)s — %(amount)s", number=invoice.number,
             amount=Money(invoice.balance_cents))


def _deployment_label(deployment) -> str:
    date = deployment.scheduled_date
    return _("%(kind)s — %(when)s", kind=_(DEPLOYMENT_KINDS[deployment.kind]),
             when=date or _("à planifier"))


def fingerprint(entries: list[Entry], *extra: object) -> str:
    """A weak validator of what the block shows (entries + locale etc.)."""
    raw = repr((entries, extra)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]
