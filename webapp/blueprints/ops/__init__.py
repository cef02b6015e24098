"""Operator back-office (OPS-1): its own staff accounts, sign-in and 2FA, under /ops.

Customer sessions never open it and staff sessions never open customer pages:
the staff principal lives under its own session keys (`staff_*`), which the
customer login loader ignores. The app-wide customer sign-in check does not
apply here (views are `public` to it); `_staff_only` guards every view instead.

One blueprint `ops`, one module per sub-area: signin, accounts (home, accounts,
credit limits), deployments, tickets, invoices (orders, invoices, payments), emails.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for

from webapp.extensions import client_ip
from webapp.i18n import N_
from webapp.models import DEPLOYMENT_KINDS, DEPLOYMENT_STATUSES, ORDER_STATUSES, SLOTS
from webapp.rendering import redirect_to
from webapp.security import public, safe_next
from webapp.services import backoffice
from webapp.services.actor import Actor
from webapp.services.errors import FormError

bp = Blueprint("ops", __name__, url_prefix="/ops")

OPEN_ENDPOINTS = {"ops.login", "ops.verify", "ops.send_code", "ops.logout", "ops.password_help"}
NAV = (("ops.home", N_("Accueil")), ("ops.accounts", N_("Comptes clients")),
       ("ops.tickets", N_("Tickets")), ("ops.deployments_list", N_("Déploiements")),
       ("ops.emails", N_("E-mails en échec")))
LABELS = {"kinds": DEPLOYMENT_KINDS, "statuses": DEPLOYMENT_STATUSES, "slots": SLOTS,
          "order_statuses": ORDER_STATUSES}


@bp.context_processor
def _side_menu() -> dict:
    """The back office's menu for `ops/_layout.html` (macro `sidenav`)."""
    return {"ops_nav_links": [(url_for(endpoint), label, request.endpoint == endpoint)
                              for endpoint, label in NAV]}


def staff_route(rule: str, **options):
    """A back-office view: open to the customer check, guarded by `_staff_only`."""
    def decorate(view):
        return bp.route(rule, **options)(public(view))
    return decorate


def settings():
    return current_app.extensions["cm_settings"]


def current_staff():
    return backoffice.signed_in_staff(session.get("staff_id"), session.get("staff_auth_version"),
                                      session.get("staff_trust_id"))


def staff_actor() -> Actor:
    """The signed-in staff member as the author of a change (an engine reload it causes
    goes to the edited account's shard: `services.shards.shard_of`, SCALE-1)."""
    config = settings()
    return Actor(None, client_ip(), config.REDIS_URL, 0, config.DATA_DIR, staff=g.staff,
                 engine_redis_url=config.ENGINE_REDIS_URL)


def found_or_404(obj):
    if obj is None:
        abort(404)
    return obj


def done(message: str, url: str):
    flash(message, "success")
    return redirect(url, 303)


class StaffPage:
    """The page of one back-office object (a deployment, a ticket, an invoice), served at
    `rule` by the view `ops.<name>`, and the forms posted on it.

    `rule` has one argument, the object's id (`<int:ticket_id>`); `find(id)` gives the
    object or None (404); `render(object, status, form=, error=)` the page."""

    def __init__(self, rule: str, name: str, find: Callable, render: Callable):
        key = re.search(r"<(?:\w+:)?(\w+)>", rule).group(1)
        self.endpoint, self.key, self.find, self.render = f"ops.{name}", key, find, render

        def page(**values):
            return self.render(self.found(values[key]))

        staff_route(rule, endpoint=name)(page)

    def found(self, object_id: int):
        return found_or_404(self.find(object_id))

    def change(self, object_id: int, apply: Callable, message: str):
        """A form posted on the page: `apply(object)`, then back to the page with `message`;
        refused (FormError), the page again (400) with the refusal and what was typed."""
        found = self.found(object_id)
        try:
            apply(found)
        except FormError as exc:
            return self.render(found, 400, form=request.form, error=exc.message)
        return done(message, url_for(self.endpoint, **{self.key: found.id}))


def next_page(raw: str | None) -> str:
    target = safe_next(raw, "")
    return target if target.startswith("/ops/") or target == "/ops" else ""


@bp.before_request
def _staff_only():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    staff = current_staff()
    if staff is None:
        target = url_for("ops.login", next=request.full_path.rstrip("?"))
        return redirect_to(target, status=302, htmx_status=401)
    g.staff = staff
    return None


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# The views (imported last: they register on `bp`).
from webapp.blueprints.ops import accounts, deployments, emails, invoices, signin, tickets  # noqa: E402, F401, I001
