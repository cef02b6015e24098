"""Store: deployments (DEP-1) and orders (BIL-1), read-only for customers."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, url_for

from webapp.models import DEPLOYMENT_KINDS, DEPLOYMENT_STATUSES, ORDER_STATUSES, SLOTS, Order
from webapp.permissions import PERMISSIONS
from webapp.rendering import render
from webapp.security import current_access, get_for_account_or_404, requires
from webapp.services import billing, deployments

bp = Blueprint("store", __name__, url_prefix="/store")

LABELS = {"kinds": DEPLOYMENT_KINDS, "statuses": DEPLOYMENT_STATUSES, "slots": SLOTS,
          "order_statuses": ORDER_STATUSES}


@bp.route("/deploiements", endpoint="deployments")
def deployments_list():
    """The "Store" entry of the menu: deployments, or orders for who sees only those."""
    access = current_access()
    if not access.can("deployments.view"):
        if access.can("orders.view"):
            return redirect(url_for("store.orders"))
        abort(403, description=[PERMISSIONS["deployments.view"]])
    g.active_nav = "store"
    query = deployments.scoped(access.account_id, access.site_ids)
    return render("store/deployments.html", upcoming=list(deployments.upcoming(query)),
                  past=list(deployments.past(query)), **LABELS)


@bp.route("/deploiements/<int:deployment_id>")
@requires("deployments.view")
def deployment(deployment_id: int):
    g.active_nav = "store"
    access = current_access()
    found = deployments.scoped(access.account_id, access.site_ids).where(
        deployments.Deployment.id == deployment_id).first()
    if found is None:
        abort(404)
    return render("store/deployment.html", deployment=found,
                  history=deployments.history(found), **LABELS)


@bp.route("/commandes")
@requires("orders.view")
def orders():
    g.active_nav = "store"
    return render("store/orders.html", orders=list(billing.orders(current_access().account_id)),
                  **LABELS)


@bp.route("/commandes/<int:order_id>")
@requires("orders.view")
def order(order_id: int):
    g.active_nav = "store"
    found = get_for_account_or_404(Order, order_id)
    invoices = list(found.invoices) if current_access().can("billing.view") else []
    return render("store/order.html", order=found, invoices=invoices, **LABELS)
