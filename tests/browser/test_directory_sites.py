"""Issue 4 in a real browser: site tree (SITE-1/2/4), holder (DIR-3), live search (DIR-1)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser




def row(page, name: str):
    return page.locator(".site-row", has=page.locator(".site-name", has_text=re.compile(
        f"^{re.escape(name)}$")))


def test_site1_site2_site4_build_rename_and_forbidden_delete(live_server, page, demo, smtp,
                                                              run_jobs, db_conn):
    from webapp.models import Service, Site

    sign_in(page, live_server, demo, smtp, run_jobs, "/gerer/sites")
    page.get_by_role("heading", name="Sites").wait_for()
    # Level 1 at the top of the tree.
    page.get_by_label("Nouveau site").fill("Marseille")
    page.get_by_role("button", name="Créer le site").click()
    row(page, "Marseille").wait_for()
    # Level 2 and 3, each with the inline "Ajouter un sous-site" form.
    row(page, "Marseille").get_by_role("link", name="Ajouter un sous-site").click()
    page.get_by_label("Nouveau sous-site de Marseille").fill("Vieux-Port")
    page.get_by_label("Nouveau sous-site de Marseille").press("Enter")
    row(page, "Vieux-Port").wait_for()
    row(page, "Vieux-Port").get_by_role("link", name="Ajouter un sous-site").click()
    page.get_by_label("Nouveau sous-site de Vieux-Port").fill("Quai 3")
    page.get_by_role("button", name="Créer", exact=True).click()
    row(page, "Quai 3").wait_for()
    # Inline rename, keyboard only.
    row(page, "Quai 3").get_by_role("link", name="Renommer").click()
    field = page.get_by_label("Nouveau nom de Quai 3")
    field.fill("Quai des Belges")
    field.press("Enter")
    row(page, "Quai des Belges").wait_for()
    screenshot(page, "sites-tree-three-levels")
    quai = Site.get(Site.name == "Quai des Belges")
    assert quai.parent.name == "Vieux-Port" and quai.parent.parent.name == "Marseille"
    # A service deep down makes the top site undeletable; the refusal says what and where.
    Service.update(site=quai.id).where(Service.number == "+33100000109").execute()
    page.on("dialog", lambda dialog: dialog.accept())
    row(page, "Marseille").get_by_role("button", name="Supprimer").click()
    refusal = page.get_by_role("alert").filter(has_text="Suppression impossible")
    refusal.wait_for()
    assert "01 00 00 01 09" in refusal.inner_text()
    assert "Marseille › Vieux-Port › Quai des Belges" in refusal.inner_text()
    screenshot(page, "sites-delete-refused")
    assert Site.get_or_none(Site.name == "Marseille") is not None
    # Collapse and expand a branch: only that node is re-rendered.
    marseille = Site.get(Site.name == "Marseille")
    page.locator(f"#site-{marseille.id} > .site-row a.toggle").click()
    page.locator(f"#children-{marseille.id}").wait_for(state="detached")
    page.locator(f"#site-{marseille.id} > .site-row a.toggle").click()
    row(page, "Vieux-Port").wait_for()


def test_site4_tree_on_a_phone_and_a_tablet(live_server, new_page, demo, smtp, run_jobs):
    phone = new_page(width=390, height=844)
    sign_in(phone, live_server, demo, smtp, run_jobs, "/gerer/sites")
    row(phone, "Lyon").wait_for()
    row(phone, "Lyon").locator("a.toggle").click()
    row(phone, "Entrepôt").wait_for()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(phone, "sites-tree-phone")
    tablet = new_page(width=800, height=1280)
    tablet.context.add_cookies(phone.context.cookies())
    tablet.goto(live_server.url + "/gerer/sites")
    row(tablet, "Paris — Siège").wait_for()
    screenshot(tablet, "sites-tree-tablet")


def test_dir3_change_holder_in_browser(live_server, page, demo, smtp, run_jobs, db_conn):
    from webapp.models import Contact, Service, ServiceContact

    line = Service.get(Service.number == "+33100000101")
    sign_in(page, live_server, demo, smtp, run_jobs, f"/services/{line.id}")
    page.get_by_label("Rechercher un contact à associer").fill("Morel")
    page.get_by_role("button", name="Associer Arthur Morel").click()
    page.get_by_role("radio", name="Arthur Morel").check()
    page.get_by_role("button", name="Enregistrer le titulaire").click()
    page.get_by_text("Le titulaire est enregistré.").wait_for()
    screenshot(page, "service-holder")
    arthur = Contact.get(Contact.first_name == "Arthur")
    assert Service.get_by_id(line.id).holder_id == arthur.id
    assert ServiceContact.select().where(ServiceContact.service == line).count() == 2


def test_dir1_live_search_updates_results_and_url(live_server, page, demo, smtp, run_jobs):
    sign_in(page, live_server, demo, smtp, run_jobs, "/annuaire")
    results = page.locator("#contact-results")
    results.get_by_text("Dubois").first.wait_for()
    page.get_by_label("Rechercher un contact").press_sequentially("lefèvre", delay=40)
    page.wait_for_url(re.compile(r"/annuaire\?q=lef%C3%A8vre$"))
    results.get_by_text("1 contact trouvé").wait_for()
    assert "Lefèvre" in results.inner_text() and "Dubois" not in results.inner_text()
    screenshot(page, "directory-search")
    # The bookmarked URL gives the same result on reload.
    page.reload()
    assert page.get_by_label("Rechercher un contact").input_value() == "lefèvre"
    assert "Dubois" not in page.locator("#contact-results").inner_text()
