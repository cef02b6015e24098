"""The site tree (SITE-1..4): lazy branches, create, rename, delete, "Affecter un site".

Plain values in and out. Callers pass the user's `Access`; every site given by id
has already been fetched through a scoped helper by the view.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from peewee import fn

from webapp.db import db
from webapp.i18n import _
from webapp.models import Equipment, Service, Site
from webapp.services import audit
from webapp.services.access import Access
from webapp.services.actor import Actor
from webapp.services.errors import FormError

NAME_MAX = 120
BRANCH_PAGE = 100  # children shown per branch request (SITE-4: 1,000 sites stay usable)
REFUSAL_LIST_MAX = 20


class SiteError(FormError):
    """A site-tree change refused (webapp.services.errors)."""


@dataclass
class Node:
    """One row of the tree: the site with what the row shows (no children loaded)."""

    site: Site
    child_count: int = 0
    service_count: int = 0
    equipment_count: int = 0
    children: list[Node] | None = None  # None: collapsed
    more_after: int | None = None  # offset of the next page of children, if any


@dataclass
class Attached:
    """What keeps a site from being deleted (SITE-2)."""

    services: list[Service] = field(default_factory=list)
    equipment: list[Equipment] = field(default_factory=list)
    service_total: int = 0
    equipment_total: int = 0

    @property
    def empty(self) -> bool:
        return not (self.service_total or self.equipment_total)


def _counts(model, column, site_ids: list[int]) -> dict[int, int]:
    if not site_ids:
        return {}
    rows = (model.select(column, fn.COUNT(model.id)).where(column.in_(site_ids))
            .group_by(column).tuples())
    return dict(rows)


def nodes_for(sites: list[Site]) -> list[Node]:
    """Rows with their counts, in three grouped queries whatever the number of sites."""
    ids = [s.id for s in sites]
    children = _counts(Site, Site.parent, ids)
    services = _counts(Service, Service.site, ids)
    equipment = _counts(Equipment, Equipment.site, ids)
    return [Node(s, children.get(s.id, 0), services.get(s.id, 0), equipment.get(s.id, 0))
            for s in sites]


def _ordered(query):
    return query.order_by(Site.is_default.desc(), fn.LOWER(Site.name), Site.id)


def root_sites(access: Access) -> list[Site]:
    """Top of the tree the user sees: the account's roots, or the roots of their scope."""
    query = Site.select().where(Site.account == access.account_id)
    if access.site_ids is None:
        query = query.where(Site.parent.is_null())
    else:
        ids = list(access.site_ids)
        query = query.where(Site.id.in_(ids) & (Site.parent.is_null()
                                                | Site.parent.not_in(ids)))
    return list(_ordered(query))


def children_of(site: Site, offset: int = 0) -> tuple[list[Node], int | None]:
    """One page of a branch; the second value is the next offset when more remain."""
    rows = list(_ordered(Site.select().where(Site.parent == site.id))
                .offset(offset).limit(BRANCH_PAGE + 1))
    more = offset + BRANCH_PAGE if len(rows) > BRANCH_PAGE else None
    return nodes_for(rows[:BRANCH_PAGE]), more


def node(site: Site, expanded: bool = False) -> Node:
    row = nodes_for([site])[0]
    if expanded:
        row.children, row.more_after = children_of(site)
    return row


def ancestors(site: Site) -> list[Site]:
    """From the top down to the parent of `site` (depth is small; one query per level)."""
    chain: list[Site] = []
    current = site
    while current.parent_id is not None:
        current = Site.get_by_id(current.parent_id)
        chain.append(current)
    return list(reversed(chain))


def tree(access: Access, open_site: Site | None = None) -> list[Node]:
    """The first render: roots only, plus the path down to `open_site` when given."""
    roots = nodes_for(root_sites(access))
    if open_site is None:
        return roots
    path = {s.id for s in ancestors(open_site)} | {open_site.id}
    level = roots
    while level:
        target = next((n for n in level if n.site.id in path), None)
        if target is None:
            break
        target.children, target.more_after = children_of(target.site)
        level = target.children
    return roots


def subtree_ids(site: Site) -> list[int]:
    """`site` and every site below it, breadth first, one query per level."""
    found = [site.id]
    frontier = [site.id]
    while frontier:
        frontier = [i for (i,) in Site.select(Site.id).where(Site.parent.in_(frontier)).tuples()]
        found.extend(frontier)
    return found


def attached(site: Site) -> Attached:
    ids = subtree_ids(site)
    services = Service.select().where(Service.site.in_(ids))
    equipment = Equipment.select().where(Equipment.site.in_(ids))
    return Attached(
        services=list(services.order_by(Service.number).limit(REFUSAL_LIST_MAX)),
        equipment=list(equipment.order_by(Equipment.mac).limit(REFUSAL_LIST_MAX)),
        service_total=services.count(),
        equipment_total=equipment.count(),
    )


def contents(site: Site, limit: int = 200) -> tuple[list[Service], list[Equipment]]:
    """What is attached directly to `site` (SITE-1)."""
    return (list(Service.select().where(Service.site == site.id).order_by(Service.number)
                 .limit(limit)),
            list(Equipment.select().where(Equipment.site == site.id).order_by(Equipment.mac)
                 .limit(limit)))


def clean_name(name: str | None) -> str:
    return " ".join((name or "").split())


def _check_name(account_id: int, parent_id: int | None, name: str,
                exclude: int | None = None) -> str:
    name = clean_name(name)
    if not name:
        raise SiteError(_("Indiquez le nom du site."))
    if len(name) > NAME_MAX:
        raise SiteError(_("Le nom ne peut dépasser %(max)s caractères."), max=NAME_MAX)
    clash = Site.select().where(
        (Site.account == account_id) & (fn.LOWER(Site.name) == name.lower())
        & (Site.parent.is_null() if parent_id is None else Site.parent == parent_id)
    )
    if exclude is not None:
        clash = clash.where(Site.id != exclude)
    if clash.exists():
        raise SiteError(_("Un site nommé « %(name)s » existe déjà à cet endroit de "
                        "l'arborescence. Choisissez un autre nom."), name=name)
    return name


def create(access: Access, parent: Site | None, name: str, *, actor: Actor) -> Site:
    """A site at the top (unrestricted users only) or under `parent` (in scope)."""
    if parent is None and access.site_ids is not None:
        raise SiteError(_("Votre rôle est limité à certains sites : créez le nouveau site "
                        "sous l'un d'eux."))
    with db.atomic():
        name = _check_name(access.account_id, parent.id if parent else None, name)
        site = Site.create(account=access.account_id, parent=parent, name=name)
    audit.record("site.created", account=access.account_id, actor=actor, site=site.id,
                 name=name, parent=parent.id if parent else None)
    return site


def rename(access: Access, site: Site, name: str, *, actor: Actor) -> Site:
    with db.atomic():
        new = _check_name(access.account_id, site.parent_id, name, exclude=site.id)
        old = site.name
        Site.update(name=new).where(Site.id == site.id).execute()
        site.name = new
    if old != new:
        audit.record("site.renamed", account=access.account_id, actor=actor, site=site.id,
                     old=old, new=new)
    return site


def delete(access: Access, site: Site, *, actor: Actor) -> Attached:
    """Deletes `site` and its (empty) sub-sites; returns what is attached when refused."""
    if site.is_default:
        raise SiteError(_("Le site par défaut ne peut pas être supprimé : chaque compte en "
                        "garde un."))
    with db.atomic():
        found = attached(site)
        if not found.empty:
            return found
        ids = subtree_ids(site)
        # Deepest first: parents are RESTRICT-protected against orphaned children.
        for site_id in reversed(ids):
            Site.delete().where(Site.id == site_id).execute()
    audit.record("site.deleted", account=access.account_id, actor=actor, site=site.id,
                 name=site.name, subsites=len(ids) - 1)
    return found


def assign(access: Access, obj: Service | Equipment, site: Site, *, actor: Actor):
    """SITE-3: attach a service or equipment to another site in the user's scope."""
    previous = obj.site_id
    if previous == site.id:
        return obj
    type(obj).update(site=site.id).where(type(obj).id == obj.id).execute()
    obj.site = site
    kind = "service" if isinstance(obj, Service) else "equipment"
    audit.record(f"{kind}.site_assigned", account=access.account_id, actor=actor,
                 **{kind: obj.id}, old_site=previous, new_site=site.id)
    return obj


def options(access: Access) -> list[tuple[int, str, int]]:
    """(id, name, depth) of every site in scope, in tree order, for "Affecter un site"."""
    rows = list(Site.select(Site.id, Site.name, Site.parent, Site.is_default)
                .where(Site.account == access.account_id).tuples())
    children: dict[int | None, list[tuple]] = defaultdict(list)
    for row in rows:
        children[row[2]].append(row)
    for siblings in children.values():
        siblings.sort(key=lambda r: (not r[3], r[1].lower()))
    result: list[tuple[int, str, int]] = []
    stack = [(r, 0) for r in reversed(children[None])]
    while stack:
        (site_id, name, _parent, _default), depth = stack.pop()
        if access.sees_site(site_id):
            result.append((site_id, name, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(site_id, [])))
    return result


def paths(site_ids: set[int], account_id: int) -> dict[int, str]:
    """"Paris — Siège › Accueil" for each id, from one query of the account's sites."""
    rows = {i: (name, parent) for i, name, parent in
            Site.select(Site.id, Site.name, Site.parent)
            .where(Site.account == account_id).tuples()}
    return {site_id: _path(rows, site_id) for site_id in site_ids}


def _path(rows: dict[int, tuple[str, int | None]], site_id: int) -> str:
    """A site's path, "Région › Ville › Agence", from (name, parent) by id (50 levels)."""
    parts, current = [], site_id
    while current is not None and current in rows and len(parts) < 50:
        name, current = rows[current]
        parts.append(name)
    return " › ".join(reversed(parts))


# --- site pickers (SCALE-4) ----------------------------------------------------------------

PICKER_SELECT_MAX = 30  # up to this many sites in scope, a plain <select> of them all
PICKER_RESULTS = 20  # matches shown per search


@dataclass
class SitePicker:
    """What a site field shows: every site (small accounts) or the chosen ones plus the
    matches of a search (HTMX active search, or the plain search page without JS)."""

    small: bool
    options: list[tuple[int, str, int]] = field(default_factory=list)  # small: the tree
    selected: list[tuple[int, str]] = field(default_factory=list)  # (id, path)
    matches: list[tuple[int, str]] = field(default_factory=list)  # (id, path)
    q: str = ""


def _scoped(access: Access):
    query = Site.select(Site.id).where(Site.account == access.account_id)
    if access.site_ids is not None:
        query = query.where(Site.id.in_(list(access.site_ids)))
    return query


def labels(site_ids, account_id: int) -> dict[int, str]:
    """Paths of a few sites ("Région › Ville › Agence"), one query per tree level."""
    wanted = {int(i) for i in site_ids if str(i).isdigit()}
    rows: dict[int, tuple[str, int | None]] = {}
    todo = set(wanted)
    for _level in range(50):
        if not todo:
            break
        found = list(Site.select(Site.id, Site.name, Site.parent).where(
            (Site.account == account_id) & Site.id.in_(list(todo))).tuples())
        todo = set()
        for i, name, parent in found:
            rows[i] = (name, parent)
            if parent is not None and parent not in rows:
                todo.add(parent)
    return {site_id: _path(rows, site_id) for site_id in wanted if site_id in rows}


def search_sites(access: Access, q: str, limit: int = PICKER_RESULTS) -> list[tuple[int, str]]:
    """Sites in scope whose name contains `q` (case-insensitive), with their paths."""
    q = (q or "").strip()[:60]
    query = Site.select(Site.id).where(Site.account == access.account_id)
    if access.site_ids is not None:
        query = query.where(Site.id.in_(list(access.site_ids)))
    if q:
        query = query.where(fn.LOWER(Site.name).contains(q.lower()))
    ids = [i for (i,) in query.order_by(Site.name, Site.id).limit(limit).tuples()]
    names = labels(ids, access.account_id)
    return sorted(((i, names[i]) for i in ids if i in names), key=lambda r: r[1].lower())


def picker(access: Access, selected=(), q: str = "") -> SitePicker:
    """The site field for `access`: small accounts get the whole tree as options."""
    count = _scoped(access).count()
    if count <= PICKER_SELECT_MAX:
        return SitePicker(True, options(access), q=q)
    chosen = [str(s) for s in (selected if isinstance(selected, list | tuple | set)
                               else [selected]) if s not in (None, "")]
    names = labels(chosen, access.account_id)
    in_scope = [(int(i), names[int(i)]) for i in chosen
                if i.isdigit() and int(i) in names and access.sees_site(int(i))]
    matches = search_sites(access, q) if q else []
    picked = {i for i, _p in in_scope}
    return SitePicker(False, selected=in_scope,
                      matches=[m for m in matches if m[0] not in picked], q=q)


def site_of(account_id: int, site_id: int) -> Site | None:
    return Site.get_or_none((Site.id == site_id) & (Site.account == account_id))
