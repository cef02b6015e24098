"""Dashboard (with the EVT-1 events block), account page (ACC-5), health."""

from __future__ import annotations

from flask import Blueprint, abort, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.blueprints.events import block_context
from webapp.db import db
from webapp.rendering import render, saved
from webapp.security import current_access, current_actor, public
from webapp.services.accounts import SUGGESTED_TIMEZONES, set_timezone
from webapp.services.applications import applications_for
from webapp.services.errors import FormError

bp = Blueprint("main", __name__)


@bp.route("/")
def dashboard():
    g.active_nav = "dashboard"
    return render("main/dashboard.html", **block_context())


@bp.route("/compte")
def account():
    return _account_page()


def _account_page(status: int = 200, errors=None, form=None):
    return render("main/account.html", status=status,
                  applications=applications_for(current_user.contact),
                  account=current_user.account,
                  can_set_timezone=current_access().is_admin, zones=SUGGESTED_TIMEZONES,
                  errors=errors or {}, form=form or {})


@bp.route("/compte/fuseau-horaire", methods=["POST"])
def account_timezone():
    """SCALE-3: the account's time zone, set by one of its administrators."""
    if not current_access().is_admin:
        abort(403, description=["Administrateur"])
    try:
        set_timezone(current_user.account,
                     request.form.get("timezone", ""), current_actor())
    except FormError as exc:
        return _account_page(400, errors=exc.errors, form=request.form)
    return saved(_("Fuseau horaire enregistré."), url_for("main.account"))


@bp.route("/sante")
@public
def health():
    db.execute_sql("SELECT 1")
    return {"status": "ok"}
