"""Routes of Annuaire, Services, Équipements, Sites, Rôles and Manager access.

Restricted = demo "Responsable Lyon" (sites.access services.manage tickets.access
deployments.view; Lyon + Entrepôt + default site); users_only sees the default site only.
Bodies are real: a contact of Lyon, Lucas's Lyon line, the Lyon desk phone, throw-away
sites/roles/contacts made inside the visitor's (rolled back) transaction.
"""

from tests.routes import INVALID, Route, page_form


def _equipment(mac: str) -> int:
    from webapp.models import Equipment

    return Equipment.get(Equipment.mac == mac).id


def _role(d, name: str) -> int:
    from webapp.models import Role

    return Role.get((Role.account == d.account_id) & (Role.name == name)).id


def _contact(d, first: str) -> int:
    from webapp.models import Contact

    return Contact.get((Contact.account == d.account_id) & (Contact.first_name == first)).id


def _throwaway_contact(d) -> dict:
    """A plain contact of Lyon (no Manager access, no line) to delete."""
    from webapp.models import Contact

    return {"contact_id": Contact.create(account=d.account_id, site=d.ids["site_lyon"],
                                         first_name="Jetable", last_name="Matrice").id}


def _throwaway_site(d) -> dict:
    from webapp.models import Site

    return {"site_id": Site.create(account=d.account_id, parent=d.ids["site_lyon"],
                                   name="Jetable").id}


def _throwaway_role(d) -> dict:
    """A role holding only "Gérer les accès utilisateurs", held by nobody."""
    from webapp.models import Role

    return {"role_id": Role.create(account=d.account_id, name="Jetable",
                                   permissions="users.manage", scope="default").id}


def _grant_body(d) -> dict:
    """Sarah (default site, no Manager access; a licence makes her eligible) gets a role
    holding only "Gérer les accès utilisateurs", which the users_only visitor may grant."""
    from webapp.models import Contact, Licence

    sarah = Contact.get((Contact.account == d.account_id) & (Contact.first_name == "Sarah"))
    Licence.get_or_create(account=d.account_id, contact=sarah, product="connect")
    return {"email": sarah.email, "roles": [str(_throwaway_role(d)["role_id"])]}


def _trusted_browser(d) -> dict:
    """A trusted browser of Lucas (the restricted user), to revoke."""
    import datetime as dt

    from webapp.models import TrustedBrowser, utcnow

    row = TrustedBrowser.create(user=d.restricted_user_id, token_hash=f"matrice{d.url}"[:64],
                                browser="Firefox sur Linux", ip="192.0.2.9",
                                expires_at=utcnow() + dt.timedelta(days=7))
    return {"user_id": d.restricted_user_id, "browser_id": row.id}


EQ_PARIS = lambda d: {"equipment_id": _equipment("00:15:65:00:01:01")}  # noqa: E731
EQ_LYON = lambda d: {"equipment_id": _equipment("00:04:13:00:01:02")}  # noqa: E731
LYON_ROLE = lambda d: {"role_id": _role(d, "Responsable Lyon")}  # noqa: E731
SITE_LYON = lambda d: {"site_id": d.ids["site_lyon"]}  # noqa: E731
SVC_LYON = lambda d: {"service_id": d.ids["fixed_lyon"]}  # noqa: E731
LUCAS = lambda d: {"user_id": d.restricted_user_id}  # noqa: E731
SITES = dict(restricted=403, other=404)
ACCESS = dict(restricted=403, other=404)

ROUTES = [
    # Annuaire (DIR-1)
    Route("pickers.sites"),
    Route("pickers.lines"),
    Route("pickers.contact_emails"),
    Route("directory.contacts"),
    Route("directory.contact", args=lambda d: {"contact_id": d.ids["contact_paris"]},
          restricted=404, other=404, users_only=404),
    Route("directory.new"),
    # another account's administrator cannot put a contact on the demo's site: refused
    Route("directory.new", "POST", other=INVALID, data=lambda d: {
        "first_name": "Nina", "last_name": "Matrice", "email": "nina.matrice@example.fr",
        "phone_work": "", "phone_mobile": "06 12 34 56 78", "site_id": d.ids["site_lyon"]}),
    Route("directory.edit", args=lambda d: {"contact_id": d.ids["contact_lyon"]}, other=404),
    Route("directory.edit", "POST", args=lambda d: {"contact_id": d.ids["contact_lyon"]},
          other=404, data=page_form(lambda d: d.url, phone_mobile="06 98 76 54 32")),
    Route("directory.delete", args=lambda d: {"contact_id": d.ids["contact_bordeaux"]},
          restricted=404, other=404),
    Route("directory.delete", "POST", args=_throwaway_contact, other=404,
          data={"confirm": "1"}),
    # Services (DIR-2/3/4, SITE-3)
    Route("services.index"),
    Route("services.detail", args=lambda d: {"service_id": d.ids["fixed_paris"]},
          restricted=404, other=404, users_only=404),
    Route("services.associate", "POST", args=SVC_LYON, other=404,
          data=lambda d: {"contact_id": _contact(d, "Gabriel")}),
    Route("services.dissociate", "POST", args=SVC_LYON, other=404,
          data=lambda d: {"contact_id": d.ids["contact_lyon"]}),
    Route("services.set_holder", "POST", args=SVC_LYON, other=404, data={"holder": "none"}),
    Route("services.assign_site", "POST", args=SVC_LYON, restricted=403, other=404,
          data=lambda d: {"site_id": d.ids["site_entrepot"]}),
    Route("services.softphone_credentials", "POST",
          args=lambda d: {"service_id": d.ids["fixed_entrepot"]}, other=404,
          data={"confirm": "1"}),
    Route("services.softphone_credentials",
          args=lambda d: {"service_id": d.ids["fixed_entrepot"]}, other=404),
    Route("services.softphone_issued",
          args=lambda d: {"service_id": d.ids["fixed_entrepot"]}, other=404),
    # Équipements
    Route("services.equipment"),
    Route("services.equipment_new", restricted=403),
    Route("services.equipment_new", "POST", restricted=403, other=INVALID, data=lambda d: {
        "model": "Yealink T31P", "mac": "00:15:65:00:09:99", "label": "Poste matrice",
        "line_id": "", "site_id": d.ids["site_lyon"]}),
    Route("services.equipment_detail", args=EQ_PARIS, restricted=404, other=404,
          users_only=404),
    Route("services.equipment_detail", "POST", args=EQ_LYON, restricted=403, other=404,
          users_only=404, data=page_form(lambda d: d.url, label="Poste de l'accueil Lyon")),
    Route("services.equipment_site", "POST", args=EQ_LYON, restricted=403, other=404,
          data=lambda d: {"site_id": d.ids["site_entrepot"]}),
    Route("services.equipment_delete", args=EQ_LYON, restricted=403, other=404),
    Route("services.equipment_delete", "POST", args=EQ_LYON, restricted=403, other=404,
          data={"confirm": "1"}),
    # Sites (SITE-1..4): "Gérer les sites" only
    Route("sites.tree", restricted=403),
    Route("sites.branch", args=SITE_LYON, **SITES),
    Route("sites.row", args=SITE_LYON, **SITES),
    Route("sites.create", "POST", **SITES,
          data=lambda d: {"parent_id": d.ids["site_lyon"], "name": "Villeurbanne"}),
    Route("sites.add_form", args=SITE_LYON, **SITES),
    Route("sites.rename", args=SITE_LYON, **SITES),
    Route("sites.rename", "POST", args=SITE_LYON, **SITES, data={"name": "Lyon Part-Dieu"}),
    Route("sites.delete", args=SITE_LYON, **SITES),
    Route("sites.delete", "POST", args=_throwaway_site, **SITES, data={"confirm": "1"}),
    Route("sites.detail", args=SITE_LYON, **SITES),
    # Rôles and Manager access (ROLE-1..3, ACC-1)
    Route("access.roles", restricted=403),
    Route("access.role_new", restricted=403),
    Route("access.role_new", "POST", restricted=403, data={
        "name": "Accueil des nouveaux", "permissions": ["users.manage"], "scope": "default"}),
    Route("access.role_edit", args=LYON_ROLE, **ACCESS),
    # users_only may not edit a role holding rights it lacks (403)
    Route("access.role_edit", "POST", args=LYON_ROLE, **ACCESS, users_only=403,
          data=page_form(lambda d: d.url, name="Responsables Lyon")),
    Route("access.role_delete", args=LYON_ROLE, **ACCESS),
    Route("access.role_delete", "POST", args=_throwaway_role, **ACCESS,
          data={"confirm": "1"}),
    Route("access.user_new", restricted=403),
    Route("access.user_new", "POST", restricted=403, other=INVALID, data=_grant_body),
    # users_only may not act on Lucas, who holds rights it lacks (SEC-1/2 guard): 403,
    # like every refusal of that guard (a validation status would fail here)
    Route("access.user_roles_update", "POST", args=LUCAS, **ACCESS, users_only=403,
          data=lambda d: {"roles": [str(_role(d, "Responsable Lyon"))]}),
    Route("access.user_remove", args=LUCAS, **ACCESS),
    Route("access.user_remove", "POST", args=LUCAS, **ACCESS, users_only=403,
          data={"confirm": "1"}),
    Route("access.revoke_browser", "POST", args=_trusted_browser, **ACCESS, users_only=403,
          data={}),
    Route("access.disable_tfa", "POST", args=LUCAS, **ACCESS, users_only=403, data={}),
]
