"""Back-office home, customer accounts and their credit limit (OPS-1, BIL-1)."""

from __future__ import annotations

from flask import g, request, url_for
from flask_babel import gettext as _

from webapp.blueprints.ops import LABELS, done, found_or_404, staff_actor, staff_route
from webapp.blueprints.pickers import search_page, whole_account
from webapp.rendering import render
from webapp.services import backoffice, billing
from webapp.services.accounts import (
    SUGGESTED_TIMEZONES,
    TRANSFER_POLICIES,
    set_timezone,
    set_transfer_policy,
    transfer_policy,
)
from webapp.services.errors import FormError


@staff_route("/")
def home():
    return render("ops/home.html", **backoffice.home_counts(g.staff.id))


@staff_route("/comptes")
def accounts():
    return render("ops/accounts.html", rows=backoffice.accounts_with_balance(), **LABELS)


def account_page(account, status: int = 200, **extra):
    """The account page; a refused form of it comes back with `form`, `errors`, `form_name`."""
    return render("ops/account.html", status=status, account=account, zones=SUGGESTED_TIMEZONES,
                  policies=TRANSFER_POLICIES, policy=transfer_policy(account),
                  today=billing.today_for(account), **backoffice.account_overview(account),
                  form=extra.pop("form", {}), errors=extra.pop("errors", {}),
                  form_name=extra.pop("form_name", None), **LABELS, **extra)


def account_or_404(account_id: int):
    return found_or_404(backoffice.account(account_id))


@staff_route("/comptes/<int:account_id>")
def account(account_id: int):
    return account_page(account_or_404(account_id))


@staff_route("/comptes/<int:account_id>/choisir/sites")
def account_sites(account_id: int):
    """SCALE-4: the search of the account's site field (new deployment)."""
    found = account_or_404(account_id)
    return search_page("site", whole_account(found.id),
                       ("ops.account_sites", {"account_id": found.id}), "ops/_layout.html")


@staff_route("/comptes/<int:account_id>/choisir/commandes")
def account_orders(account_id: int):
    """SCALE-4: the search of the account's order field (new invoice)."""
    found = account_or_404(account_id)
    return search_page("order", whole_account(found.id),
                       ("ops.account_orders", {"account_id": found.id}), "ops/_layout.html")


def _account_setting(account_id: int, form_name: str, apply, message: str):
    """One setting form of the account page: applied, or the page again with the refusal."""
    found = account_or_404(account_id)
    try:
        apply(found)
    except FormError as exc:
        return account_page(found, 400, form=request.form, errors=exc.errors,
                            form_name=form_name)
    return done(message, url_for("ops.account", account_id=found.id))


@staff_route("/comptes/<int:account_id>/encours", methods=["POST"])
def credit_limit(account_id: int):
    return _account_setting(account_id, "credit", lambda found: billing.set_credit_limit(
        found, amount_raw=request.form.get("limit", ""), actor=staff_actor()),
        _("Encours autorisé enregistré."))


@staff_route("/comptes/<int:account_id>/fuseau-horaire", methods=["POST"])
def account_timezone(account_id: int):
    """SCALE-3: the operator sets a customer account's time zone."""
    return _account_setting(account_id, "timezone", lambda found: set_timezone(
        found, request.form.get("timezone", ""), staff_actor()), _("Fuseau horaire enregistré."))


@staff_route("/comptes/<int:account_id>/transferts", methods=["POST"])
def transfer_policy_update(account_id: int):
    """SEC-8: where this customer's switchboard may transfer calls (audited)."""
    return _account_setting(account_id, "transfers", lambda found: set_transfer_policy(
        found, request.form.get("policy", ""), staff_actor()),
        _("Règle de transfert du standard enregistrée."))
