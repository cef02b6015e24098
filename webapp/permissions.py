"""Permission codes and their French labels (ROLE-2). No Flask here.

Labels are French msgids; templates translate them with gettext at render time.
"""

from __future__ import annotations

from webapp.i18n import N_

PERMISSIONS: dict[str, str] = {
    "sites.manage": N_("Gérer les sites"),
    "users.manage": N_("Gérer les accès utilisateurs"),
    "sites.access": N_("Accéder aux ressources des sites"),
    "deployments.view": N_("Voir les déploiements"),
    "tickets.access": N_("Accéder aux tickets"),
    "services.manage": N_("Gérer les services"),
    "equipment.manage": N_("Gérer les équipements"),
    "billing.view": N_("Voir la facturation"),
    "orders.view": N_("Voir les commandes"),
    "calls.supervise": N_("Superviser les appels"),
}

ADMIN_ROLE_NAME = "Administrateur"

SCOPE_ALL = "all"  # "Tous (aucune restriction)"
SCOPE_SITES = "sites"  # a list of sites, plus the default site
SCOPE_DEFAULT = "default"  # permission refused: the default site only
