"""What the operator back-office reads (OPS-1): its home counts, the customer accounts,
and each object staff open by id — across every account, since staff serve them all.
The changes themselves are in billing, deployments and tickets."""

from __future__ import annotations

from webapp.models import (
    MAIL_FAILED,
    Account,
    Deployment,
    Invoice,
    Order,
    OutboundEmail,
    StaffTrustedBrowser,
    StaffUser,
    Ticket,
)
from webapp.services import billing, deployments
from webapp.services import tickets as ticket_service


def signed_in_staff(staff_id: int | None, auth_version: int | None,
                    trust_id: int | None) -> StaffUser | None:
    """The staff member of this session while it is still valid: active, same password
    version, and its trusted browser (when it signed in by one) not revoked."""
    staff = StaffUser.get_or_none(StaffUser.id == staff_id) if staff_id else None
    if staff is None or not staff.is_active or auth_version != staff.auth_version:
        return None
    if trust_id and not StaffTrustedBrowser.select().where(
            (StaffTrustedBrowser.id == trust_id) & StaffTrustedBrowser.revoked_at.is_null()
    ).exists():
        return None
    return staff


def home_counts(staff_id: int) -> dict[str, int]:
    return {"open_tickets": ticket_service.inbox().count(),
            "mine": ticket_service.inbox(assigned=staff_id).count(),
            "unassigned": ticket_service.inbox().where(Ticket.assigned_to.is_null()).count(),
            "upcoming": deployments.upcoming(Deployment.select()).count(),
            "failed": OutboundEmail.select().where(OutboundEmail.status == MAIL_FAILED).count()}


def accounts_with_balance() -> list[tuple[Account, billing.Balance]]:
    return [(a, billing.balance(a.id)) for a in Account.select().order_by(Account.name)]


def account_overview(account: Account) -> dict:
    """Everything the account page lists."""
    return {"balance": billing.balance(account.id),
            "deployments": list(Deployment.select().where(Deployment.account == account)
                                .order_by(Deployment.id.desc())),
            "orders": list(billing.orders(account.id)),
            "invoices": list(billing.invoices(account.id)),
            "tickets": list(Ticket.select().where(Ticket.account == account)
                            .order_by(Ticket.updated_at.desc()).limit(20))}


def all_deployments():
    return Deployment.select()


def failed_emails() -> list[OutboundEmail]:
    return list(OutboundEmail.select().where(OutboundEmail.status == MAIL_FAILED)
                .order_by(OutboundEmail.created_at.desc()).limit(200))


def account(account_id: int) -> Account | None:
    return Account.get_or_none(Account.id == account_id)


def deployment(deployment_id: int) -> Deployment | None:
    return Deployment.get_or_none(Deployment.id == deployment_id)


def ticket(ticket_id: int) -> Ticket | None:
    return Ticket.get_or_none(Ticket.id == ticket_id)


def order(order_id: int) -> Order | None:
    return Order.get_or_none(Order.id == order_id)


def invoice(invoice_id: int) -> Invoice | None:
    return Invoice.get_or_none(Invoice.id == invoice_id)
