"""LINE-1: switching the forwarding profile in force is one click from the directory (the
contact's page and the line's page), for people who may manage services; the person
comes back to the directory page they clicked from."""

from __future__ import annotations

import html as html_lib
import re

from webapp.models import Service
from webapp.services import forwarding


def _switch_form(page: str, name: str) -> tuple[str, str]:
    """(action, next) of the « Forcer « name » » button's form on the page."""
    for form in re.findall(r"<form[^>]*>.*?</form>", page, re.S):
        if f"Forcer « {name} »" in form:
            action = re.search(r'action="([^"]+)"', form).group(1)
            nxt = re.search(r'name="next" value="([^"]+)"', form).group(1)
            return html_lib.unescape(action), html_lib.unescape(nxt)
    raise AssertionError(f"no switch to {name!r} on the page")


def test_line1_one_click_switch_from_the_contact_page_comes_back(admin, ids, db_conn):
    claire_line = Service.get_by_id(ids["fixed_paris"])
    contact_url = f"/annuaire/{ids['contact_paris']}"
    page = admin.client.get(contact_url).get_data(as_text=True)
    assert "Par défaut — en vigueur" in page
    action, nxt = _switch_form(page, "Absence")
    assert nxt == contact_url + "#associated"
    response = admin.post(action, {"next": nxt}, token_from=contact_url)
    assert response.status_code == 303 and response.headers["Location"] == nxt
    assert forwarding.active_profile(claire_line).name == "Absence"
    back = admin.client.get(contact_url).get_data(as_text=True)
    assert "Le profil « Absence » est en vigueur." in back
    assert "Absence — en vigueur" in back and "Forcer « Par défaut »" in back


def test_line1_one_click_switch_from_the_line_page_comes_back(admin, ids, db_conn):
    line = Service.get_by_id(ids["fixed_paris"])
    url = f"/services/{line.id}"
    action, nxt = _switch_form(admin.client.get(url).get_data(as_text=True), "Absence")
    assert nxt == url + "#renvois"
    response = admin.post(action, {"next": nxt}, token_from=url)
    assert response.status_code == 303 and response.headers["Location"] == nxt
    assert forwarding.active_profile(line).name == "Absence"
    # And back again, still one click.
    action, nxt = _switch_form(admin.client.get(url).get_data(as_text=True), "Par défaut")
    assert admin.post(action, {"next": nxt}, token_from=url).status_code == 303
    assert forwarding.active_profile(line).name == "Par défaut"


def test_line1_directory_switch_respects_scope(restricted, ids, db_conn):
    """Lucas (Gérer les services, Lyon) gets the switch on his Lyon line; a Paris line
    stays out of reach (404), whatever `next` says."""
    lyon = Service.get_by_id(ids["fixed_lyon"])
    forwarding.ensure_profiles(lyon)
    page = restricted.client.get(f"/annuaire/{ids['contact_lyon']}").get_data(as_text=True)
    assert "Par défaut — en vigueur" in page
    paris = Service.get_by_id(ids["fixed_paris"])
    absence = next(p for p in forwarding.ensure_profiles(paris) if p.name == "Absence")
    response = restricted.post(f"/services/{paris.id}/ligne/renvois/{absence.id}/activer",
                               {"next": "/annuaire"}, token_from="/annuaire")
    assert response.status_code == 404
    assert forwarding.active_profile(paris).name == "Par défaut"


def test_line1_directory_switch_shows_a_virtual_default_without_writing(admin, ids, db_conn):
    """A line created before `create_service` (no profile stored): the directory pages
    show its default profile in force and write nothing on GET (docs/architecture.md §5)."""
    from webapp.models import ForwardingProfile, Site

    site = Site.get_by_id(ids["site_paris"])
    line = Service.create(account=site.account_id, site=site, kind="fixed",
                          number="+33100000155", label="Ligne ancienne")
    page = admin.client.get(f"/services/{line.id}")
    assert page.status_code == 200 and "Par défaut — en vigueur" in page.get_data(as_text=True)
    assert not ForwardingProfile.select().where(ForwardingProfile.service == line.id).exists()
