"""Routes of Annuaire, Services, Équipements, Sites, Rôles and Manager access.

Restricted = demo "Responsable Lyon" (sites.access services.manage tickets.access
deployments.view; Lyon + Entrepôt + default site). POSTs are sent without their
fields: an allowed visitor gets the 400 validation answer (or a 409 refusal), so
the matrix never deletes demo data.
"""

from tests.routes import ALLOWED, Route


def _equipment(mac: str) -> int:
    from webapp.models import Equipment

    return Equipment.get(Equipment.mac == mac).id


def _role(d, name: str) -> int:
    from webapp.models import Role

    return Role.get((Role.account == d.account_id) & (Role.name == name)).id


EQ_PARIS = lambda d: {"equipment_id": _equipment("00:15:65:00:01:01")}  # noqa: E731
EQ_LYON = lambda d: {"equipment_id": _equipment("00:04:13:00:01:02")}  # noqa: E731
LYON_ROLE = lambda d: {"role_id": _role(d, "Responsable Lyon")}  # noqa: E731
SITE_LYON = lambda d: {"site_id": d.ids["site_lyon"]}  # noqa: E731
SVC_LYON = lambda d: {"service_id": d.ids["fixed_lyon"]}  # noqa: E731
SITES = dict(restricted=403, other=404)
ACCESS = dict(restricted=403, other=404)

ROUTES = [
    # Annuaire (DIR-1)
    Route("pickers.sites"),
    Route("pickers.contact_emails"),
    Route("directory.contacts"),
    Route("directory.contact", args=lambda d: {"contact_id": d.ids["contact_paris"]},
          restricted=404, other=404),
    Route("directory.new"),
    Route("directory.new", "POST"),
    Route("directory.edit", args=lambda d: {"contact_id": d.ids["contact_lyon"]}, other=404),
    Route("directory.edit", "POST", args=lambda d: {"contact_id": d.ids["contact_lyon"]},
          other=404),
    Route("directory.delete", args=lambda d: {"contact_id": d.ids["contact_bordeaux"]},
          restricted=404, other=404),
    Route("directory.delete", "POST", args=lambda d: {"contact_id": d.ids["contact_lyon"]},
          other=404),
    # Services (DIR-2/3/4, SITE-3)
    Route("services.index"),
    Route("services.detail", args=lambda d: {"service_id": d.ids["fixed_paris"]},
          restricted=404, other=404),
    Route("services.associate", "POST", args=SVC_LYON, other=404),
    Route("services.dissociate", "POST", args=SVC_LYON, other=404),
    Route("services.set_holder", "POST", args=SVC_LYON, other=404),
    Route("services.assign_site", "POST", args=SVC_LYON, restricted=403, other=404),
    Route("services.softphone_credentials", "POST",
          args=lambda d: {"service_id": d.ids["fixed_entrepot"]}, other=404),
    Route("services.softphone_credentials",
          args=lambda d: {"service_id": d.ids["fixed_entrepot"]}, other=404),
    Route("services.softphone_issued",
          args=lambda d: {"service_id": d.ids["fixed_entrepot"]}, other=404),
    # Équipements
    Route("services.equipment"),
    Route("services.equipment_new", restricted=403),
    Route("services.equipment_new", "POST", restricted=403),
    Route("services.equipment_detail", args=EQ_PARIS, restricted=404, other=404),
    Route("services.equipment_detail", "POST", args=EQ_LYON, restricted=403, other=404),
    Route("services.equipment_site", "POST", args=EQ_LYON, restricted=403, other=404),
    Route("services.equipment_delete", args=EQ_LYON, restricted=403, other=404),
    Route("services.equipment_delete", "POST", args=EQ_LYON, restricted=403, other=404),
    # Sites (SITE-1..4): "Gérer les sites" only
    Route("sites.tree", restricted=403, other=ALLOWED),
    Route("sites.branch", args=SITE_LYON, **SITES),
    Route("sites.row", args=SITE_LYON, **SITES),
    Route("sites.create", "POST", restricted=403, other=ALLOWED),
    Route("sites.add_form", args=SITE_LYON, **SITES),
    Route("sites.rename", args=SITE_LYON, **SITES),
    Route("sites.rename", "POST", args=SITE_LYON, **SITES),
    Route("sites.delete", args=SITE_LYON, **SITES),
    Route("sites.delete", "POST", args=SITE_LYON, **SITES),
    Route("sites.detail", args=SITE_LYON, **SITES),
    # Rôles and Manager access (ROLE-1..3, ACC-1)
    Route("access.roles", restricted=403),
    Route("access.role_new", restricted=403),
    Route("access.role_new", "POST", restricted=403),
    Route("access.role_edit", args=LYON_ROLE, **ACCESS),
    Route("access.role_edit", "POST", args=LYON_ROLE, **ACCESS),
    Route("access.role_delete", args=LYON_ROLE, **ACCESS),
    Route("access.role_delete", "POST", args=LYON_ROLE, **ACCESS),
    Route("access.user_new", restricted=403),
    Route("access.user_new", "POST", restricted=403),
    Route("access.user_roles_update", "POST",
          args=lambda d: {"user_id": d.restricted_user_id}, **ACCESS),
    Route("access.user_remove", args=lambda d: {"user_id": d.restricted_user_id}, **ACCESS),
    Route("access.user_remove", "POST", args=lambda d: {"user_id": d.restricted_user_id},
          **ACCESS),
]
