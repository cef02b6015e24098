"""Routes of events (EVT-1), store (DEP-1, BIL-1), tickets (TKT-1..2), billing
(BIL-1) and the operator back-office (OPS-1).

Back-office routes answer every customer visitor (signed in or not) with a redirect to
the *staff* sign-in (`/ops/connexion?next=…`), which the matrix counts as LOGIN.
"""

import datetime as dt
import io

from tests.routes import ALLOWED, INVALID, LOGIN, Route, pending_code, sign_in_started

STAFF_ONLY = dict(anonymous=LOGIN, admin=LOGIN, restricted=LOGIN, other=LOGIN,
                  users_only=LOGIN)
OPEN = dict(anonymous=ALLOWED, admin=ALLOWED, restricted=ALLOWED, other=ALLOWED,
            users_only=ALLOWED, staff=ALLOWED)
STAFF_EMAIL = "sophie.martin@operateur.example"
PDF = b"%PDF-1.4\n%matrice\n" + b"0" * 64


def _deployment(reference):
    def args(d):
        from webapp.models import Deployment

        return {"deployment_id": Deployment.get(Deployment.reference == reference).id}
    return args


def _ticket(d):
    from webapp.models import Ticket

    return {"ticket_id": Ticket.select().where(Ticket.account == d.account_id).first().id}


def _order(d):
    from webapp.models import Order

    return {"order_id": Order.get(Order.reference == "C-DEMO-00001").id}


def _invoice(d):
    from webapp.models import Invoice

    return {"invoice_id": Invoice.get(Invoice.number == "F-DEMO-00002").id}


def _attachment(d):
    """A real attachment of the demo account (another account's id for "other")."""
    from webapp.models import Attachment, Ticket, TicketMessage, User
    from webapp.services.tickets import Upload, _store
    from webapp.settings import load

    existing = Attachment.get_or_none((Attachment.account == d.account_id)
                                      & Attachment.message.is_null(False))
    if existing is None:
        ticket = Ticket.select().where(Ticket.account == d.account_id).first()
        message = TicketMessage.select().where(TicketMessage.ticket == ticket).first()
        existing = _store(load().DATA_DIR, d.account_id,
                          Upload("matrice.pdf", b"%PDF-1.4\n%matrice\n"), "application/pdf",
                          uploader=User.get_by_id(d.admin_user_id), pending_key=None)
        Attachment.update(message=message).where(Attachment.id == existing.id).execute()
    return {"attachment_id": existing.id}


def _account(d):
    return {"account_id": d.account_id}


def _deployment_status(d) -> dict:
    from webapp.models import Deployment
    from webapp.services.deployments import TRANSITIONS

    found = Deployment.get(Deployment.reference == "D-DEMO-00001")
    return {"status": TRANSITIONS[found.status][0], "note": "Matrice"}


def _order_status(d) -> dict:
    from webapp.models import Order

    current = Order.get(Order.reference == "C-DEMO-00001").status
    return {"status": "shipped" if current != "shipped" else "done"}


def _staff_id(d) -> dict:
    from webapp.models import StaffUser

    return {"staff": str(StaffUser.get(StaffUser.email == STAFF_EMAIL).id)}


def _pdf(name: str = "journal.pdf"):
    return lambda d: {"subject": "Tonalité absente", "body": "Plus de tonalité depuis 9 h.",
                      "files": (io.BytesIO(PDF), name)}


ROUTES = [
    Route("events.block"),
    # DEP-1: Lucas's scope is Lyon; the demo's Paris deployment is out of it (404).
    Route("store.deployments", users_only=403),
    Route("store.deployment", args=_deployment("D-DEMO-00002"), restricted=404, other=404,
          users_only=403),
    Route("store.orders", restricted=403),
    Route("store.order", args=_order, restricted=403, other=404),
    Route("tickets.index"),
    Route("tickets.new"),
    Route("tickets.new", "POST", htmx=True, data=_pdf()),
    Route("tickets.detail", args=_ticket, other=404),
    Route("tickets.reply", "POST", args=_ticket, other=404, htmx=True,
          data=lambda d: {"body": "Toujours pas de tonalité.",
                          "files": (io.BytesIO(PDF), "suite.pdf")}),
    Route("tickets.download", args=_attachment, other=404),
    Route("billing.index", restricted=403),
    Route("billing.invoice", args=_invoice, restricted=403, other=404),
    Route("billing.invoice_pdf", args=_invoice, restricted=403, other=404),
    # OPS-1: staff sign-in pages are public; everything else needs a staff session.
    Route("ops.login", **OPEN),
    Route("ops.login", "POST", **OPEN,
          data=lambda d: {"email": STAFF_EMAIL, "password": d.password}),
    Route("ops.verify", **OPEN),
    Route("ops.verify", "POST", **OPEN, data={},
          prepare=lambda b, d: pending_code(b, d.password, STAFF_EMAIL, "/ops")),
    Route("ops.send_code", "POST", **OPEN, data={},
          prepare=lambda b, d: sign_in_started(b, d.password, STAFF_EMAIL, "/ops")),
    Route("ops.logout", "POST", **OPEN, data={}),
    Route("ops.password_help", **OPEN),
    Route("ops.home", **STAFF_ONLY),
    Route("ops.accounts", **STAFF_ONLY),
    Route("ops.account", args=_account, **STAFF_ONLY),
    Route("ops.account_sites", args=_account, **STAFF_ONLY),
    Route("ops.account_orders", args=_account, **STAFF_ONLY),
    Route("ops.credit_limit", "POST", args=_account, **STAFF_ONLY, data={"limit": "1500"}),
    Route("ops.account_timezone", "POST", args=_account, **STAFF_ONLY,
          data={"timezone": "America/Martinique"}),
    Route("ops.transfer_policy_update", "POST", args=_account, **STAFF_ONLY,
          data={"policy": "anywhere"}),
    Route("ops.deployments_list", **STAFF_ONLY),
    Route("ops.deployment_new", "POST", args=_account, **STAFF_ONLY, data=lambda d: {
        "kind": "onsite", "title": "Câblage du bureau 2", "site": str(d.ids["site_lyon"]),
        "numbers": ""}),
    Route("ops.deployment", args=_deployment("D-DEMO-00001"), **STAFF_ONLY),
    Route("ops.deployment_schedule", "POST", args=_deployment("D-DEMO-00001"), **STAFF_ONLY,
          data={"date": "2031-06-02", "slot": "10-12"}),
    Route("ops.deployment_status", "POST", args=_deployment("D-DEMO-00001"), **STAFF_ONLY,
          data=_deployment_status),
    Route("ops.tickets", **STAFF_ONLY),
    Route("ops.ticket", args=_ticket, **STAFF_ONLY),
    Route("ops.ticket_reply", "POST", args=_ticket, **STAFF_ONLY,
          data={"body": "Nous regardons votre ligne.", "close": ""}),
    Route("ops.ticket_status", "POST", args=_ticket, **STAFF_ONLY, data={"status": "closed"}),
    Route("ops.ticket_assign", "POST", args=_ticket, **STAFF_ONLY, data=_staff_id),
    Route("ops.attachment", args=_attachment, **STAFF_ONLY),
    Route("ops.order_new", "POST", args=_account, **STAFF_ONLY,
          data={"title": "Poste supplémentaire", "amount": "120,00"}),
    Route("ops.order_status", "POST", args=_order, **STAFF_ONLY, data=_order_status),
    Route("ops.invoice_new", "POST", args=_account, **STAFF_ONLY, data={
        "label": "Abonnement de juin", "amount": "99,00", "due_on": "2031-01-31", "order": ""}),
    Route("ops.invoice", args=_invoice, **STAFF_ONLY),
    Route("ops.invoice_pdf", args=_invoice, **STAFF_ONLY),
    Route("ops.payment", "POST", args=_invoice, **STAFF_ONLY,
          data=lambda d: {"amount": "10,00", "date": dt.date.today().isoformat(),
                          "method": "virement"}),
    Route("ops.reminder", "POST", args=_invoice, **STAFF_ONLY, data={}),
    Route("ops.emails", **STAFF_ONLY),
]

__all__ = ["INVALID", "ROUTES"]
