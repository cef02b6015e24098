"""Issue 8 links: from the Annuaire list to « Dossiers » and the CSV page, from a line's
page to its call history, its blacklist and « Associer une nouvelle personne » — shown
only to people who may open them, and every target answers."""

from __future__ import annotations

import re

from webapp.models import Contact, Role, Service, User, UserRole, utcnow
from webapp.permissions import SCOPE_ALL
from webapp.services.passwords import hash_password


def _hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"#?]+)', html))


def _reader(demo, new_browser):
    """Arthur Morel (has a line): every site, but no "Gérer les services"."""
    role = Role.create(account=demo.account, name="Lecture seule", permissions="sites.access",
                       scope=SCOPE_ALL)
    arthur = Contact.get((Contact.account == demo.account) & (Contact.first_name == "Arthur"))
    user = User.create(account=demo.account, contact=arthur,
                       email="arthur.morel@atelier-dupont.example",
                       password_hash=hash_password(demo.password), password_set_at=utcnow())
    UserRole.create(user=user, role=role)
    b = new_browser()
    b.sign_in(user.email, demo.password)
    return b


def test_dir5_dir6_directory_list_links_to_folders_and_csv(admin, demo, db_conn):
    html = admin.client.get("/annuaire").get_data(as_text=True)
    assert "Dossiers" in html and "Exporter / Synchroniser (CSV)" in html
    assert {"/annuaire/dossiers", "/annuaire/csv"} <= _hrefs(html)
    for target in ("/annuaire/dossiers", "/annuaire/csv"):
        assert admin.client.get(target).status_code == 200


def test_line4_line5_dir5_line_page_links_to_history_blacklist_and_new_person(admin, demo,
                                                                              db_conn):
    line = Service.get(Service.number == "+33100000103")
    html = admin.client.get(f"/services/{line.id}").get_data(as_text=True)
    targets = {f"/services/{line.id}/historique": "Historique et consommation",
               f"/services/{line.id}/liste-noire": "Liste noire",
               f"/annuaire/dossiers/services/{line.id}/nouvelle-personne":
                   "Associer une nouvelle personne",
               f"/services/{line.id}/ligne": "Réglages de la ligne"}
    for target, label in targets.items():
        assert target in _hrefs(html) and label in html
        assert admin.client.get(target).status_code == 200, target
    # A fax has neither history nor blacklist; a person can still be associated.
    fax = Service.get(Service.number == "+33100000190")
    fax_html = admin.client.get(f"/services/{fax.id}").get_data(as_text=True)
    assert "/historique" not in fax_html and "/liste-noire" not in fax_html
    assert f"/annuaire/dossiers/services/{fax.id}/nouvelle-personne" in _hrefs(fax_html)


def test_line4_line5_links_hidden_without_manage_services(demo, db_conn, new_browser):
    reader = _reader(demo, new_browser)
    line = Service.get(Service.number == "+33100000103")
    page = reader.client.get(f"/services/{line.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for hidden in ("/historique", "/liste-noire", "/nouvelle-personne", "/ligne",
                   "/renvois/"):
        assert hidden not in html
    assert reader.client.get(f"/services/{line.id}/historique").status_code == 403
    directory = reader.client.get("/annuaire").get_data(as_text=True)
    assert {"/annuaire/dossiers", "/annuaire/csv"} <= _hrefs(directory)  # open to readers
    assert reader.client.get("/annuaire/dossiers").status_code == 200
