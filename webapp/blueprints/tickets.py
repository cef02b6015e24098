"""Échanger > Tickets (TKT-1..2): lists, creation, thread updated in place, attachments."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_htmx import make_response as htmx_response
from flask_login import current_user

from webapp.extensions import htmx
from webapp.models import TICKET_CLOSED, TICKET_OPEN, Ticket
from webapp.rendering import attachment_download, redirect_to, render
from webapp.security import (
    background,
    current_access,
    current_actor,
    get_for_account_or_404,
    requires,
)
from webapp.services import tickets as service
from webapp.services.tokens import new_token

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

UPLOAD_KEY = "ticket_upload_key"


def _settings():
    return current_app.extensions["cm_settings"]


def _upload_key() -> str:
    """Binds pending uploads (files kept after a refused form) to this session."""
    if UPLOAD_KEY not in session:
        session[UPLOAD_KEY] = new_token()
    return session[UPLOAD_KEY]


def _form_input() -> dict:
    uploads = [service.Upload(f.filename or "", f.read())
               for f in request.files.getlist("files")]
    keep = [int(v) for v in request.form.getlist("keep") if v.isdigit()]
    return {"body": request.form.get("body", ""), "uploads": uploads, "keep_ids": keep,
            "session_key": _upload_key(), "actor": current_actor()}


@bp.route("")
@requires("tickets.access")
def index():
    g.active_nav = "exchange"
    status = TICKET_CLOSED if request.args.get("etat") == "fermes" else TICKET_OPEN
    account = current_access().account_id
    return render("tickets/index.html", state=status,
                  tickets=list(service.visible_tickets(account, status)),
                  open_count=service.visible_tickets(account, TICKET_OPEN).count(),
                  closed_count=service.visible_tickets(account, TICKET_CLOSED).count())


@bp.route("/nouveau", methods=["GET", "POST"])
@requires("tickets.access")
def new():
    g.active_nav = "exchange"
    if request.method == "GET":
        return render("tickets/new.html", form={}, outcome=None,
                      pending=service.pending_uploads(current_user, session.get(UPLOAD_KEY)))
    data = _form_input()
    try:
        ticket = service.create_ticket(subject=request.form.get("subject", ""), **data)
    except service.TicketRefused as refused:
        return render("tickets/new.html", status=400, form=request.form, outcome=refused,
                      pending=refused.pending)
    # the form is posted by htmx (upload progress): a full navigation puts the ticket's
    # own address in the location bar
    return redirect_to(url_for("tickets.detail", ticket_id=ticket.id))


@bp.route("/<int:ticket_id>")
@background(when=lambda: request.headers.get("HX-Target") == "thread")  # the 10 s poll
@requires("tickets.access")
def detail(ticket_id: int):
    """The ticket; its thread (`HX-Target: thread`) is polled with a cheap ETag check."""
    g.active_nav = "exchange"
    ticket = get_for_account_or_404(Ticket, ticket_id)
    etag = service.thread_version(ticket)
    polling = request.headers.get("HX-Target") == "thread"
    if polling and request.if_none_match.contains_weak(etag):
        response = make_response("", 304)
    else:
        response = render("tickets/detail.html", ticket=ticket, messages=service.thread(ticket),
                          form={}, outcome=None,
                          pending=service.pending_uploads(current_user, session.get(UPLOAD_KEY)))
    if polling:
        response.set_etag(etag, weak=True)
        response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/<int:ticket_id>/messages", methods=["POST"])
@requires("tickets.access")
def reply(ticket_id: int):
    ticket = get_for_account_or_404(Ticket, ticket_id)
    try:
        ticket = service.add_message(ticket, **_form_input())
    except service.TicketRefused as refused:
        g.active_nav = "exchange"
        return render("tickets/detail.html", status=400, ticket=ticket,
                      messages=service.thread(ticket), form=request.form, outcome=refused,
                      pending=refused.pending)
    if not htmx:
        return redirect(url_for("tickets.detail", ticket_id=ticket.id) + "#thread", 303)
    return htmx_response(render("tickets/detail.html", ticket=ticket,
                                messages=service.thread(ticket), form={}, outcome=None,
                                pending=[], posted=True), trigger="cm-events")


@bp.route("/pieces-jointes/<int:attachment_id>")
@requires("tickets.access")
def download(attachment_id: int):
    """Only for users who may see the ticket; always as a download (TKT-2)."""
    attachment = service.sent_attachment(attachment_id, current_access().account_id)
    if attachment is None:
        abort(404)
    return attachment_download(attachment, _settings().DATA_DIR)
