"""Facturation (BIL-1): balance against the credit limit, invoices, generated PDFs."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_babel import get_locale

from webapp.models import Invoice
from webapp.rendering import download, render
from webapp.security import current_access, get_for_account_or_404, requires
from webapp.services import billing, pdf
from webapp.translate import translate

bp = Blueprint("billing", __name__, url_prefix="/facturation")


@bp.route("")
@requires("billing.view")
def index():
    account_id = current_access().account_id
    today = billing.today_in(account_id)
    overdue_only = request.args.get("filtre") == "retard"
    invoices = billing.overdue(account_id, today) if overdue_only else billing.invoices(account_id)
    return render("billing/index.html", balance=billing.balance(account_id),
                  invoices=list(invoices), overdue_only=overdue_only, today=today)


@bp.route("/factures/<int:invoice_id>")
@requires("billing.view")
def invoice(invoice_id: int):
    found = get_for_account_or_404(Invoice, invoice_id)
    return render("billing/invoice.html", invoice=found, payments=billing.payments(found),
                  today=billing.today_for(found.account),
                  totals=billing.totals(found), seller=current_app.extensions["cm_settings"])


@bp.route("/factures/<int:invoice_id>/pdf")
@requires("billing.view")
def invoice_pdf(invoice_id: int):
    found = get_for_account_or_404(Invoice, invoice_id)
    body = pdf.invoice_pdf(found, found.account.name, billing.payments(found), tr=translate,
                           locale=str(get_locale() or "fr"))
    # FR-1: opened in the browser (the e-mail's "Voir la facture (PDF)"), saved under its number
    return download(body, f"facture-{found.number}.pdf", "application/pdf", inline=True)
