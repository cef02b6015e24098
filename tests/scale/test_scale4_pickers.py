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
