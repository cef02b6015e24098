"""The support inbox as staff answer it (TKT-1..2, OPS-1)."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from webapp.blueprints.ops import StaffPage, found_or_404, settings, staff_actor, staff_route
from webapp.models import TICKET_CLOSED, TICKET_OPEN
from webapp.rendering import attachment_download, render
from webapp.services import backoffice
from webapp.services import staff as staff_service
from webapp.services import tickets as ticket_service


@staff_route("/tickets")
def tickets():
    status = TICKET_CLOSED if request.args.get("etat") == "fermes" else TICKET_OPEN
    mine = request.args.get("moi") == "1"
    rows = list(ticket_service.inbox(status, g.staff.id if mine else None))
    return render("ops/tickets.html", rows=rows, state=status, mine=mine)


def _ticket_page(found, status: int = 200, **extra):
    return render("ops/ticket.html", status=status, ticket=found,
                  messages=ticket_service.thread(found), staff_list=staff_service.active_staff(),
                  form=extra.pop("form", {}), error=extra.pop("error", None))


TICKET = StaffPage("/tickets/<int:ticket_id>", "ticket", backoffice.ticket, _ticket_page)


@staff_route("/tickets/<int:ticket_id>/repondre", methods=["POST"])
def ticket_reply(ticket_id: int):
    return TICKET.change(ticket_id, lambda found: ticket_service.staff_reply(
        found, actor=staff_actor(), body=request.form.get("body", ""),
        close=request.form.get("close") == "1"),
        _("Réponse envoyée ; le client est prévenu par e-mail."))


@staff_route("/tickets/<int:ticket_id>/statut", methods=["POST"])
def ticket_status(ticket_id: int):
    status = request.form.get("status")
    return TICKET.change(ticket_id, lambda found: ticket_service.set_status(
        found, status, actor=staff_actor()),
        _("Ticket fermé.") if status == TICKET_CLOSED else _("Ticket rouvert."))


@staff_route("/tickets/<int:ticket_id>/attribuer", methods=["POST"])
def ticket_assign(ticket_id: int):
    return TICKET.change(ticket_id, lambda found: ticket_service.assign(
        found, request.form.get("staff", type=int), actor=staff_actor()),
        _("Attribution enregistrée."))


@staff_route("/pieces-jointes/<int:attachment_id>")
def attachment(attachment_id: int):
    found = found_or_404(ticket_service.sent_attachment(attachment_id))
    return attachment_download(found, settings().DATA_DIR)
