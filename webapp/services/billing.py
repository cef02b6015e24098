"""Orders, invoices, payments and the credit limit (BIL-1), kept by operator staff (OPS-1).

Amounts are integer cents. "Appels à factures": unpaid invoices not yet due;
"Recouvrement": unpaid invoices past their due date; "Dépassement d'encours":
the unpaid total above the account's credit limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from peewee import fn

from webapp import settings as settings_module
from webapp.db import Prepared, db
from webapp.i18n import N_, Money, _
from webapp.models import (
    ORDER_OPEN,
    ORDER_STATUSES,
    Account,
    CreditLimit,
    Invoice,
    Order,
    Payment,
    utcnow,
)
from webapp.services import audit, notify, sequences
from webapp.services.access import Access
from webapp.services.accounts import owned
from webapp.services.actor import Actor
from webapp.services.errors import FormError
from webapp.services.sites import PICKER_RESULTS, PICKER_SELECT_MAX, SitePicker


def today_for(account: Account | None) -> dt.date:
    zone = ZoneInfo(account.timezone if account is not None else "Europe/Paris")
    return dt.datetime.now(zone).date()


def today_in(account_id: int) -> dt.date:
    """Today in the account's time zone."""
    return today_for(Account.get_or_none(Account.id == account_id))


def parse_amount(raw: str) -> int | None:
    """Cents from "1234,50", "1 234.5", "12"; None when not a positive amount."""
    cleaned = raw.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace("€", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if value <= 0 or value != value.quantize(Decimal("0.01")) or value > 10_000_000:
        return None
    return int(value * 100)


# --- reading ---------------------------------------------------------------------------

def orders(account_id: int):
    return Order.select().where(Order.account == account_id).order_by(Order.created_at.desc())


def _order_label(order: Order) -> str:
    return f"{order.reference} — {order.title}"


def search_orders(access: Access, q: str, limit: int = PICKER_RESULTS) -> list[tuple[int, str]]:
    """SCALE-4: the account's orders whose reference or title contains `q`, newest first."""
    q = " ".join((q or "").split())[:60]
    rows = (Order.select(Order.id, Order.reference, Order.title)
            .where((Order.account == access.account_id)
                   & (Order.reference.contains(q) | Order.title.contains(q)))
            .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit))
    return [(o.id, _order_label(o)) for o in rows]


def order_picker(access: Access, selected=(), q: str = "") -> SitePicker:
    """An invoice's order field (a SitePicker of orders): every order of a small account,
    beyond `PICKER_SELECT_MAX` the chosen one plus the matches of a search."""
    rows = Order.select(Order.id, Order.reference, Order.title).where(
        Order.account == access.account_id)
    if rows.count() <= PICKER_SELECT_MAX:
        return SitePicker(True, [(o.id, _order_label(o), 0) for o in
                                 rows.order_by(Order.created_at.desc(), Order.id.desc())], q=q)
    chosen = [int(s) for s in selected if str(s).isdigit()]
    picked = [(o.id, _order_label(o)) for o in rows.where(Order.id.in_(chosen or [0]))]
    ids = {i for i, _l in picked}
    matches = [m for m in search_orders(access, q) if m[0] not in ids] if q else []
    return SitePicker(False, selected=picked, matches=matches, q=q)


def open_orders(account_id: int):
    return orders(account_id).where(Order.status.in_(ORDER_OPEN))


def invoices(account_id: int):
    return (Invoice.select().where(Invoice.account == account_id)
            .order_by(Invoice.issued_on.desc(), Invoice.id.desc()))


def unpaid(account_id: int):
    return (Invoice.select().where((Invoice.account == account_id)
                                   & (Invoice.paid_cents < Invoice.amount_cents))
            .order_by(Invoice.due_on, Invoice.id))


def to_pay(account_id: int, today: dt.date):
    return unpaid(account_id).where(Invoice.due_on >= today)


def overdue(account_id: int, today: dt.date):
    return unpaid(account_id).where(Invoice.due_on < today)


@dataclass(frozen=True)
class Balance:
    outstanding_cents: int
    limit_cents: int | None

    @property
    def exceeded(self) -> bool:
        return self.limit_cents is not None and self.outstanding_cents > self.limit_cents

    @property
    def over_by_cents(self) -> int:
        return max(0, self.outstanding_cents - (self.limit_cents or 0))


# The dashboard asks on every visit (SCALE-4: SQL built once): what is left to pay, and the
# account's credit limit if it has one, in one query.
_BALANCE = Prepared(lambda account_id: Invoice.select(
    fn.COALESCE(fn.SUM(Invoice.amount_cents - Invoice.paid_cents), 0),
    CreditLimit.select(CreditLimit.limit_cents).where(CreditLimit.account == account_id))
    .where((Invoice.account == account_id) & (Invoice.paid_cents < Invoice.amount_cents))
    .tuples())


def balance(account_id: int) -> Balance:
    total, limit = _BALANCE.first(account_id)
    return Balance(int(total or 0), limit)


@dataclass(frozen=True)
class Totals:
    """FR-1: an invoice's TTC amount split into HT and TVA (HT rounded to the cent)."""

    ht_cents: int
    vat_cents: int
    ttc_cents: int
    rate: int


def totals(invoice: Invoice) -> Totals:
    rate = invoice.vat_rate or 0
    ht = (invoice.amount_cents * 100 * 2 + (100 + rate)) // ((100 + rate) * 2)  # half up
    return Totals(ht, invoice.amount_cents - ht, invoice.amount_cents, rate)


def payments(invoice: Invoice) -> list[Payment]:
    return list(Payment.select().where(Payment.invoice == invoice)
                .order_by(Payment.received_on, Payment.id))


# --- operator actions -------------------------------------------------------------------

AMOUNT_HINT = N_("Indiquez un montant positif, par exemple 149,90.")


def create_order(account: Account, *, title: str, amount_raw: str, actor: Actor) -> Order:
    errors = {}
    if not title.strip():
        errors["title"] = _("Indiquez l'objet de la commande.")
    amount = parse_amount(amount_raw)
    if amount is None:
        errors["amount"] = _(AMOUNT_HINT)
    if errors:
        raise FormError(errors)
    with db.atomic():  # FR-1: the reference is taken in the transaction that stores it
        order = Order.create(account=account, title=title.strip()[:200], amount_cents=amount,
                             reference=sequences.next_number("C"))
    audit.record("order.created", account=account.id, staff=actor.staff.id, order=order.id)
    return order


def set_order_status(order: Order, status: str, *, actor: Actor) -> None:
    if status not in ORDER_STATUSES:
        raise FormError({"order_status": _("Statut inconnu.")})
    Order.update(status=status, updated_at=utcnow()).where(Order.id == order.id).execute()
    audit.record("order.status", account=order.account_id, staff=actor.staff.id, order=order.id,
                 status=status)


def issue_invoice(account: Account, *, label: str, amount_raw: str, due_raw: str,
                  order_id: int | None, actor: Actor, vat_rate: int | None = None) -> Invoice:
    """Issue an invoice; the account's billing users get the "facture émise" e-mail."""
    errors = {}
    today = today_for(account)
    if not label.strip():
        errors["label"] = _("Indiquez l'objet de la facture.")
    amount = parse_amount(amount_raw)
    if amount is None:
        errors["amount"] = _(AMOUNT_HINT)
    try:
        due = dt.date.fromisoformat(due_raw.strip())
    except ValueError:
        due = None
        errors["due_on"] = _("Indiquez une date d'échéance valide.")
    if due is not None and due < today:
        errors["due_on"] = _("L'échéance ne peut pas précéder la date d'émission.")
    order = owned(Order, order_id, account)
    if order_id and order is None:
        errors["order"] = _("Cette commande n'appartient pas à ce client.")
    if errors:
        raise FormError(errors)
    if vat_rate is None:
        vat_rate = settings_module.load().VAT_RATE_PERCENT
    with db.atomic():  # FR-1: one gap-free sequence, taken where the invoice is stored
        invoice = Invoice.create(account=account, order=order, label=label.strip()[:200],
                                 issued_on=today, due_on=due, amount_cents=amount,
                                 vat_rate=vat_rate, number=sequences.next_number("F"))
    audit.record("invoice.issued", account=account.id, staff=actor.staff.id, invoice=invoice.id)
    notify.enqueue(actor.redis_url, "invoice_issued", invoice.id)
    return invoice


def record_payment(invoice: Invoice, *, amount_raw: str, date_raw: str, method: str,
                   actor: Actor) -> None:
    amount = parse_amount(amount_raw)
    if amount is None:
        raise FormError({"amount": _(AMOUNT_HINT)})
    try:
        received = dt.date.fromisoformat(date_raw.strip())
    except ValueError:
        raise FormError({"date": _("Indiquez la date de réception du paiement.")}) from None
    with db.atomic():
        fresh = Invoice.get_by_id(invoice.id)
        if amount > fresh.balance_cents:
            raise FormError({"amount": _("Le paiement dépasse le reste dû (%(balance)s).",
                                         balance=Money(fresh.balance_cents))})
        Payment.create(account=invoice.account_id, invoice=invoice, amount_cents=amount,
                       received_on=received, method=method.strip()[:30] or "virement",
                       staff=actor.staff)
        Invoice.update(paid_cents=Invoice.paid_cents + amount).where(
            Invoice.id == invoice.id).execute()
    audit.record("invoice.payment", account=invoice.account_id, staff=actor.staff.id,
                 invoice=invoice.id, amount_cents=amount)


def set_credit_limit(account: Account, *, amount_raw: str, actor: Actor) -> None:
    amount = parse_amount(amount_raw)
    if amount is None:
        raise FormError({"limit": _("Indiquez un encours autorisé positif, par exemple 5000.")})
    (CreditLimit.insert(account=account, limit_cents=amount, updated_at=utcnow())
     .on_conflict(conflict_target=[CreditLimit.account],
                  update={CreditLimit.limit_cents: amount, CreditLimit.updated_at: utcnow()})
     .execute())
    audit.record("credit_limit.set", account=account.id, staff=actor.staff.id,
                 limit_cents=amount)


def send_overdue_reminder(invoice: Invoice, *, actor: Actor) -> None:
    """MAIL-1 "paiement en retard": at most one reminder per invoice and day."""
    today = today_for(invoice.account)
    if invoice.is_paid or invoice.due_on >= today:
        raise FormError(_("Cette facture n'est pas en retard de paiement."))
    audit.record("invoice.reminder", account=invoice.account_id, staff=actor.staff.id,
                 invoice=invoice.id)
    notify.enqueue(actor.redis_url, "payment_overdue", invoice.id, today.isoformat())
