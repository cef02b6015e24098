"""SCALE-4: with 1,000 sites every site picker is a searchable field (HTMX active search,
a plain search page without JS), never a 1,000-option <select>; the role scope is a
searchable checklist; the service list page stays small."""

from __future__ import annotations

import gzip
import re

import pytest

from tests.scale.conftest import PASSWORD, make_account


@pytest.fixture
def big(app, db_conn, browser):
    """An account with 1,001 sites (10 regions × 10 towns × 9 agencies, the default) and
    300 contacts."""
    from webapp.db import db
    from webapp.models import Contact, Site, utcnow

    account, welcome, lines, admin = make_account("Grande", "+33140000")
    now = utcnow()
    with db.atomic():
        for r in range(10):
            region = Site.create(account=account, name=f"Région {r:02d}")
            for t in range(10):
                town = Site.create(account=account, parent=region, name=f"Ville {r}-{t}")
                Site.insert_many([{"account": account.id, "parent": town.id, "created_at": now,
                                   "name": f"Agence {r}-{t}-{k}", "is_default": False}
                                  for k in range(9)]).execute()
        ids = [i for (i,) in Site.select(Site.id).where(Site.account == account).tuples()]
        Contact.insert_many([{"account": account.id, "site": ids[i % len(ids)],
                              "first_name": "Contact", "last_name": f"N{i}", "created_at": now}
                             for i in range(300)]).execute()
    assert len(ids) >= 1000
    browser.sign_in(admin, PASSWORD)
    return account, welcome, lines, browser


def options(html: str) -> int:
    return html.count("<option")


def test_scale4_service_list_filter_is_a_search_field_and_page_stays_small(big):
    from webapp.models import Site

    account, _welcome, lines, browser = big
    r = browser.client.get("/services")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="pk-site"' in html and 'name="site__q"' in html and 'hx-get="/choisir/sites' in html
    assert options(html) < 20  # the type filter only: no site <option> at all
    assert len(gzip.compress(r.data)) <= 10 * 1024
    # active search: matches only, as radio buttons with their path in the tree
    r = browser.client.get("/choisir/sites", query_string={"name": "site", "site__q": "ville 3-",
                                                            "empty": "Tous les sites"},
                           headers={"HX-Request": "true"})
    part = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in part
    assert part.count('type="radio" name="site"') == 11  # 10 towns + "Tous les sites"
    assert "Région 03 › Ville 3-0" in part and "Agence" not in part
    # without JS: the filter form submitted with a search text shows the matches
    r = browser.client.get("/services", query_string={"site__q": "agence 9-9-7"})
    html = r.get_data(as_text=True)
    assert "Région 09 › Ville 9-9 › Agence 9-9-7" in html
    # the chosen site filters the list (its sub-sites included)
    town = Site.get((Site.account == account) & (Site.name == "Ville 9-9"))
    html = browser.client.get(f"/services?site={town.id}").get_data(as_text=True)
    assert f'value="{town.id}" checked' in html and "Aucun service" in html


def test_scale4_plain_search_page_links_back_with_the_site_chosen(big):
    from webapp.models import Site

    account, _welcome, (line, *_), browser = big
    page = f"/services/{line.id}"
    html = browser.client.get(page).get_data(as_text=True)
    assert 'id="pk-site_id"' in html and options(html) < 5
    link = re.search(r'href="(/choisir/sites\?[^"]+)"', html).group(1).replace("&amp;", "&")
    r = browser.client.get(link + "&site_id__q=agence 4-2-")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" in html
    agency = Site.get((Site.account == account) & (Site.name == "Agence 4-2-5"))
    back = f"{page}?site_id={agency.id}"
    assert f'href="{back}"' in html
    html = browser.client.get(back).get_data(as_text=True)
    assert f'value="{agency.id}" checked' in html and "Ville 4-2 › Agence 4-2-5" in html
    r = browser.post(f"/services/{line.id}/site", {"site_id": str(agency.id)}, token_from=page)
    assert r.status_code in (302, 303)
    from webapp.models import Service

    assert Service.get_by_id(line.id).site_id == agency.id


def test_scale4_role_scope_is_a_searchable_checklist_and_contact_site_a_search(big):
    _account, _welcome, _lines, browser = big
    html = browser.client.get("/preferences/acces/roles/nouveau").get_data(as_text=True)
    assert 'id="pk-sites"' in html and "multiple" not in html.split('id="pk-sites"')[1][:400]
    assert options(html) == 0
    r = browser.client.get("/choisir/sites", query_string={"name": "sites", "multi": "1",
                                                            "sites__q": "région 0"},
                           headers={"HX-Request": "true"})
    part = r.get_data(as_text=True)
    assert part.count('type="checkbox" name="sites"') == 10
    html = browser.client.get("/annuaire/nouveau").get_data(as_text=True)
    assert 'id="pk-site_id"' in html and options(html) < 5


def test_scale4_voicemail_e_mail_field_suggests_a_few_contacts_by_active_search(big):
    from webapp.models import Contact

    account, _welcome, (line, *_), browser = big
    Contact.update(email=Contact.last_name.concat("@grande.test")).where(
        Contact.account == account.id).execute()
    html = browser.client.get(f"/services/{line.id}/ligne/messagerie").get_data(as_text=True)
    datalist = html.split('id="contact-emails"')[1].split("</datalist>")[0]
    assert datalist.count("<option") <= 20  # not 300 (10,000 in a large directory)
    assert 'hx-get="/choisir/contacts/emails"' in html
    part = browser.client.get("/choisir/contacts/emails", query_string={"notify_email": "n29"},
                              headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'value="N29@grande.test"' in part and 'value="N1@grande.test"' not in part
    assert part.count("<option") == 11  # n29, n290..n299


@pytest.fixture
def many_lines(big):
    """The big account with 40 more fixed lines (beyond a plain <select>'s 30)."""
    from webapp.services.accounts import default_site
    from webapp.services.provisioning import create_service

    account, welcome, lines, browser = big
    site = default_site(account)
    extra = [create_service(account=account, site=site, kind="fixed",
                            number=f"+331400002{i:02d}", label=f"Poste {i:02d}")
             for i in range(40)]
    return account, welcome, [*lines, *extra], browser


def largest_select(html: str) -> int:
    return max((len(re.findall(r"<option", part.split("</select>")[0]))
                for part in html.split("<select")[1:]), default=0)


def test_scale4_line_fields_are_searches_beyond_thirty_lines(many_lines):
    from webapp.models import Equipment

    account, _welcome, lines, browser = many_lines
    html = browser.client.get("/services/equipements/nouveau").get_data(as_text=True)
    assert 'id="pk-line_id"' in html and 'hx-get="/choisir/lignes"' in html
    field = html.split('id="pk-line_id"')[1].split("</fieldset>")[0]
    assert field.count('type="radio"') == 1  # "Aucune ligne": no line listed before a search
    r = browser.client.get("/choisir/lignes", query_string={"name": "line_id",
                                                             "line_id__q": "poste 1",
                                                             "empty": "Aucune ligne"},
                           headers={"HX-Request": "true"})
    part = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in part
    assert part.count('type="radio" name="line_id"') == 11  # Poste 10..19 + "Aucune ligne"
    assert "Poste 12 — 01 40 00 02 12" in part
    by_number = browser.client.get("/choisir/lignes", query_string={
        "name": "line_id", "line_id__q": "01 40 00 02 3"}, headers={"HX-Request": "true"})
    assert by_number.get_data(as_text=True).count('type="radio"') == 10  # …230 to …239
    nothing = browser.client.get("/choisir/lignes", query_string={
        "name": "line_id", "line_id__q": "zzz"}, headers={"HX-Request": "true"})
    assert "Aucune ligne ne correspond à « zzz »." in nothing.get_data(as_text=True)
    # without JS: the search page links back to the form with the line chosen
    page = "/services/equipements/nouveau"
    r = browser.client.get("/choisir/lignes", query_string={"name": "line_id", "next": page,
                                                             "line_id__q": "poste 07"})
    html = r.get_data(as_text=True)
    chosen = lines[2 + 7]
    back = f"{page}?line_id={chosen.id}"
    assert r.status_code == 200 and "<html" in html and f'href="{back}"' in html
    html = browser.client.get(back).get_data(as_text=True)
    assert f'value="{chosen.id}" checked' in html
    # the chosen line is saved; a line of another account is refused, nothing saved
    site = str(lines[0].site_id)
    form = {"model": "Yealink T54W", "mac": "00:15:65:AB:CD:01", "label": "", "site_id": site,
            "line_id": str(chosen.id)}
    r = browser.post(page, form, token_from=page)
    assert r.status_code in (302, 303)
    assert Equipment.get(Equipment.mac == "00:15:65:AB:CD:01").line_id == chosen.id
    _other_account, _w, (other, *_rest), _email = make_account("Autre", "+33150000")
    r = browser.post(page, {**form, "mac": "00:15:65:AB:CD:02", "line_id": str(other.id)},
                     token_from=page)
    assert r.status_code == 400 and "Choisissez une ligne fixe de la liste." in r.get_data(
        as_text=True)
    assert not Equipment.select().where(Equipment.mac == "00:15:65:AB:CD:02").exists()
    # another account's line is never offered by the search either
    part = browser.client.get("/choisir/lignes", query_string={
        "name": "line_id", "line_id__q": other.number}, headers={"HX-Request": "true"})
    assert f'value="{other.id}"' not in part.get_data(as_text=True)


def test_scale4_back_office_deployment_site_is_a_search(big, staff):
    account, _welcome, _lines, _browser = big
    html = staff.client.get(f"/ops/comptes/{account.id}").get_data(as_text=True)
    assert 'id="pk-site"' in html and largest_select(html) <= 50
    url = f"/ops/comptes/{account.id}/choisir/sites"
    assert f'hx-get="{url}"' in html
    part = staff.client.get(url, query_string={"name": "site", "site__q": "ville 3-",
                                               "empty": "Tous sites"},
                            headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.count('type="radio" name="site"') == 11 and "Région 03 › Ville 3-0" in part
    page = staff.client.get(url, query_string={"name": "site", "site__q": "agence 2-2-2",
                                               "next": f"/ops/comptes/{account.id}"})
    assert page.status_code == 200 and "Région 02 › Ville 2-2 › Agence 2-2-2" in page.get_data(
        as_text=True)
    # a customer's session does not open the back office's search
    assert _browser.client.get(url).status_code in (302, 303, 403, 404)


def test_scale4_no_page_renders_a_select_of_more_than_fifty_options(many_lines):
    account, _welcome, lines, browser = many_lines
    pages = ["/services", f"/services/{lines[0].id}", "/services/equipements",
             "/services/equipements/nouveau", "/annuaire", "/annuaire/nouveau",
             "/preferences/acces/roles/nouveau", "/gerer/sites", "/"]
    for path in pages:
        r = browser.client.get(path)
        assert r.status_code == 200, path
        assert largest_select(r.get_data(as_text=True)) <= 50, path
