"""Custom roles (ROLE-1..3) and Manager access (ACC-1): who may grant what.

Anti-escalation rule: someone holding "Gérer les accès utilisateurs" without being
an administrator can only create, edit and grant roles that stay within their own
permissions and site scope, and never touches an administrator's access.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from peewee import SqliteDatabase, fn

from webapp.db import db
from webapp.i18n import N_, _
from webapp.models import Account, Contact, Licence, Role, RoleSite, Site, User, UserRole
from webapp.permissions import PERMISSIONS, SCOPE_ALL, SCOPE_DEFAULT, SCOPE_SITES
from webapp.services import audit
from webapp.services.access import Access, may_have_account, with_descendants
from webapp.services.actor import Actor
from webapp.services.errors import FormError

SCOPES = {
    SCOPE_ALL: _("Tous (aucune restriction)"),
    SCOPE_SITES: _("Une liste de sites (et le site par défaut)"),
    SCOPE_DEFAULT: _("Site par défaut uniquement"),
}


class AccessError(FormError):
    """A refusal of this area, with its message (webapp.services.errors)."""


class BeyondRights(AccessError):
    """Refused because the actor lacks rights the action needs — the guard on another
    user (SEC-1/2: nobody acts on a user who holds rights they lack), a role wider than
    their own: views answer 403, not a validation status."""


@dataclass
class RoleForm:
    name: str = ""
    permissions: list[str] = field(default_factory=list)
    scope: str = SCOPE_DEFAULT
    site_ids: list[int] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data) -> RoleForm:
        ids = []
        for raw in data.getlist("sites"):
            try:
                ids.append(int(raw))
            except ValueError:
                continue
        return cls(" ".join(data.get("name", "").split()), data.getlist("permissions"),
                   data.get("scope", SCOPE_DEFAULT), ids)

    @classmethod
    def from_role(cls, role: Role) -> RoleForm:
        return cls(role.name, sorted(role.permission_set), role.scope,
                   [rs.site_id for rs in role.site_links])


def roles_of(account_id: int) -> list[tuple[Role, int]]:
    """Every role with its number of users, Administrateur first."""
    counts = dict(UserRole.select(UserRole.role, fn.COUNT(UserRole.id))
                  .join(Role).where(Role.account == account_id)
                  .group_by(UserRole.role).tuples())
    roles = Role.select().where(Role.account == account_id).order_by(
        Role.builtin.desc(), fn.LOWER(Role.name))
    return [(r, counts.get(r.id, 0)) for r in roles]


def role_site_ids(role: Role) -> set[int]:
    return {rs.site_id for rs in RoleSite.select().where(RoleSite.role == role.id)}


def within_reach(access: Access, role: Role) -> bool:
    """May the acting user grant this role (no escalation)?"""
    if access.is_admin:
        return True
    if role.builtin or not role.permission_set <= access.permissions:
        return False
    if access.site_ids is None or role.scope == SCOPE_DEFAULT:
        return True
    if role.scope == SCOPE_ALL:
        return False
    return with_descendants(access.account_id, role_site_ids(role)) <= access.site_ids


def validate(access: Access, form: RoleForm, role: Role | None = None) -> dict:
    errors = form.errors
    if not form.name:
        errors["name"] = _("Indiquez le nom du rôle.")
    elif len(form.name) > 80:
        errors["name"] = _("80 caractères au plus.")
    elif Role.select().where((Role.account == access.account_id)
                             & (fn.LOWER(Role.name) == form.name.lower())
                             & (Role.id != (role.id if role else 0))).exists():
        errors["name"] = _("Un rôle porte déjà ce nom.")
    perms = [p for p in PERMISSIONS if p in form.permissions]
    if len(perms) != len(set(form.permissions)):
        errors["permissions"] = "Permission inconnue."
    elif not perms:
        errors["permissions"] = _("Cochez au moins une permission.")
    elif not access.is_admin and not set(perms) <= access.permissions:
        errors["permissions"] = (_("Vous ne pouvez pas accorder une permission que vous "
                                 "n'avez pas vous-même."))
    scope = form.scope if "sites.access" in perms else SCOPE_DEFAULT
    if scope not in (SCOPE_ALL, SCOPE_SITES):
        scope = SCOPE_DEFAULT
    sites: list[int] = []
    if scope == SCOPE_SITES:
        rows = dict(Site.select(Site.id, Site.is_default)
                    .where(Site.account == access.account_id).tuples())
        asked = [i for i in dict.fromkeys(form.site_ids) if not rows.get(i)]  # default: implied
        sites = [i for i in asked if i in rows]
        if not sites or len(sites) != len(asked):
            errors["sites"] = _("Choisissez au moins un site dans la liste.")
        elif access.site_ids is not None and not set(sites) <= access.site_ids:
            errors["sites"] = _("Vous ne pouvez accorder que des sites de votre propre périmètre.")
    elif scope == SCOPE_ALL and not access.is_admin and access.site_ids is not None:
        errors["scope"] = (_("Votre propre accès est limité à certains sites : vous ne pouvez "
                           "pas accorder « Tous »."))
    form.scope = scope
    return {} if errors else {"name": form.name, "permissions": " ".join(perms),
                              "scope": scope, "sites": sites}


def save(access: Access, values: dict, role: Role | None = None, *, actor: Actor) -> Role:
    if role is not None and role.builtin:
        raise AccessError(_("Le rôle Administrateur n'est pas modifiable."))
    with db.atomic():
        fields = {k: values[k] for k in ("name", "permissions", "scope")}
        if role is None:
            role = Role.create(account=access.account_id, **fields)
        else:
            Role.update(**fields).where(Role.id == role.id).execute()
            RoleSite.delete().where(RoleSite.role == role.id).execute()
        for site_id in values["sites"]:
            RoleSite.create(role=role.id, site=site_id)
    audit.record("role.saved", account=access.account_id, actor=actor, role=role.id,
                 **values)
    return Role.get_by_id(role.id)


def delete(access: Access, role: Role, *, actor: Actor) -> None:
    if role.builtin:
        raise AccessError(_("Le rôle Administrateur ne peut pas être supprimé."))
    users = UserRole.select().where(UserRole.role == role.id).count()
    if users:
        raise AccessError(_("Ce rôle est attribué à %(n)s utilisateur(s) : retirez-le-leur "
                          "d'abord."), n=users)
    role.delete_instance(recursive=True)
    audit.record("role.deleted", account=access.account_id, actor=actor, role=role.id,
                 name=role.name)


# --- Manager access -------------------------------------------------------------

def find_contact(account_id: int, email: str) -> Contact | None:
    address = email.strip().lower()
    if not address:
        return None
    return (Contact.select().where((Contact.account == account_id)
                                   & (fn.LOWER(Contact.email) == address))
            .order_by(Contact.id).first())


def _roles_to_grant(access: Access, role_ids: list[int]) -> list[Role]:
    roles = list(Role.select().where((Role.account == access.account_id)
                                     & Role.id.in_(role_ids or [0])))
    if not roles or len(roles) != len(set(role_ids)):
        raise AccessError(_("Choisissez au moins un rôle dans la liste."))
    if not any(r.permission_set for r in roles):
        raise AccessError(_("L'accès au Manager demande au moins un rôle avec des permissions."))
    if not all(within_reach(access, r) for r in roles):
        raise BeyondRights(_("Vous ne pouvez pas attribuer un rôle plus large que vos propres "
                             "droits."))
    return roles


WIDER_RIGHTS = N_("Cet utilisateur a des droits plus larges que les vôtres : seul un "
                "administrateur peut modifier son accès.")


def may_act_on(access: Access, target: User) -> bool:
    """The guard of every action on another user (roles, removal, 2FA, browsers, e-mail):
    nobody acts on a user who holds rights they lack, nor outside their account."""
    if target.account_id != access.account_id:
        return False
    current = list(Role.select().join(UserRole).where(UserRole.user == target.id))
    return access.is_admin or all(within_reach(access, r) for r in current)


def _guard_target(access: Access, target: User, acting: User | None = None) -> None:
    if not may_act_on(access, target):
        raise BeyondRights(WIDER_RIGHTS)


def _write_lock(account_id: int):
    """SEC-8: a transaction that holds the account's write lock from its first statement,
    so that two concurrent removals cannot both count the other administrator: SQLite
    takes the database's write lock up front (BEGIN IMMEDIATE); PostgreSQL locks the
    account row (SELECT … FOR UPDATE) until commit."""
    @contextmanager
    def locked():
        database = db.obj if hasattr(db, "obj") else db
        if isinstance(database, SqliteDatabase) and not database.in_transaction():
            with database.atomic("IMMEDIATE"):
                yield
        else:
            with db.atomic():
                if not isinstance(database, SqliteDatabase):
                    list(Account.select(Account.id).where(Account.id == account_id)
                         .for_update())
                yield

    return locked()


def _admins_left(account_id: int, excluding_user: int) -> int:
    return (UserRole.select().join(Role).switch(UserRole).join(User)
            .where((Role.account == account_id) & Role.builtin & User.is_active
                   & (UserRole.user != excluding_user)).count())


def grant(access: Access, contact: Contact, role_ids: list[int], *, actor: Actor) -> User:
    """ACC-1: give a contact Manager access with roles; it signs in with its e-mail."""
    if not contact.email:
        raise AccessError(_("Ce contact n'a pas d'adresse e-mail : ajoutez-la d'abord dans "
                          "l'annuaire, c'est son identifiant de connexion."))
    roles = _roles_to_grant(access, role_ids)
    with db.atomic():
        user = User.get_or_none(User.contact == contact.id)
        if user is None:
            if User.select().where(User.email == contact.email.lower()).exists():
                raise AccessError(_("Cette adresse e-mail est déjà celle d'un autre utilisateur."))
            user = User(account=contact.account_id, contact=contact.id,
                        email=contact.email.lower())
        if not may_have_account(user) and not Licence.select().where(
                Licence.contact == contact.id).exists():
            raise AccessError(_("Seuls les contacts ayant au moins un service ou une licence "
                              "associés peuvent avoir un compte : associez-lui d'abord un "
                              "service."))
        if UserRole.select().where(UserRole.user == user.id).exists() if user.id else False:
            raise AccessError(_("Ce contact a déjà accès au Manager : modifiez ses rôles depuis "
                              "sa fiche utilisateur."))
        user.is_active = True
        user.save()
        Licence.get_or_create(account=contact.account_id, contact=contact.id,
                              product="manager")
        for role in roles:
            UserRole.create(user=user, role=role)
    audit.record("user.manager_granted", account=access.account_id, actor=actor,
                 target=user.id, roles=[r.name for r in roles])
    return user


def set_roles(access: Access, target: User, role_ids: list[int], *, actor: Actor) -> None:
    """Takes effect on the target's next request (access is computed per request)."""
    _guard_target(access, target, actor.user)
    roles = _roles_to_grant(access, role_ids)
    with _write_lock(access.account_id):
        if not any(r.builtin for r in roles) and _is_admin(target) and not _admins_left(
                access.account_id, target.id):
            raise AccessError(_("Il doit rester au moins un administrateur : gardez le rôle "
                              "Administrateur à cet utilisateur."))
        UserRole.delete().where(UserRole.user == target.id).execute()
        for role in roles:
            UserRole.create(user=target, role=role)
    audit.record("user.roles_changed", account=access.account_id, actor=actor,
                 target=target.id, roles=[r.name for r in roles])


def _is_admin(user: User) -> bool:
    return UserRole.select().join(Role).where((UserRole.user == user.id) & Role.builtin).exists()


def remove(access: Access, target: User, *, actor: Actor) -> None:
    """Removes every role; the caller ends the target's sessions at once."""
    if target.id == actor.user.id:
        raise AccessError(_("Vous ne pouvez pas retirer votre propre accès au Manager."))
    _guard_target(access, target, actor.user)
    with _write_lock(access.account_id):  # the check and the removal as one (SEC-8)
        if _is_admin(target) and not _admins_left(access.account_id, target.id):
            raise AccessError(_("C'est le dernier administrateur du compte : son accès ne peut "
                              "pas être retiré."))
        UserRole.delete().where(UserRole.user == target.id).execute()
        Licence.delete().where((Licence.contact == target.contact_id)
                               & (Licence.product == "manager")).execute()
    audit.record("user.manager_removed", account=access.account_id, actor=actor,
                 target=target.id)


def user_of_account(account_id: int, user_id: int) -> User | None:
    return User.get_or_none((User.id == user_id) & (User.account == account_id))


def users_of_account(account_id: int):
    """The account's users with their contact, by name."""
    return (User.select(User, Contact).join(Contact).where(User.account == account_id)
            .order_by(Contact.last_name, Contact.first_name))
