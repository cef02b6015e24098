"""Préférences > Gestion des accès > Utilisateurs: Manager users and their 2FA (TFA-5)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.i18n import N_
from webapp.models import Role, User
from webapp.rendering import ask_confirmation, render, saved
from webapp.security import current_access, current_actor, get_for_account_or_404, requires
from webapp.services import auth as auth_service
from webapp.services import password_links, trusted_browsers
from webapp.services import roles as roles_service
from webapp.services import sites as sites_service
from webapp.services.access import user_roles
from webapp.services.roles import AccessError, BeyondRights, RoleForm
from webapp.translate import translate

bp = Blueprint("access", __name__, url_prefix="/preferences/acces")


def _user_or_404(user_id: int) -> User:
    user = roles_service.user_of_account(current_access().account_id, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/utilisateurs")
@requires("users.manage")
def users():
    rows = roles_service.users_of_account(current_access().account_id)
    managers = [(user, user_roles(user)) for user in rows]
    return render("access/users.html", users=[(u, r) for u, r in managers if r])


@bp.route("/utilisateurs/<int:user_id>")
@requires("users.manage")
def user_detail(user_id: int):
    return _user_page(_user_or_404(user_id))


def _refusal_status(error: AccessError, otherwise: int) -> int:
    """403 when the actor lacks the rights (the guard on another user, a role wider than
    theirs: SEC-1/2), `otherwise` for a refusal of what was asked (last administrator…)."""
    return 403 if isinstance(error, BeyondRights) else otherwise


def _user_page(user: User, status: int = 200, error: str | None = None):
    roles = user_roles(user)
    return render("access/user_detail.html", status=status, user=user, roles=roles,
                  browsers=trusted_browsers.active_trusted_browsers(user), error=error,
                  grantable=_grantable_roles(), chosen={r.id for r in roles},
                  editable=all(roles_service.within_reach(current_access(), r)
                               for r in roles))


@bp.route("/utilisateurs/<int:user_id>/navigateurs/<int:browser_id>/revoquer",
          methods=["POST"])
@requires("users.manage")
def revoke_browser(user_id: int, browser_id: int):
    user = _user_or_404(user_id)
    try:
        if trusted_browsers.revoke_browser(user, browser_id, actor=current_actor(),
                                           access=current_access(),
                                           settings=current_app.extensions["cm_settings"]):
            flash(_("La confiance accordée à ce navigateur est révoquée."), "success")
    except AccessError as refused:
        return _user_page(user, status=403, error=translate(refused.message))
    return redirect(url_for("access.user_detail", user_id=user.id), 303)


@bp.route("/utilisateurs/<int:user_id>/2fa/desactiver", methods=["POST"])
@requires("users.manage")
def disable_tfa(user_id: int):
    user = _user_or_404(user_id)
    try:
        trusted_browsers.disable_tfa_of(current_access(), user, actor=current_actor(),
                                        settings=current_app.extensions["cm_settings"])
    except AccessError as refused:
        return _user_page(user, status=403, error=translate(refused.message))
    flash(_("La double authentification est désactivée pour %(name)s, qui pourra la "
            "réactiver depuis ses préférences.", name=user.contact.full_name), "warning")
    return redirect(url_for("access.user_detail", user_id=user.id), 303)


# --- Rôles (ROLE-1..3) and giving / removing Manager access (ACC-1) ---------------

def _role_or_404(role_id: int) -> Role:
    return get_for_account_or_404(Role, role_id)


def _role_page(form: RoleForm, role: Role | None = None, status: int = 200, error=None):
    return render("access/role_form.html", status=status, form=form, role=role, error=error,
                  scopes=roles_service.SCOPES, sites=sites_service.options(current_access()))


@bp.route("/roles")
@requires("users.manage")
def roles():
    return render("access/roles.html", roles=roles_service.roles_of(current_access().account_id))


@bp.route("/roles/nouveau", methods=["GET", "POST"])
@requires("users.manage")
def role_new():
    if request.method == "GET":
        return _role_page(RoleForm())
    form = RoleForm.from_data(request.form)
    values = roles_service.validate(current_access(), form)
    if not values:
        return _role_page(form, status=400)
    role = roles_service.save(current_access(), values, actor=current_actor())
    return saved(_("Le rôle « %(name)s » est créé.", name=role.name), url_for("access.roles"))


@bp.route("/roles/<int:role_id>", methods=["GET", "POST"])
@requires("users.manage")
def role_edit(role_id: int):
    role = _role_or_404(role_id)
    access = current_access()
    if request.method == "GET":
        return _role_page(RoleForm.from_role(role), role)
    form = RoleForm.from_data(request.form)
    if role.builtin or not roles_service.within_reach(access, role):
        return _role_page(form, role, status=403, error=_(
            "Le rôle Administrateur n'est pas modifiable." if role.builtin else
            "Ce rôle dépasse vos propres droits : seul un administrateur peut le modifier."))
    values = roles_service.validate(access, form, role)
    if not values:
        return _role_page(form, role, status=400)
    roles_service.save(access, values, role, actor=current_actor())
    return saved(_("Le rôle « %(name)s » est enregistré. Les utilisateurs concernés ont leurs "
                   "nouveaux droits dès leur prochaine page.", name=values["name"]),
                 url_for("access.roles"))


@bp.route("/roles/<int:role_id>/supprimer", methods=["GET", "POST"])
@requires("users.manage")
def role_delete(role_id: int):
    role = _role_or_404(role_id)
    ask_confirmation("access/role_delete.html", role=role)
    try:
        if not roles_service.within_reach(current_access(), role) and not role.builtin:
            raise BeyondRights(_("Ce rôle dépasse vos propres droits : seul un administrateur "
                                 "peut le supprimer."))
        roles_service.delete(current_access(), role, actor=current_actor())
    except AccessError as error:
        return render("access/role_delete.html", status=_refusal_status(error, 409), role=role,
                      error=translate(error.message))
    return saved(_("Le rôle « %(name)s » est supprimé.", name=role.name), url_for("access.roles"))


def _grantable_roles():
    access = current_access()
    return [r for r, _n in roles_service.roles_of(access.account_id)
            if roles_service.within_reach(access, r)]


def _role_ids() -> list[int]:
    ids = []
    for raw in request.form.getlist("roles"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    return ids


@bp.route("/utilisateurs/nouveau", methods=["GET", "POST"])
@requires("users.manage")
def user_new():
    access = current_access()
    if request.method == "GET":
        return render("access/user_new.html", email=request.args.get("email", ""),
                      chosen=[], roles=_grantable_roles(), error=None)
    email = request.form.get("email", "").strip()
    chosen = _role_ids()
    contact = roles_service.find_contact(access.account_id, email)
    try:
        if contact is None or not access.sees_site(contact.site_id) and contact.site_id:
            raise AccessError(_("Aucun contact de l'annuaire n'a cette adresse e-mail : "
                                "ajoutez-le d'abord à l'annuaire."))
        user = roles_service.grant(access, contact, chosen, actor=current_actor())
    except AccessError as error:
        return render("access/user_new.html", status=_refusal_status(error, 400), email=email,
                      chosen=chosen, roles=_grantable_roles(), error=translate(error.message))
    sent = password_links.send_password_link(
        user.email, settings=current_app.extensions["cm_settings"], actor=current_actor(),
        invitation=True, invited_by=current_user.contact.full_name)
    return saved(_("%(name)s a maintenant accès au Manager.", name=contact.full_name)
                 + (" " + _("Un e-mail lui permet de définir son mot de passe.")
                    if sent and not user.password_hash else ""),
                 url_for("access.user_detail", user_id=user.id))


@bp.route("/utilisateurs/<int:user_id>/roles", methods=["POST"])
@requires("users.manage")
def user_roles_update(user_id: int):
    user = _user_or_404(user_id)
    try:
        roles_service.set_roles(current_access(), user, _role_ids(), actor=current_actor())
    except AccessError as error:
        return _user_page(user, status=_refusal_status(error, 400),
                          error=translate(error.message))
    return saved(_("Les rôles sont enregistrés : ils s'appliquent dès la prochaine page de "
                   "l'utilisateur."),
                 url_for("access.user_detail", user_id=user.id))


@bp.route("/utilisateurs/<int:user_id>/retirer", methods=["GET", "POST"])
@requires("users.manage")
def user_remove(user_id: int):
    user = _user_or_404(user_id)
    ask_confirmation("access/user_remove.html", N_("Confirmez en cochant la case."), user=user)
    try:
        roles_service.remove(current_access(), user, actor=current_actor())
    except AccessError as error:
        return render("access/user_remove.html", status=_refusal_status(error, 409), user=user,
                      error=translate(error.message))
    auth_service.end_all_sessions(user)
    return saved(_("%(name)s n'a plus accès au Manager ; ses sessions sont terminées.",
                   name=user.contact.full_name),
                 url_for("access.users"))
