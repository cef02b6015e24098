"""Dashboard, account page (ACC-5), placeholders for areas still to come, health."""

from __future__ import annotations

from flask import Blueprint, abort, g
from flask_login import current_user

from webapp.db import db
from webapp.navigation import item_by_key
from webapp.rendering import render
from webapp.security import public
from webapp.services.applications import applications_for

bp = Blueprint("main", __name__)


@bp.route("/")
def dashboard():
    g.active_nav = "dashboard"
    from webapp.blueprints.events import block_context  # EVT-1 block, rendered inline

    return render("main/dashboard.html", **block_context())


@bp.route("/bientot/<key>")
def area(key: str):
    """An area of the menu whose pages have not landed yet: say what will be there."""
    item = item_by_key(key)
    if item is None:
        abort(404)
    g.active_nav = key
    return render("main/area.html", item=item)


@bp.route("/compte")
def account():
    return render("main/account.html", applications=applications_for(current_user.contact))


@bp.route("/sante")
@public
def health():
    db.execute_sql("SELECT 1")
    return {"status": "ok"}
