"""What a user may do and where (ROLE-1..3): permissions and site scope.

Computed from the database on every request, so that a change of roles takes
effect on the user's next request.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.db import Prepared
from webapp.models.auth import Role, RoleSite, User, UserRole
from webapp.models.core import Contact, Licence, Service, ServiceContact, Site
from webapp.permissions import PERMISSIONS, SCOPE_ALL, SCOPE_SITES


@dataclass(frozen=True)
class Access:
    account_id: int
    permissions: frozenset[str]
    # None: every site of the account; otherwise the ids in scope, sub-sites included.
    site_ids: frozenset[int] | None
    is_admin: bool = False

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def sees_site(self, site_id: int | None) -> bool:
        return self.site_ids is None or site_id in self.site_ids

    @property
    def has_manager(self) -> bool:
        return bool(self.permissions)


def user_roles(user: User) -> list[Role]:
    return list(Role.select().join(UserRole).where(UserRole.user == user).order_by(Role.name))


# every request computes it: only the columns it reads, SQL built once (SCALE-4)
_ROLES = Prepared(lambda user_id: Role.select(Role.id, Role.builtin, Role.permissions,
                                              Role.scope)
                  .join(UserRole).where(UserRole.user == user_id))
_DEFAULT_SITE = Prepared(lambda account_id: Site.select(Site.id).where(
    (Site.account == account_id) & Site.is_default).limit(1))


def access_for(user: User) -> Access:
    roles = _ROLES.rows(user.id)
    permissions: set[str] = set()
    is_admin = False
    unrestricted = False
    listed: set[int] = set()
    scoped_roles: list[int] = []
    for role in roles:
        if role.builtin:
            is_admin = unrestricted = True
            permissions.update(PERMISSIONS)
            continue
        permissions.update(role.permission_set & PERMISSIONS.keys())
        if role.scope == SCOPE_ALL:
            unrestricted = True
        elif role.scope == SCOPE_SITES:
            scoped_roles.append(role.id)
    if unrestricted:
        return Access(user.account_id, frozenset(permissions), None, is_admin)
    if scoped_roles:  # the sites of every scoped role, in one query
        listed.update(site_id for (site_id,) in RoleSite.select(RoleSite.site)
                      .where(RoleSite.role.in_(scoped_roles)).tuples())
    default = _DEFAULT_SITE.first(user.account_id)
    roots = listed | ({default.id} if default else set())
    return Access(user.account_id, frozenset(permissions),
                  frozenset(with_descendants(user.account_id, roots)), is_admin)


def with_descendants(account_id: int, roots: set[int]) -> set[int]:
    """`roots` (sites of the account) and every site below them (a scope on a site covers
    its sub-sites): one recursive query reading only the branches in scope, never the
    whole tree of a 1,000-site account on each request (SCALE-4)."""
    if not roots:
        return set()
    tree = (Site.select(Site.id)
            .where((Site.account == account_id) & Site.id.in_(list(roots)))
            .cte("scope_tree", recursive=True, columns=("id",)))
    child = Site.alias()
    tree = tree.union(child.select(child.id).join(tree, on=(child.parent == tree.c.id)))
    return {site_id for (site_id,) in tree.select_from(tree.c.id).tuples()}


def may_have_account(user: User) -> bool:
    """ACC-1: only contacts with at least one service or licence can sign in."""
    contact_id = user.contact_id
    return (
        ServiceContact.select().where(ServiceContact.contact == contact_id).exists()
        or Service.select().where(Service.holder == contact_id).exists()
        or Licence.select().where(Licence.contact == contact_id).exists()
    )


def contacts_in_scope(access: Access):
    """Contacts of the account inside the user's site scope (no site = default site)."""
    query = Contact.select().where(Contact.account == access.account_id)
    if access.site_ids is not None:
        default = Site.get_or_none((Site.account == access.account_id) & Site.is_default)
        in_scope = Contact.site.in_(list(access.site_ids))
        if default is not None and default.id in access.site_ids:
            in_scope = in_scope | Contact.site.is_null()
        query = query.where(in_scope)
    return query
