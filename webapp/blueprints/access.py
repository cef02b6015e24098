"""Préférences > Gestion des accès > Utilisateurs: Manager users and their 2FA (TFA-5)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.extensions import client_ip
from webapp.models import TFA_DISABLED, Contact, User
from webapp.rendering import render
from webapp.security import current_access, requires
from webapp.services import auth as auth_service
from webapp.services.access import user_roles

bp = Blueprint("access", __name__, url_prefix="/preferences/acces")


def _user_or_404(user_id: int) -> User:
    user = User.get_or_none((User.id == user_id)
                            & (User.account == current_access().account_id))
    if user is None:
        abort(404)
    return user


@bp.route("/utilisateurs")
@requires("users.manage")
def users():
    rows = (User.select(User, Contact).join(Contact)
            .where(User.account == current_access().account_id)
            .order_by(Contact.last_name, Contact.first_name))
    managers = [(user, user_roles(user)) for user in rows]
    return render("access/users.html", users=[(u, r) for u, r in managers if r])


@bp.route("/utilisateurs/<int:user_id>")
@requires("users.manage")
def user_detail(user_id: int):
    user = _user_or_404(user_id)
    return render("access/user_detail.html", user=user, roles=user_roles(user),
                  browsers=auth_service.active_trusted_browsers(user))


@bp.route("/utilisateurs/<int:user_id>/navigateurs/<int:browser_id>/revoquer",
          methods=["POST"])
@requires("users.manage")
def revoke_browser(user_id: int, browser_id: int):
    user = _user_or_404(user_id)
    if auth_service.revoke_browser(user, browser_id, by=current_user, ip=client_ip()):
        flash(_("La confiance accordée à ce navigateur est révoquée."), "success")
    return redirect(url_for("access.user_detail", user_id=user.id), 303)


@bp.route("/utilisateurs/<int:user_id>/2fa/desactiver", methods=["POST"])
@requires("users.manage")
def disable_tfa(user_id: int):
    user = _user_or_404(user_id)
    auth_service.set_tfa_state(user, TFA_DISABLED, by=current_user, ip=client_ip())
    auth_service.revoke_all_browsers(user)
    flash(_("La double authentification de %(name)s est désactivée. Elle pourra la "
            "réactiver depuis ses préférences.", name=user.contact.full_name), "warning")
    return redirect(url_for("access.user_detail", user_id=user.id), 303)
