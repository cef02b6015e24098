"""The side menu: what appears is what the user may open (ROLE-*), and which entry
a page lights (`lights`)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, g, request, url_for

from webapp.i18n import N_
from webapp.services.access import Access


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str  # French msgid
    endpoint: str
    any_of: tuple[str, ...] = ()  # shown when the user holds one of these (empty: everyone)
    description: str = ""


NAV: tuple[NavItem, ...] = (
    NavItem("dashboard", N_("Tableau de bord"), "main.dashboard"),
    NavItem("directory", N_("Annuaire"), "directory.contacts",
            description=N_("Les contacts de votre entreprise, leurs services et licences.")),
    NavItem("services", N_("Services"), "services.index",
            description=N_("Vos lignes fixes, mobiles, fax et numéros d'accueil.")),
    NavItem("configure", N_("Configurer"), "welcome.index", ("services.manage", "calls.supervise"),
            description=N_("Numéros d'accueil, files d'attente et standard.")),
    NavItem("switchboard", N_("Standard"), "switchboard.index",
            ("calls.supervise", "services.manage"),
            description=N_("Les appels en attente et les agents, en direct.")),
    NavItem("my_line", N_("Ma ligne"), "breaks.mine",
            description=N_("Vos pauses d'agent des files d'attente.")),
    NavItem("store", N_("Store"), "store.deployments", ("deployments.view", "orders.view"),
            description=N_("Vos déploiements et commandes.")),
    NavItem("exchange", N_("Échanger"), "tickets.index", ("tickets.access",),
            description=N_("Vos tickets avec le support.")),
    NavItem("manage", N_("Gérer"), "sites.tree", ("sites.manage",),
            description=N_("L'arborescence de vos sites.")),
)


_HREFS: dict[tuple[str, str], str] = {}  # (mount point, endpoint) → the entry's URL


def visible_items(access: Access) -> list[tuple[NavItem, str]]:
    items = []
    for item in NAV:
        if item.any_of and not any(access.can(p) for p in item.any_of):
            continue
        key = (request.script_root, item.endpoint)
        href = _HREFS.get(key)
        if href is None:
            href = _HREFS[key] = url_for(item.endpoint)
        items.append((item, href))
    return items


def lights(bp: Blueprint, key: str) -> None:
    """Every page of `bp` shows the side menu's `key` entry as the current one."""
    @bp.before_request
    def _current_entry() -> None:
        g.active_nav = key
