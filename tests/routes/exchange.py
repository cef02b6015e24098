"""Routes of events (EVT-1), store (DEP-1, BIL-1), tickets (TKT-1..2), billing
(BIL-1) and the operator back-office (OPS-1).

Back-office routes answer every customer visitor (signed in or not) with a redirect to
the *staff* sign-in (`/ops/connexion?next=…`), which the matrix counts as LOGIN.
"""

from tests.routes import ALLOWED, LOGIN, Route

STAFF_ONLY = dict(anonymous=LOGIN, admin=LOGIN, restricted=LOGIN, other=LOGIN)
OPEN = dict(anonymous=ALLOWED, admin=ALLOWED, restricted=ALLOWED, other=ALLOWED)


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


ROUTES = [
    Route("events.block"),
    # DEP-1: Lucas's scope is Lyon; the demo's Paris deployment is out of it (404).
    Route("store.deployments"),
    Route("store.deployment", args=_deployment("D-DEMO-00002"), restricted=404, other=404),
    Route("store.orders", restricted=403),
    Route("store.order", args=_order, restricted=403, other=404),
    Route("tickets.index"),
    Route("tickets.new"),
    Route("tickets.new", "POST"),  # empty form: 400 with the French messages
    Route("tickets.detail", args=_ticket, other=404),
    Route("tickets.reply", "POST", args=_ticket, other=404),
    Route("tickets.download", args=_attachment, other=404),
    Route("billing.index", restricted=403),
    Route("billing.invoice", args=_invoice, restricted=403, other=404),
    Route("billing.invoice_pdf", args=_invoice, restricted=403, other=404),
    # OPS-1: staff sign-in pages are public; everything else needs a staff session.
    Route("ops.login", **OPEN),
    Route("ops.login", "POST", **OPEN),
    Route("ops.verify", **OPEN),
    Route("ops.verify", "POST", **OPEN),
    Route("ops.send_code", "POST", **OPEN),
    Route("ops.logout", "POST", **OPEN),
    Route("ops.password_help", **OPEN),
    Route("ops.home", **STAFF_ONLY),
    Route("ops.accounts", **STAFF_ONLY),
    Route("ops.account", args=_account, **STAFF_ONLY),
    Route("ops.credit_limit", "POST", args=_account, **STAFF_ONLY),
    Route("ops.account_timezone", "POST", args=_account, **STAFF_ONLY),
    Route("ops.deployments_list", **STAFF_ONLY),
    Route("ops.deployment_new", "POST", args=_account, **STAFF_ONLY),
    Route("ops.deployment", args=_deployment("D-DEMO-00001"), **STAFF_ONLY),
    Route("ops.deployment_schedule", "POST", args=_deployment("D-DEMO-00001"), **STAFF_ONLY),
    Route("ops.deployment_status", "POST", args=_deployment("D-DEMO-00001"), **STAFF_ONLY),
    Route("ops.tickets", **STAFF_ONLY),
    Route("ops.ticket", args=_ticket, **STAFF_ONLY),
    Route("ops.ticket_reply", "POST", args=_ticket, **STAFF_ONLY),
    Route("ops.ticket_status", "POST", args=_ticket, **STAFF_ONLY),
    Route("ops.ticket_assign", "POST", args=_ticket, **STAFF_ONLY),
    Route("ops.attachment", args=_attachment, **STAFF_ONLY),
    Route("ops.order_new", "POST", args=_account, **STAFF_ONLY),
    Route("ops.order_status", "POST", args=_order, **STAFF_ONLY),
    Route("ops.invoice_new", "POST", args=_account, **STAFF_ONLY),
    Route("ops.invoice", args=_invoice, **STAFF_ONLY),
    Route("ops.invoice_pdf", args=_invoice, **STAFF_ONLY),
    Route("ops.payment", "POST", args=_invoice, **STAFF_ONLY),
    Route("ops.reminder", "POST", args=_invoice, **STAFF_ONLY),
    Route("ops.emails", **STAFF_ONLY),
]
