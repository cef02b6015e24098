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


@pytest.fixture
def crowded(big):
    """The big account with 220 more lines: 180 fixed ("Poste 000".."Poste 179") and 40
    mobile ("Mobile 00".."Mobile 39"), far beyond any list a person scrolls."""
    from webapp.db import db
    from webapp.models import Service, utcnow
    from webapp.services.accounts import default_site

    account, welcome, lines, browser = big
    site = default_site(account)
    now = utcnow()
    rows = [{"account": account.id, "site": site.id, "kind": "fixed", "created_at": now,
             "number": f"+33140003{i:03d}", "label": f"Poste {i:03d}"} for i in range(180)]
    rows += [{"account": account.id, "site": site.id, "kind": "mobile", "created_at": now,
              "number": f"+3361000{i:04d}", "label": f"Mobile {i:02d}"} for i in range(40)]
    with db.atomic():
        Service.insert_many(rows).execute()
    return account, welcome, lines, browser


def test_scale4_forward_to_line_is_a_search_with_more_than_two_hundred_lines(crowded):
    from webapp.models import ForwardingProfile, Service

    account, _welcome, (line, *_), browser = crowded
    page = f"/services/{line.id}/ligne/renvois/nouveau"
    html = browser.client.get(page).get_data(as_text=True)
    assert largest_select(html) < 10  # the destination kinds only, never the 220 lines
    search = f"/choisir/lignes?types=fixed,mobile&amp;sauf={line.id}"
    for rule in ("immediate", "busy", "noanswer", "unavailable"):
        assert f'id="pk-{rule}_line"' in html and f'name="{rule}_line__q"' in html
    assert f'hx-get="{search}"' in html
    # active search: fixed and mobile lines of the account, never the line being edited
    args = {"name": "busy_line", "types": "fixed,mobile", "sauf": str(line.id),
            "empty": "— Choisir une ligne —"}
    part = browser.client.get("/choisir/lignes", query_string={**args, "busy_line__q": "mobile 1"},
                              headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.count('type="radio" name="busy_line"') == 11  # Mobile 10..19 + the empty choice
    assert "Mobile 12 — 06 10 00 00 12" in part
    own = browser.client.get("/choisir/lignes", query_string={**args, "busy_line__q": line.number},
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'value="{line.id}"' not in own
    # without JS: the search page links back to the form with the line chosen
    mobile = Service.get((Service.account == account.id) & (Service.label == "Mobile 07"))
    r = browser.client.get("/choisir/lignes", query_string={**args, "next": page,
                                                             "busy_line__q": "mobile 07"})
    html = r.get_data(as_text=True)
    back = f"{page}?busy_line={mobile.id}"
    assert r.status_code == 200 and "<html" in html and f'href="{back}"' in html
    html = browser.client.get(back).get_data(as_text=True)
    assert f'name="busy_line" value="{mobile.id}" checked' in html
    # saved with the line chosen; another account's line is refused, nothing saved
    form = {"name": "Absent", "immediate_kind": "none", "busy_kind": "line",
            "busy_line": str(mobile.id), "noanswer_kind": "none", "unavailable_kind": "none",
            "noanswer_delay_s": "20"}
    r = browser.post(f"/services/{line.id}/ligne/renvois", form, token_from=page)
    assert r.status_code in (302, 303)
    saved = ForwardingProfile.get((ForwardingProfile.service == line.id)
                                  & (ForwardingProfile.name == "Absent"))
    assert saved.busy_line_id == mobile.id
    _other, _w, (foreign, *_rest), _email = make_account("Autre", "+33150000")
    r = browser.post(f"/services/{line.id}/ligne/renvois",
                     {**form, "name": "Ailleurs", "busy_line": str(foreign.id)}, token_from=page)
    assert r.status_code == 400
    assert "Choisissez une ligne de votre entreprise dans la liste." in r.get_data(as_text=True)
    assert not ForwardingProfile.select().where(ForwardingProfile.name == "Ailleurs").exists()


def test_scale4_queue_line_to_add_is_a_search_that_works_without_js(crowded):
    from webapp.models import Service, WelcomeProfile

    account, welcome, lines, browser = crowded
    queue = WelcomeProfile.get(WelcomeProfile.service == welcome.id)
    page = f"/configurer/numeros-accueil/{welcome.id}/profils/{queue.id}"
    html = browser.client.get(page).get_data(as_text=True)
    in_queue = ",".join(str(li.id) for li in lines)
    assert 'id="pk-add_line"' in html and f'hx-get="/choisir/lignes?sauf={in_queue}' in html
    assert largest_select(html) < 10  # never a select of the 180 fixed lines
    # without JS: the typed search is applied in the form itself (rows kept, nothing saved)
    post = {"name": queue.name, "kind": "queue", "size": "5", "rest_s": "0", "ring_s": "60",
            "mode": "idle", "line": [str(li.id) for li in lines], "priority": ["1", "1"],
            "weight": ["1", "1"]}
    r = browser.post(page, {**post, "op": "refresh", "add_line__q": "poste 12"},
                     token_from=page)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert html.count('type="radio" name="add_line"') == 10  # Poste 120..129
    mobile = Service.get((Service.account == account.id) & (Service.label == "Mobile 03"))
    assert f'value="{mobile.id}"' not in html  # a queue takes fixed lines only
    poste = Service.get((Service.account == account.id) & (Service.label == "Poste 123"))
    r = browser.post(page, {**post, "op": "add", "add_line": str(poste.id)}, token_from=page)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and f'name="line" value="{poste.id}"' in html
    assert "Poste 123 — 01 40 00 31 23" in html
    # a line already in the queue is not offered again (form search and HTMX search)
    kept = {**post, "line": post["line"] + [str(poste.id)], "priority": ["1"] * 3,
            "weight": ["1"] * 3}
    r = browser.post(page, {**kept, "op": "refresh", "add_line__q": "poste 12"},
                     token_from=page)
    html = r.get_data(as_text=True)
    assert html.count('type="radio" name="add_line"') == 9
    assert f'name="add_line" value="{poste.id}"' not in html
    found = browser.client.get(f"/choisir/lignes?sauf={poste.id}&name=add_line"
                               "&add_line__q=poste+12",
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert found.count('name="add_line"') == 9 and f'value="{poste.id}"' not in found
    # a line of another account (or a mobile line) is refused
    _other, _w, (foreign, *_rest), _email = make_account("Autre", "+33150000")
    for refused in (foreign, mobile):
        r = browser.post(page, {**post, "op": "add", "add_line": str(refused.id)},
                         token_from=page)
        assert r.status_code == 404


def test_scale4_back_office_invoice_order_is_a_search(big, staff):
    from webapp.db import db
    from webapp.models import Invoice, Order, utcnow

    account, _welcome, _lines, customer = big
    now = utcnow()
    with db.atomic():
        Order.insert_many([{"account": account.id, "reference": f"CMD-9{i:03d}",
                            "title": f"Postes lot {i:03d}", "created_at": now,
                            "updated_at": now} for i in range(60)]).execute()
    page = f"/ops/comptes/{account.id}"
    html = staff.client.get(page).get_data(as_text=True)
    invoice_form = html.split('id="invoices"')[1]
    assert 'id="pk-order"' in invoice_form and "<select" not in invoice_form
    url = f"/ops/comptes/{account.id}/choisir/commandes"
    assert f'hx-get="{url}"' in invoice_form
    part = staff.client.get(url, query_string={"name": "order", "order__q": "lot 04",
                                               "empty": "Aucune commande"},
                            headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.count('type="radio" name="order"') == 11  # lot 040..049 + "Aucune commande"
    assert "CMD-9042 — Postes lot 042" in part
    # without JS: the search page links back to the account page with the order chosen
    chosen = Order.get(Order.reference == "CMD-9017")
    r = staff.client.get(url, query_string={"name": "order", "order__q": "cmd-9017",
                                            "next": page})
    back = f"{page}?order={chosen.id}"
    assert r.status_code == 200 and f'href="{back}"' in r.get_data(as_text=True)
    html = staff.client.get(back).get_data(as_text=True)
    assert f'name="order" value="{chosen.id}" checked' in html
    r = staff.post(f"/ops/comptes/{account.id}/factures",
                   {"label": "Lot 17", "amount": "120", "due_on": "2027-01-31",
                    "order": str(chosen.id)}, token_from=page)
    assert r.status_code in (302, 303)
    assert Invoice.get(Invoice.label == "Lot 17").order_id == chosen.id
    # a customer's session does not open the back office's search
    assert customer.client.get(url).status_code in (302, 303, 403, 404)
