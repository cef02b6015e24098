"""Gérer > Sites (SITE-1..4): the tree, edited in place with HTMX partials.

Every node action answers with the smallest piece of the tree that changed (one
row, or one node with its first level of children); without JavaScript the same
URLs answer with whole pages and redirects.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_htmx import make_response as htmx_response

from webapp.extensions import htmx
from webapp.models import Site
from webapp.navigation import lights
from webapp.rendering import ask_confirmation, render, render_block
from webapp.security import current_access, current_actor, get_for_account_or_404, requires
from webapp.services import sites as sites_service
from webapp.services.sites import SiteError
from webapp.translate import translate

bp = Blueprint("sites", __name__, url_prefix="/gerer/sites")


def site_or_404(site_id: int) -> Site:
    """Tenant and site scope (ROLE-3/4): anything else answers 404."""
    site = get_for_account_or_404(Site, site_id)
    if not current_access().sees_site(site.id):
        abort(404)
    return site


def _message(error: SiteError) -> str:
    return translate(error.message)


def _partial(block: str, status: int = 200, retarget: str | None = None,
             template: str = "sites/_node.html", **ctx):
    """One named block of a template, whatever HX-Target says (node ids are dynamic)."""
    response = htmx_response(render_block(template, block, **ctx), status, retarget=retarget,
                             reswap="outerHTML" if retarget else None)
    response.vary.add("HX-Request")
    return response


def _row_node(site: Site):
    """The node for a row-only answer, keeping whether it is shown expanded (`ouvert=1`)."""
    row_node = sites_service.node(site)
    if request.args.get("ouvert") == "1":
        row_node.children = []  # open: the children already on the page stay as they are
    return row_node


def _back_to(site: Site | None):
    return redirect(url_for("sites.tree", ouvrir=site.id) if site else url_for("sites.tree"),
                    303)

lights(bp, "manage")


@bp.route("")
@requires("sites.manage")
def tree():
    open_id = request.args.get("ouvrir", type=int)
    open_site = site_or_404(open_id) if open_id else None
    return render("sites/tree.html", roots=sites_service.tree(current_access(), open_site),
                  open_id=open_id, new_name="", error=None)


@bp.route("/<int:site_id>/branche")
@requires("sites.manage")
def branch(site_id: int):
    """Expand (`ouvert=1`, default) or collapse one node; `apres` pages long branches."""
    site = site_or_404(site_id)
    expand = request.args.get("ouvert", "1") != "0"
    if not htmx:
        return _back_to(site if expand else (site.parent if site.parent_id else None))
    offset = request.args.get("apres", type=int)
    if offset:
        children, more = sites_service.children_of(site, offset)
        return _partial("more", parent=site, children=children, more_after=more)
    return _partial("node", node=sites_service.node(site, expanded=expand))


@bp.route("/<int:site_id>/ligne")
@requires("sites.manage")
def row(site_id: int):
    """The row of a node as displayed (used by "Annuler" of the inline forms)."""
    site = site_or_404(site_id)
    if not htmx:
        return _back_to(site)
    return _partial("row", node=_row_node(site))


@bp.route("/nouveau", methods=["POST"])
@requires("sites.manage")
def create():
    parent_id = request.form.get("parent_id", type=int)
    parent = site_or_404(parent_id) if parent_id else None
    name = request.form.get("name", "")
    try:
        site = sites_service.create(current_access(), parent, name, actor=current_actor())
    except SiteError as error:
        if parent is None and htmx:
            return _partial("new_site_form", status=400, retarget="#new-site-form",
                            template="sites/tree.html", error=_message(error), new_name=name)
        if parent is None:
            return render("sites/tree.html", status=400, error=_message(error), new_name=name,
                          roots=sites_service.tree(current_access()), open_id=None)
        if htmx:
            return _partial("row", status=400, retarget=f"#row-{parent.id}",
                            node=_row_node(parent), mode="add", typed=name,
                            error=_message(error))
        return render("sites/form.html", status=400, site=parent, mode="add", typed=name,
                      error=_message(error))
    if not htmx:
        flash(_("Le site « %(name)s » est créé.", name=site.name), "success")
        return _back_to(site)
    if parent is None:
        return _partial("created_root", node=sites_service.node(site))
    return _partial("node", node=sites_service.node(parent, expanded=True), created=site.id)


@bp.route("/<int:site_id>/sous-site")
@requires("sites.manage")
def add_form(site_id: int):
    site = site_or_404(site_id)
    if htmx:
        return _partial("row", node=_row_node(site), mode="add", typed="")
    return render("sites/form.html", site=site, mode="add", typed="", error=None)


@bp.route("/<int:site_id>/renommer", methods=["GET", "POST"])
@requires("sites.manage")
def rename(site_id: int):
    site = site_or_404(site_id)
    if request.method == "GET":
        if htmx:
            return _partial("row", node=_row_node(site), mode="rename", typed=site.name)
        return render("sites/form.html", site=site, mode="rename", typed=site.name, error=None)
    name = request.form.get("name", "")
    try:
        sites_service.rename(current_access(), site, name, actor=current_actor())
    except SiteError as error:
        if htmx:
            return _partial("row", status=400, node=_row_node(site), mode="rename",
                            typed=name, error=_message(error))
        return render("sites/form.html", status=400, site=site, mode="rename", typed=name,
                      error=_message(error))
    if htmx:
        return _partial("row", node=_row_node(site))
    flash(_("Le site est renommé « %(name)s ».", name=site.name), "success")
    return _back_to(site)


@bp.route("/<int:site_id>/supprimer", methods=["GET", "POST"])
@requires("sites.manage")
def delete(site_id: int):
    site = site_or_404(site_id)
    ask_confirmation("sites/delete.html", site=site, attached=None)
    try:
        found = sites_service.delete(current_access(), site, actor=current_actor())
    except SiteError as error:
        found, message = None, _message(error)
    else:
        message = None if found.empty else _(
            "Suppression impossible : des services ou équipements sont rattachés à ce site "
            "ou à un site en dessous. Affectez-les d'abord à un autre site.")
    if message is None:
        if htmx:
            return "", 200  # the node's outerHTML becomes nothing
        flash(_("Le site « %(name)s » est supprimé.", name=site.name), "success")
        return _back_to(site.parent if site.parent_id else None)
    paths = sites_service.paths({o.site_id for o in (found.services + found.equipment)},
                                site.account_id) if found else {}
    if htmx:
        return _partial("row", status=409, retarget=f"#row-{site.id}",
                        node=_row_node(site), refusal=message, attached=found,
                        paths=paths)
    return render("sites/delete.html", status=409, site=site, attached=found, paths=paths,
                  error=message)


@bp.route("/<int:site_id>")
@requires("sites.manage")
def detail(site_id: int):
    """SITE-1: what is attached to a site (and its sub-sites, for the totals)."""
    site = site_or_404(site_id)
    services, equipment = sites_service.contents(site)
    children, more = sites_service.children_of(site)
    return render("sites/detail.html", site=site, node=sites_service.node(site),
                  ancestors=sites_service.ancestors(site), services=services,
                  equipment=equipment, children=children, more_after=more)
