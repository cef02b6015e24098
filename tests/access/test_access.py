"""ROLE-1..4 and ACC-1: roles, site scope, tenancy, giving and removing Manager access."""

from __future__ import annotations

from tests.directory.conftest import post, section, text
from tests.factories import make_user


def test_role3_lyon_user_sees_lyon_and_its_subsite_services_only(restricted, ids):
    body = section(text(restricted.client.get("/services")), "service-list")
    assert "01 00 00 01 02" in body and "01 00 00 01 08" in body  # Lyon, Entrepôt below it
    assert "01 00 00 01 01" not in body and "01 00 00 01 09" not in body  # Paris, Bordeaux
    assert restricted.client.get(f"/services/{ids['fixed_entrepot']}").status_code == 200


def test_role3_out_of_scope_service_equipment_contact_answer_404(restricted, ids):
    from webapp.models import Equipment

    paris_phone = Equipment.get(Equipment.mac == "00:15:65:00:01:01").id
    for url in (f"/services/{ids['fixed_paris']}", f"/services/equipements/{paris_phone}",
                f"/annuaire/{ids['contact_paris']}", f"/annuaire/{ids['contact_bordeaux']}",
                f"/services?site={ids['site_paris']}"):
        assert restricted.client.get(url).status_code == 404, url


def test_role3_cannot_attach_anything_to_an_out_of_scope_site(restricted, lyon_manager, ids):
    from webapp.models import Service, ServiceContact

    # Contact of Paris onto a Lyon line: the contact is out of scope → 404, nothing written.
    response = post(restricted, f"/services/{ids['fixed_lyon']}/contacts",
                    {"contact_id": str(ids["contact_paris"])})
    assert response.status_code == 404
    assert not ServiceContact.select().where(
        (ServiceContact.service == ids["fixed_lyon"])
        & (ServiceContact.contact == ids["contact_paris"])).exists()
    # A new contact or phone cannot be put on Paris either.
    response = post(restricted, "/annuaire/nouveau", {"first_name": "A", "last_name": "B",
                                                      "site_id": str(ids["site_paris"])})
    assert response.status_code == 400
    response = post(lyon_manager, "/services/equipements/nouveau", {
        "model": "Snom D717", "mac": "00:04:13:99:99:99", "site_id": str(ids["site_paris"]),
        "line_id": str(ids["fixed_paris"])})
    assert response.status_code == 400
    body = text(response)
    assert "Choisissez un site dans la liste." in body
    assert "Choisissez une ligne fixe de la liste." in body
    assert Service.get_by_id(ids["fixed_paris"]).site_id == ids["site_paris"]


def test_role4_no_object_of_another_account_is_reachable(demo, ids, new_browser, db_conn):
    from webapp.models import Equipment, Role, User
    from webapp.services.accounts import create_account, create_admin
    from webapp.services.passwords import hash_password

    other = create_account("Concurrent SAS")
    boss = create_admin(other, "boss@concurrent.example", "Basile", "Boss")
    User.update(password_hash=hash_password(demo.password)).where(User.id == boss.id).execute()
    b = new_browser()
    b.sign_in("boss@concurrent.example", demo.password)
    role = Role.get(Role.name == "Responsable Lyon").id
    lucas = User.get(User.email == demo.user_email).id
    phone = Equipment.get(Equipment.mac == "00:04:13:00:01:02").id
    gets = [f"/services/{ids['fixed_lyon']}", f"/annuaire/{ids['contact_lyon']}",
            f"/services/equipements/{phone}", f"/gerer/sites/{ids['site_lyon']}",
            f"/gerer/sites/{ids['site_lyon']}/branche", f"/preferences/acces/roles/{role}",
            f"/preferences/acces/utilisateurs/{lucas}", f"/services?site={ids['site_lyon']}"]
    for url in gets:
        assert b.client.get(url).status_code == 404, url
    posts = {f"/services/{ids['fixed_lyon']}/titulaire": {"holder": "none"},
             f"/gerer/sites/{ids['site_lyon']}/renommer": {"name": "Pris"},
             "/gerer/sites/nouveau": {"name": "Intrus", "parent_id": str(ids["site_lyon"])},
             f"/annuaire/{ids['contact_lyon']}/supprimer": {"confirm": "1"},
             f"/preferences/acces/utilisateurs/{lucas}/retirer": {"confirm": "1"}}
    for url, data in posts.items():
        assert post(b, url, data).status_code == 404, url
    # Its own lists never show the demo company's data.
    assert "01 00 00 01" not in text(b.client.get("/services"))
    assert "Petit" not in section(text(b.client.get("/annuaire")), "contact-results")
    assert "Lyon" not in text(b.client.get("/gerer/sites"))
    # And it cannot point its own objects at the demo company's sites or lines.
    response = post(b, "/services/equipements/nouveau", {
        "model": "Snom D717", "mac": "00:04:13:99:99:98", "site_id": str(ids["site_lyon"]),
        "line_id": str(ids["fixed_lyon"])})
    assert response.status_code == 400


def test_role1_role_change_takes_effect_on_next_request(admin, restricted, ids):
    from webapp.models import Role

    role = Role.get(Role.name == "Responsable Lyon")
    assert restricted.client.get("/services/equipements/nouveau").status_code == 403
    data = {"name": role.name, "permissions": ["sites.access", "equipment.manage",
                                               "sites.manage"],
            "scope": "sites", "sites": [str(ids["site_lyon"])]}
    assert post(admin, f"/preferences/acces/roles/{role.id}", data).status_code == 303
    assert restricted.client.get("/services/equipements/nouveau").status_code == 200
    assert restricted.client.get("/gerer/sites").status_code == 200
    response = post(restricted, f"/services/{ids['fixed_lyon']}/titulaire", {"holder": "none"})
    assert response.status_code == 403
    assert "Gérer les services" in text(response)


def test_role2_403_explains_missing_permission_in_french(restricted):
    response = restricted.client.get("/gerer/sites")
    assert response.status_code == 403
    body = text(response)
    assert "Accès refusé" in body and "Gérer les sites" in body


def test_role2_menu_shows_only_what_the_user_may_open(admin, restricted):
    assert 'href="/gerer/sites"' in text(admin.client.get("/annuaire"))
    body = text(restricted.client.get("/annuaire"))
    assert 'href="/gerer/sites"' not in body and "Gérer" not in body
    assert 'href="/annuaire"' in body and 'href="/services"' in body


def test_role2_role_form_offers_every_permission_and_three_scopes(admin):
    from webapp.permissions import PERMISSIONS

    body = text(admin.client.get("/preferences/acces/roles/nouveau"))
    for label in PERMISSIONS.values():
        assert label in body
    for label in ("Tous (aucune restriction)", "Une liste de sites (et le site par défaut)",
                  "Site par défaut uniquement"):
        assert label in body


def test_role3_custom_role_scopes_list_all_and_refused(admin, demo, ids, new_browser):
    from webapp.models import Role, RoleSite

    base = {"permissions": ["sites.access", "services.manage"]}
    assert post(admin, "/preferences/acces/roles/nouveau",
                dict(base, name="Bordeaux", scope="sites",
                     sites=[str(ids["site_default"]), str(ids["site_paris"])])).status_code == 303
    role = Role.get(Role.name == "Bordeaux")
    assert role.scope == "sites"
    assert [rs.site_id for rs in RoleSite.select().where(RoleSite.role == role)] == [
        ids["site_paris"]]  # the default site is implied, never stored
    # Without "Accéder aux ressources des sites" the scope is the default site only.
    post(admin, "/preferences/acces/roles/nouveau",
         {"name": "Sans sites", "permissions": ["tickets.access"], "scope": "all"})
    assert Role.get(Role.name == "Sans sites").scope == "default"
    response = post(admin, "/preferences/acces/roles/nouveau",
                    dict(base, name="Vide", scope="sites"))
    assert response.status_code == 400
    body = text(response)
    assert "Choisissez au moins un site" in body and 'value="Vide"' in body
    assert not Role.select().where(Role.name == "Vide").exists()
    # A user with a "default only" role sees the default site's contact, nothing else.
    make_user(demo.account, "def@atelier-dupont.example", "Denis", "services.manage",
              "default", [], demo.password)
    b = new_browser()
    b.sign_in("def@atelier-dupont.example", demo.password)
    listing = section(text(b.client.get("/annuaire")), "contact-results")
    assert "Bonnet" in listing and "Petit" not in listing
    assert b.client.get(f"/services/{ids['fixed_lyon']}").status_code == 404


def test_role1_administrateur_is_not_editable_nor_deletable(admin, demo):
    from webapp.models import Role

    role = Role.get((Role.account == demo.account) & Role.builtin)
    response = post(admin, f"/preferences/acces/roles/{role.id}",
                    {"name": "Chef", "permissions": ["tickets.access"]})
    assert response.status_code == 403
    assert "n'est pas modifiable" in text(response)
    response = post(admin, f"/preferences/acces/roles/{role.id}/supprimer", {"confirm": "1"})
    assert response.status_code == 409
    role = Role.get_by_id(role.id)
    assert role.name == "Administrateur" and role.scope == "all"


def test_role1_role_in_use_cannot_be_deleted(admin, demo):
    from webapp.models import Role

    role = Role.get(Role.name == "Responsable Lyon")
    response = post(admin, f"/preferences/acces/roles/{role.id}/supprimer", {"confirm": "1"})
    assert response.status_code == 409 and "attribué à 1 utilisateur" in text(response)


def test_role1_user_manager_cannot_grant_more_than_they_hold(demo, ids, new_browser):
    from webapp.models import Role, UserRole

    make_user(demo.account, "rh@atelier-dupont.example", "Rita", "users.manage sites.access",
              "sites", [ids["site_lyon"]], demo.password)
    b = new_browser()
    b.sign_in("rh@atelier-dupont.example", demo.password)
    response = post(b, "/preferences/acces/roles/nouveau",
                    {"name": "Super", "permissions": ["users.manage", "billing.view"]})
    assert response.status_code == 400
    assert "que vous n'avez pas vous-même" in text(response)
    response = post(b, "/preferences/acces/roles/nouveau",
                    {"name": "Partout", "permissions": ["sites.access"], "scope": "all"})
    assert response.status_code == 400
    assert not Role.select().where(Role.name.in_(["Super", "Partout"])).exists()
    admin_role = Role.get((Role.account == demo.account) & Role.builtin)
    own = UserRole.get(UserRole.user == Role.get(Role.name == "Rôle Rita").user_links[0].user)
    response = post(b, f"/preferences/acces/utilisateurs/{own.user_id}/roles",
                    {"roles": [str(admin_role.id)]})
    assert response.status_code == 403  # a role wider than her own rights
    assert "plus large que vos propres droits" in text(response)
    assert not UserRole.select().where((UserRole.user == own.user_id)
                                       & (UserRole.role == admin_role.id)).exists()
    from webapp.models import User

    claire = User.get(User.email == demo.admin_email)
    response = post(b, f"/preferences/acces/utilisateurs/{claire.id}/retirer", {"confirm": "1"})
    assert response.status_code == 403  # Claire holds rights Rita lacks (SEC-1/2 guard)
    assert "droits plus larges que les vôtres" in text(response)
    assert UserRole.select().where(UserRole.user == claire.id).exists()


def test_acc1_give_manager_access_with_roles_and_password_link(admin, demo, ids, smtp,
                                                                 run_jobs, new_browser):
    from tests.conftest import link_in
    from webapp.models import Licence, Role, User

    role = Role.get(Role.name == "Responsable Lyon")
    # Jules David has no service and no licence: refused (ACC-1).
    response = post(admin, "/preferences/acces/utilisateurs/nouveau",
                    {"email": "jules.david@atelier-dupont.example", "roles": [str(role.id)]})
    assert response.status_code == 400
    assert "au moins un service ou une licence" in text(response)
    assert not User.select().where(User.email == "jules.david@atelier-dupont.example").exists()
    response = post(admin, "/preferences/acces/utilisateurs/nouveau",
                    {"email": "personne@nulle.part", "roles": [str(role.id)]})
    assert response.status_code == 400 and "Aucun contact" in text(response)
    # Chloé Lefèvre holds a Lyon line: she gets access and an e-mail to set her password.
    email = "chloe.lefevre@atelier-dupont.example"
    response = post(admin, "/preferences/acces/utilisateurs/nouveau",
                    {"email": email, "roles": [str(role.id)]})
    assert response.status_code == 303
    user = User.get(User.email == email)
    assert Licence.select().where((Licence.contact == user.contact_id)
                                  & (Licence.product == "manager")).exists()
    run_jobs()
    link = link_in(smtp.last(email))
    b = new_browser()
    path = link.split("manager.test", 1)[1]
    page = b.client.get(path, follow_redirects=True)
    assert page.status_code == 200
    users = text(admin.client.get("/preferences/acces/utilisateurs"))
    assert "Chloé Lefèvre" in users


def test_acc1_remove_manager_access_ends_sessions_at_once(admin, restricted, demo):
    from webapp.models import User, UserRole

    lucas = User.get(User.email == demo.user_email)
    assert restricted.client.get("/services").status_code == 200
    assert post(admin, f"/preferences/acces/utilisateurs/{lucas.id}/retirer", {}).status_code \
        == 400
    response = post(admin, f"/preferences/acces/utilisateurs/{lucas.id}/retirer",
                    {"confirm": "1"})
    assert response.status_code == 303
    assert not UserRole.select().where(UserRole.user == lucas.id).exists()
    after = restricted.client.get("/services")
    assert after.status_code == 302 and "/connexion" in after.headers["Location"]
    users = text(admin.client.get("/preferences/acces/utilisateurs")).split('id="users-table"')[1]
    assert "Lucas Petit" not in users and "Claire Dubois" in users
    # He cannot sign back in to the Manager either.
    again = restricted.password_step(demo.user_email, demo.password)
    assert "/connexion/verification" not in again.headers.get("Location", "")


def test_acc1_last_administrator_and_self_removal_refused(admin, demo):
    from webapp.models import Role, User, UserRole

    claire = User.get(User.email == demo.admin_email)
    response = post(admin, f"/preferences/acces/utilisateurs/{claire.id}/retirer",
                    {"confirm": "1"})
    assert response.status_code == 409 and "votre propre accès" in text(response)
    lyon = Role.get(Role.name == "Responsable Lyon")
    response = post(admin, f"/preferences/acces/utilisateurs/{claire.id}/roles",
                    {"roles": [str(lyon.id)]})
    assert response.status_code == 400 and "au moins un administrateur" in text(response)
    assert UserRole.select().join(Role).where((UserRole.user == claire.id)
                                              & Role.builtin).exists()


def test_tfa5_user_page_shows_roles_and_2fa_section(admin, demo):
    from webapp.models import User

    lucas = User.get(User.email == demo.user_email)
    body = text(admin.client.get(f"/preferences/acces/utilisateurs/{lucas.id}"))
    assert "Accès au Manager" in body and "Double authentification" in body
    assert "Retirer l'accès au Manager" in body and "Responsable Lyon" in body
