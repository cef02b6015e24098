"""DIR-5: folders (create, rename, delete), moving contacts keeps their services, scope,
contact cards, photos (checked by content, thumbnailed, served only to the account)."""

from __future__ import annotations

import io

from PIL import Image

from webapp.models import AuditEvent, Contact, Service, ServiceContact, Site
from webapp.models.core import Folder


def _png(size=(800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def _contact(demo, first: str) -> Contact:
    return Contact.get((Contact.account == demo.account) & (Contact.first_name == first))


def test_dir5_create_rename_and_move_keeps_services(admin, demo, db_conn):
    response = admin.post("/annuaire/dossiers", {"name": "Fournisseurs", "external": "1"})
    assert response.status_code == 303
    folder = Folder.get(Folder.name == "Fournisseurs")
    assert folder.external
    same = admin.post("/annuaire/dossiers", {"name": "fournisseurs"})
    assert same.status_code == 400
    assert "Un dossier porte déjà ce nom" in same.get_data(as_text=True)
    empty = admin.post("/annuaire/dossiers", {"name": "  "})
    assert empty.status_code == 400 and "Indiquez le nom du dossier" in empty.get_data(
        as_text=True)
    renamed = admin.post(f"/annuaire/dossiers/{folder.id}/renommer",
                         {"name": "Fournisseurs et partenaires", "external": "1"},
                         token_from="/annuaire/dossiers")
    assert renamed.status_code == 303
    assert Folder.get_by_id(folder.id).name == "Fournisseurs et partenaires"
    claire = _contact(demo, "Claire")
    links = sorted(s.service_id for s in ServiceContact.select().where(
        ServiceContact.contact == claire))
    held = sorted(s.id for s in Service.select().where(Service.holder == claire))
    moved = admin.post("/annuaire/dossiers/deplacer",
                       {"contact_id": str(claire.id), "folder_id": str(folder.id)},
                       token_from="/annuaire/dossiers")
    assert moved.status_code == 303
    assert Contact.get_by_id(claire.id).folder_id == folder.id
    assert sorted(s.service_id for s in ServiceContact.select().where(
        ServiceContact.contact == claire)) == links
    assert sorted(s.id for s in Service.select().where(Service.holder == claire)) == held
    page = admin.client.get(f"/annuaire/dossiers?dossier={folder.id}").get_data(as_text=True)
    assert "Dubois Claire" in page
    assert AuditEvent.select().where(AuditEvent.kind == "contact.moved").count() == 1
    # Deleting the folder keeps the contact, "Sans dossier".
    deleted = admin.post(f"/annuaire/dossiers/{folder.id}/supprimer", {"confirm": "1"},
                         token_from="/annuaire/dossiers")
    assert deleted.status_code == 303
    assert Contact.get_by_id(claire.id).folder_id is None


def test_dir5_restricted_user_sees_and_moves_only_contacts_in_scope(new_browser, demo,
                                                                    db_conn):
    folder = Folder.create(account=demo.account, name="Direction")
    claire = _contact(demo, "Claire")  # Paris: outside "Responsable Lyon"
    lucas = _contact(demo, "Lucas")
    Contact.update(folder=folder).where(Contact.id.in_([claire.id, lucas.id])).execute()
    b = new_browser()
    b.sign_in(demo.user_email, demo.password)
    page = b.client.get(f"/annuaire/dossiers?dossier={folder.id}").get_data(as_text=True)
    assert "Petit Lucas" in page and "Dubois Claire" not in page
    response = b.post("/annuaire/dossiers/deplacer",
                      {"contact_id": str(claire.id), "folder_id": "none"},
                      token_from="/annuaire/dossiers")
    assert response.status_code == 404
    assert Contact.get_by_id(claire.id).folder_id == folder.id
    assert b.client.get(f"/annuaire/dossiers/contacts/{claire.id}/fiche").status_code == 404


def test_dir5_new_contact_needs_only_names_and_goes_in_folder(admin, demo, db_conn):
    folder = Folder.create(account=demo.account, name="Fournisseurs", external=True)
    bad = admin.post("/annuaire/dossiers/contacts/nouveau",
                     {"last_name": "", "first_name": "Paul", "phone_home": "abc",
                      "folder_id": str(folder.id)})
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert "Indiquez le nom." in body and 'value="Paul"' in body
    assert Contact.get_or_none(Contact.first_name == "Paul") is None
    site = Site.get((Site.account == demo.account) & Site.is_default)
    ok = admin.post("/annuaire/dossiers/contacts/nouveau",
                    {"last_name": "Bernard", "first_name": "Paul", "company": "Transports Bernard",
                     "job_title": "Commercial", "phone_home": "04 72 00 00 00",
                     "folder_id": str(folder.id), "site_id": str(site.id)})
    assert ok.status_code == 303, ok.get_data(as_text=True)[:500]
    paul = Contact.get(Contact.first_name == "Paul")
    assert (paul.folder_id, paul.company, paul.phone_home) == (folder.id, "Transports Bernard",
                                                               "+33472000000")


def test_dir5_associating_a_service_to_a_new_person_creates_the_contact(admin, demo, db_conn):
    line = Service.get(Service.number == "+33100000101")
    response = admin.post(f"/annuaire/dossiers/services/{line.id}/nouvelle-personne",
                          {"last_name": "Garnier", "first_name": "Inès"})
    assert response.status_code == 303
    ines = Contact.get(Contact.last_name == "Garnier")
    assert ines.site_id == line.site_id
    assert ServiceContact.select().where((ServiceContact.contact == ines)
                                         & (ServiceContact.service == line)).exists()


def test_dir5_photo_checked_by_content_thumbnailed_and_private(admin, demo, db_conn, app,
                                                               new_browser):
    claire = _contact(demo, "Claire")
    url = f"/annuaire/dossiers/contacts/{claire.id}/photo"
    fake = admin.client.post(url, data={
        "csrf_token": admin.token(f"/annuaire/dossiers/contacts/{claire.id}/fiche"),
        "photo": (io.BytesIO(b"<?php echo 1; ?>"), "photo.jpg")},
        content_type="multipart/form-data")
    assert fake.status_code == 400
    assert "pas une image lisible" in fake.get_data(as_text=True)
    assert Contact.get_by_id(claire.id).photo is None
    ok = admin.client.post(url, data={
        "csrf_token": admin.token(f"/annuaire/dossiers/contacts/{claire.id}/fiche"),
        "photo": (io.BytesIO(_png()), "portrait.png")}, content_type="multipart/form-data")
    assert ok.status_code == 303
    served = admin.client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "private" in served.headers["Cache-Control"]
    with Image.open(io.BytesIO(served.data)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 160
    # Not public, not to the Lyon-restricted user (out of scope).
    anonymous = app.test_client().get(url)
    assert anonymous.status_code in (302, 303)
    lucas = new_browser()
    lucas.sign_in(demo.user_email, demo.password)
    assert lucas.client.get(url).status_code == 404
