"""DIR-1: the Annuaire — live search, pagination, validation, details, deletion."""

from __future__ import annotations

from tests.directory.conftest import audit_kinds, hx_get, post, section, text

VALID = {"first_name": "Zoé", "last_name": "Garnier", "email": "zoe.garnier@example.fr",
         "phone_work": "01 23 45 67 89", "phone_mobile": "+33 6 12 34 56 78"}


def test_dir1_search_filters_and_is_bookmarkable(admin, ids):
    page = admin.client.get("/annuaire?q=mor")
    body = text(page)
    assert page.status_code == 200 and "<html" in body
    body = section(body, "contact-results")
    assert "Moreau" in body and "Morel" in body and "Dubois" not in body
    full = text(page)
    assert 'value="mor"' in full  # the reloaded URL shows the search typed
    assert 'hx-trigger="input changed delay:300ms, search"' in full
    assert 'hx-push-url="true"' in full
    fragment = hx_get(admin, "/annuaire?q=leroy", "contact-results")
    part = text(fragment)
    assert "<html" not in part and part.lstrip().startswith('<section id="contact-results"')
    assert "Leroy" in part and "Moreau" not in part
    assert "HX-Target" in fragment.headers["Vary"]


def test_dir1_search_by_number_and_several_words(admin, ids):
    body = section(text(admin.client.get("/annuaire?q=0600000104")), "contact-results")
    assert "Laurent" in body and "Dubois" not in body
    body = section(text(admin.client.get("/annuaire?q=claire+dub")), "contact-results")
    assert "Dubois" in body and "Laurent" not in body
    empty = text(admin.client.get("/annuaire?q=zzzz"))
    assert "Aucun contact ne correspond" in empty


def test_dir1_pagination(admin, demo, db_conn):
    from webapp.models import Contact

    for i in range(30):
        Contact.create(account=demo.account, first_name=f"P{i:02d}", last_name="Zzpage")
    first = text(admin.client.get("/annuaire?q=zzpage"))
    assert "30 contacts trouvés" in first and "Page 1 sur 2" in first
    assert first.count("Zzpage P") == 25
    second = text(admin.client.get("/annuaire?q=zzpage&page=2"))
    assert second.count("Zzpage P") == 5 and "q=zzpage&page=1" in second


def test_dir1_create_contact_normalises_numbers_and_audits(admin, ids, demo):
    from webapp.models import Contact

    data = dict(VALID, site_id=str(ids["site_lyon"]))
    response = post(admin, "/annuaire/nouveau", data)
    assert response.status_code == 303
    contact = Contact.get(Contact.last_name == "Garnier")
    assert contact.phone_work == "+33123456789" and contact.phone_mobile == "+33612345678"
    assert contact.site_id == ids["site_lyon"]
    assert "contact.created" in audit_kinds(demo.account.id)


def test_dir1_bad_input_is_refused_keeps_typed_values_writes_nothing(admin, ids):
    from webapp.models import Contact

    before = Contact.select().count()
    data = dict(VALID, email="zoe@", phone_work="12ab", first_name="", site_id="999999")
    response = post(admin, "/annuaire/nouveau", data)
    body = text(response)
    assert response.status_code == 400
    assert "Indiquez le prénom." in body
    assert "Adresse e-mail invalide" in body
    assert "Numéro non valide" in body
    assert "Choisissez un site dans la liste." in body
    assert 'value="zoe@"' in body and 'value="12ab"' in body and 'value="Garnier"' in body
    assert Contact.select().count() == before


def test_dir1_edit_keeps_user_email_in_step(admin, ids, demo):
    from webapp.models import Contact, EmailChange, User

    lucas = ids["contact_lyon"]
    data = {"first_name": "Lucas", "last_name": "Petit", "email": "l.petit@atelier.example",
            "site_id": str(ids["site_lyon"])}
    assert post(admin, f"/annuaire/{lucas}/modifier", data).status_code == 303
    # SEC-1: both stay on the old address until the new one is confirmed by its link.
    assert User.get(User.contact == lucas).email == demo.user_email
    assert Contact.get_by_id(lucas).email == demo.user_email
    assert EmailChange.get(EmailChange.new_email == "l.petit@atelier.example").used_at is None
    data["email"] = ""
    response = post(admin, f"/annuaire/{lucas}/modifier", data)
    assert response.status_code == 400
    assert "ne peut pas être vide" in text(response)


def test_dir1_contact_details_list_services_licences_and_held_separately(admin, ids):
    from webapp.models import Service, ServiceContact

    hugo = ids["contact_paris"]  # Claire
    fax = ids["fax_paris"]
    ServiceContact.create(service=fax, contact=hugo)  # associated, not holder
    body = text(admin.client.get(f"/annuaire/{hugo}"))
    held = body.split('id="held"')[1].split("</section>")[0]
    associated = body.split('id="associated"')[1].split("</section>")[0]
    licences = body.split('id="licences"')[1].split("</section>")[0]
    assert "01 00 00 01 01" in held and "06 00 00 01 01" in held and "01 00 00 01 90" not in held
    assert "01 00 00 01 90" in associated and "01 00 00 01 01" in associated
    assert "Keyyo Manager" in licences and "Keyyo CallPad" in licences
    assert Service.get_by_id(fax).holder_id is None


def test_dir1_delete_contact_clears_holder_and_associations(admin, ids):
    from webapp.models import Contact, Service, ServiceContact

    manon = ids["contact_bordeaux"]
    held = [s.id for s in Service.select().where(Service.holder == manon)]
    assert held
    response = post(admin, f"/annuaire/{manon}/supprimer", {})
    assert response.status_code == 400 and Contact.get_or_none(Contact.id == manon)
    assert post(admin, f"/annuaire/{manon}/supprimer", {"confirm": "1"}).status_code == 303
    assert Contact.get_or_none(Contact.id == manon) is None
    assert not ServiceContact.select().where(ServiceContact.contact == manon).exists()
    assert all(Service.get_by_id(i).holder_id is None for i in held)


def test_dir1_delete_refused_for_manager_user(admin, ids):
    from webapp.models import Contact

    response = post(admin, f"/annuaire/{ids['contact_lyon']}/supprimer", {"confirm": "1"})
    assert response.status_code == 409
    assert "retirez d'abord son accès" in text(response)
    assert Contact.get_or_none(Contact.id == ids["contact_lyon"])


def test_dir1_works_without_manage_permission_read_only(restricted, ids):
    body = section(text(restricted.client.get("/annuaire")), "contact-results")
    assert "Lucas" in body and "Claire" not in body  # Paris is outside Lyon's scope
    assert restricted.client.get(f"/annuaire/{ids['contact_lyon']}").status_code == 200
