"""Orders, invoices and payments as staff keep them (BIL-1, OPS-1)."""

from __future__ import annotations

from io import BytesIO

from flask import request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from webapp.blueprints.ops import LABELS, StaffPage, done, found_or_404, staff_actor, staff_route
from webapp.blueprints.ops.accounts import account_or_404, account_page
from webapp.rendering import render
from webapp.services import backoffice, billing, pdf
from webapp.services.errors import FormError
from webapp.translate import translate


@staff_route("/comptes/<int:account_id>/commandes", methods=["POST"])
def order_new(account_id: int):
    found = account_or_404(account_id)
    try:
        created = billing.create_order(found, title=request.form.get("title", ""),
                                       amount_raw=request.form.get("amount", ""),
                                       actor=staff_actor())
    except FormError as exc:
        return account_page(found, 400, form=request.form, errors=exc.errors, form_name="order")
    return done(_("Commande %(reference)s créée.", reference=created.reference),
                url_for("ops.account", account_id=found.id))


@staff_route("/commandes/<int:order_id>/statut", methods=["POST"])
def order_status(order_id: int):
    found = found_or_404(backoffice.order(order_id))
    try:
        billing.set_order_status(found, request.form.get("status", ""), actor=staff_actor())
    except FormError as exc:
        return account_page(found.account, 400, errors=exc.errors, form_name="order_status")
    return done(_("Statut de la commande mis à jour."),
                url_for("ops.account", account_id=found.account_id))


@staff_route("/comptes/<int:account_id>/factures", methods=["POST"])
def invoice_new(account_id: int):
    found = account_or_404(account_id)
    try:
        created = billing.issue_invoice(
            found, label=request.form.get("label", ""),
            amount_raw=request.form.get("amount", ""), due_raw=request.form.get("due_on", ""),
            order_id=request.form.get("order", type=int), actor=staff_actor())
    except FormError as exc:
        return account_page(found, 400, form=request.form, errors=exc.errors,
                            form_name="invoice")
    return done(_("Facture %(number)s émise ; le client est prévenu par e-mail.",
                  number=created.number), url_for("ops.invoice", invoice_id=created.id))


def _invoice_page(found, status: int = 200, **extra):
    return render("ops/invoice.html", status=status, invoice=found,
                  payments=billing.payments(found), today=billing.today_for(found.account),
                  form=extra.pop("form", {}), error=extra.pop("error", None), **LABELS)


INVOICE = StaffPage("/factures/<int:invoice_id>", "invoice", backoffice.invoice, _invoice_page)


@staff_route("/factures/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int):
    found = INVOICE.found(invoice_id)
    data = pdf.invoice_pdf(found, found.account.name, billing.payments(found), tr=translate,
                           locale=str(get_locale() or "fr"))
    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"facture-{found.number}.pdf")


@staff_route("/factures/<int:invoice_id>/paiements", methods=["POST"])
def payment(invoice_id: int):
    return INVOICE.change(invoice_id, lambda found: billing.record_payment(
        found, amount_raw=request.form.get("amount", ""), date_raw=request.form.get("date", ""),
        method=request.form.get("method", ""), actor=staff_actor()), _("Paiement enregistré."))


@staff_route("/factures/<int:invoice_id>/relance", methods=["POST"])
def reminder(invoice_id: int):
    return INVOICE.change(invoice_id, lambda found: billing.send_overdue_reminder(
        found, actor=staff_actor()), _("Relance envoyée."))
