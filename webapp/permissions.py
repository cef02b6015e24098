"""Permission codes and their French labels (ROLE-2). No Flask here.

Labels are French msgids; templates translate them with gettext at render time.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "sites.manage": "Gérer les sites",
    "users.manage": "Gérer les accès utilisateurs",
    "sites.access": "Accéder aux ressources des sites",
    "deployments.view": "Voir les déploiements",
    "tickets.access": "Accéder aux tickets",
    "services.manage": "Gérer les services",
    "equipment.manage": "Gérer les équipements",
    "billing.view": "Voir la facturation",
    "orders.view": "Voir les commandes",
    "calls.supervise": "Superviser les appels",
}

ADMIN_ROLE_NAME = "Administrateur"

SCOPE_ALL = "all"  # "Tous (aucune restriction)"
SCOPE_SITES = "sites"  # a list of sites, plus the default site
SCOPE_DEFAULT = "default"  # permission refused: the default site only
