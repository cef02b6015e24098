"""SITE-1..4: the site tree, edited in place, with its deletion and naming rules."""

from __future__ import annotations

from tests.directory.conftest import audit_details, hx_get, post, text


def _site(name: str):
    from webapp.models import Site

    return Site.get(Site.name == name)


def _create(b, name: str, parent_id: int | None = None, target: str | None = None):
    data = {"name": name}
    if parent_id:
        data["parent_id"] = str(parent_id)
    return post(b, "/gerer/sites/nouveau", data, target=target)


def test_site1_create_three_levels_each_answer_is_one_branch(tenant_admin):
    response = _create(tenant_admin, "Marseille", target="site-roots")
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and 'id="site-' in body and "Marseille" in body
    marseille = _site("Marseille")
    response = _create(tenant_admin, "Vieux-Port", marseille.id, target=f"site-{marseille.id}")
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.startswith(f'<li class="site-node" id="site-{marseille.id}"')
    assert "Vieux-Port" in body
    port = _site("Vieux-Port")
    _create(tenant_admin, "Quai 3", port.id, target=f"site-{port.id}")
    assert _site("Quai 3").parent_id == port.id and port.parent_id == marseille.id
    # Without JavaScript the same form redirects back to the tree, opened on the new site.
    response = _create(tenant_admin, "Quai 4", port.id)
    assert response.status_code == 303
    assert "ouvrir=" in response.headers["Location"]
    assert [d["name"] for d in audit_details("site.created")] == [
        "Marseille", "Vieux-Port", "Quai 3", "Quai 4"]


def test_site2_delete_refused_when_service_deep_in_subtree(admin, ids, db_conn):
    from webapp.models import Service, Site

    _create(admin, "Nantes")
    nantes = _site("Nantes")
    _create(admin, "Zone Nord", nantes.id)
    north = _site("Zone Nord")
    _create(admin, "Hangar", north.id)
    hangar = _site("Hangar")
    Service.update(site=hangar.id).where(Service.id == ids["fixed_lyon"]).execute()
    response = post(admin, f"/gerer/sites/{nantes.id}/supprimer", {"confirm": "1"},
                    target=f"site-{nantes.id}")
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == f"#row-{nantes.id}"
    body = text(response)
    assert "Suppression impossible" in body
    assert "01 00 00 01 02" in body and f"/services/{ids['fixed_lyon']}" in body
    assert "Nantes › Zone Nord › Hangar" in body
    assert Site.select().where(Site.id.in_([nantes.id, north.id, hangar.id])).count() == 3
    # Without JavaScript: the confirmation page shows the same refusal.
    page = post(admin, f"/gerer/sites/{north.id}/supprimer", {"confirm": "1"})
    assert page.status_code == 409 and "01 00 00 01 02" in text(page)


def test_site2_delete_allowed_when_subtree_empty(tenant_admin, db_conn):
    from webapp.models import Site

    _create(tenant_admin, "Lille")
    lille = _site("Lille")
    _create(tenant_admin, "Euralille", lille.id)
    response = post(tenant_admin, f"/gerer/sites/{lille.id}/supprimer", {"confirm": "1"},
                    target=f"site-{lille.id}")
    assert response.status_code == 200 and text(response) == ""
    assert not Site.select().where(Site.name.in_(["Lille", "Euralille"])).exists()
    assert audit_details("site.deleted")[0]["subsites"] == 1


def test_site2_delete_needs_confirmation(tenant_admin, db_conn):
    _create(tenant_admin, "Toulouse")
    site = _site("Toulouse")
    page = tenant_admin.client.get(f"/gerer/sites/{site.id}/supprimer")
    assert page.status_code == 200 and 'name="confirm"' in text(page)
    # the question is a page like any other: same security headers, never cached
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    response = post(tenant_admin, f"/gerer/sites/{site.id}/supprimer", {})
    assert response.status_code == 400
    assert "Confirmez la suppression" in text(response)
    assert _site("Toulouse")


def test_site2_default_site_cannot_be_deleted(tenant, tenant_admin, db_conn):
    from webapp.models import Site
    from webapp.services.accounts import default_site

    default = default_site(tenant.account).id
    Site.update(name="Site par défaut").where(Site.id == default).execute()
    response = post(tenant_admin, f"/gerer/sites/{default}/supprimer", {"confirm": "1"},
                    target=f"site-{default}")
    assert response.status_code == 409
    assert "Le site par défaut ne peut pas être supprimé" in text(response)
    assert Site.get_by_id(default).is_default
    tree = text(tenant_admin.client.get("/gerer/sites"))
    assert f'hx-post="/gerer/sites/{default}/supprimer"' not in tree


def test_site1_rename_conflict_and_empty_name_rejected_with_messages(admin, ids, db_conn):
    from webapp.models import Site

    paris = _site("Paris — Siège")
    atelier = _site("Atelier")
    response = post(admin, f"/gerer/sites/{atelier.id}/renommer", {"name": " accueil "},
                    target=f"row-{atelier.id}")
    body = text(response)
    assert response.status_code == 400
    assert "existe déjà à cet endroit" in body and 'value=" accueil "' in body
    assert Site.get_by_id(atelier.id).name == "Atelier"
    response = post(admin, f"/gerer/sites/{atelier.id}/renommer", {"name": "   "})
    assert response.status_code == 400
    assert "Indiquez le nom du site." in text(response)
    # The same name elsewhere in the tree is fine (siblings only must differ).
    response = post(admin, f"/gerer/sites/{atelier.id}/renommer", {"name": "Lyon"},
                    target=f"row-{atelier.id}")
    assert response.status_code == 200
    assert f'id="row-{atelier.id}"' in text(response)
    assert Site.get_by_id(atelier.id).name == "Lyon"
    assert Site.get_by_id(atelier.id).parent_id == paris.id
    response = _create(admin, "LYON")
    assert response.status_code == 400  # a root "Lyon" exists (case-insensitive)


def test_site4_first_render_has_roots_only_and_branches_load_lazily(admin, ids, db_conn):
    tree = text(admin.client.get("/gerer/sites"))
    assert "Paris — Siège" in tree and "Lyon" in tree
    assert "Entrepôt" not in tree and "Accueil" not in tree  # below collapsed roots
    lyon = ids["site_lyon"]
    branch = hx_get(admin, f"/gerer/sites/{lyon}/branche", f"site-{lyon}")
    body = text(branch)
    assert branch.status_code == 200 and "<html" not in body and "Entrepôt" in body
    assert 'aria-expanded="true"' in body
    closed = hx_get(admin, f"/gerer/sites/{lyon}/branche?ouvert=0", f"site-{lyon}")
    assert "Entrepôt" not in text(closed)
    # Without JavaScript, "déplier" is a link to the tree opened on that site.
    page = admin.client.get(f"/gerer/sites?ouvrir={ids['site_entrepot']}")
    assert "Entrepôt" in text(page)


def test_site4_long_branches_are_paged(tenant_admin, tenant, db_conn):
    from webapp.models import Site
    from webapp.services.sites import BRANCH_PAGE

    parent = Site.create(account=tenant.account, name="Réseau")
    for i in range(BRANCH_PAGE + 5):
        Site.create(account=tenant.account, parent=parent, name=f"Agence {i:03d}")
    first = hx_get(tenant_admin, f"/gerer/sites/{parent.id}/branche", f"site-{parent.id}")
    body = text(first)
    assert body.count('class="site-node') == BRANCH_PAGE + 1  # the parent + one page
    assert f"apres={BRANCH_PAGE}" in body
    rest = hx_get(tenant_admin, f"/gerer/sites/{parent.id}/branche?apres={BRANCH_PAGE}", "x")
    assert text(rest).count('class="site-node') == 5


def test_site3_move_service_between_sites(admin, ids, db_conn):
    from webapp.models import Service

    response = post(admin, f"/services/{ids['fixed_lyon']}/site",
                    {"site_id": str(ids["site_paris"])})
    assert response.status_code == 303
    assert Service.get_by_id(ids["fixed_lyon"]).site_id == ids["site_paris"]
    detail = text(admin.client.get(f"/gerer/sites/{ids['site_paris']}"))
    assert "01 00 00 01 02" in detail
    [event] = audit_details("service.site_assigned")
    assert event["old_site"] == ids["site_lyon"] and event["new_site"] == ids["site_paris"]


def test_site3_equipment_assigned_to_site(admin, ids, db_conn):
    from webapp.models import Equipment

    phone = Equipment.get(Equipment.mac == "00:04:13:00:01:02")
    response = post(admin, f"/services/equipements/{phone.id}/site",
                    {"site_id": str(ids["site_entrepot"])})
    assert response.status_code == 303
    assert Equipment.get_by_id(phone.id).site_id == ids["site_entrepot"]


def test_site3_scoped_manager_cannot_assign_outside_scope(lyon_manager, ids, db_conn):
    from webapp.models import Service

    response = post(lyon_manager, f"/services/{ids['fixed_lyon']}/site",
                    {"site_id": str(ids["site_paris"])})
    assert response.status_code == 400
    assert "Choisissez un site dans la liste." in text(response)
    assert Service.get_by_id(ids["fixed_lyon"]).site_id == ids["site_lyon"]
    response = post(lyon_manager, f"/services/{ids['fixed_lyon']}/site",
                    {"site_id": str(ids["site_entrepot"])})
    assert response.status_code == 303
    assert Service.get_by_id(ids["fixed_lyon"]).site_id == ids["site_entrepot"]


def test_site1_scoped_site_manager_sees_and_edits_only_their_subtree(lyon_manager, ids,
                                                                      db_conn):
    from webapp.models import Site

    tree = text(lyon_manager.client.get("/gerer/sites"))
    assert "Lyon" in tree and "Paris — Siège" not in tree and "Bordeaux" not in tree
    paris = ids["site_paris"]
    assert lyon_manager.client.get(f"/gerer/sites/{paris}").status_code == 404
    assert post(lyon_manager, f"/gerer/sites/{paris}/renommer", {"name": "X"}).status_code == 404
    assert _create(lyon_manager, "Sous Paris", paris).status_code == 404
    response = _create(lyon_manager, "Racine")
    assert response.status_code == 400
    assert "limité à certains sites" in text(response)
    assert _create(lyon_manager, "Quai", ids["site_entrepot"]).status_code == 303
    assert Site.get(Site.name == "Quai").parent_id == ids["site_entrepot"]


def test_site4_row_answers_keep_an_open_branch_open(admin, ids):
    lyon = ids["site_lyon"]
    open_row = hx_get(admin, f"/gerer/sites/{lyon}/renommer?ouvert=1", f"row-{lyon}")
    body = text(open_row)
    assert 'aria-expanded="true"' in body and "Entrepôt" not in body  # row only
    refused = post(admin, f"/gerer/sites/{lyon}/supprimer?ouvert=1", {"confirm": "1"},
                   target=f"site-{lyon}")
    assert refused.status_code == 409 and 'aria-expanded="true"' in text(refused)
    closed = hx_get(admin, f"/gerer/sites/{lyon}/ligne", f"row-{lyon}")
    assert 'aria-expanded="false"' in text(closed)
