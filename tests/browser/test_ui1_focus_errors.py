"""UI-1: after a refused form, keyboard focus lands on the error summary (or the first
invalid field) — for a full-page post (the page is reloaded with the errors) and for an
HTMX form refused in place — so a keyboard or screen-reader user starts from what to fix."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

FOCUSED = """() => { const a = document.activeElement;
  return {id: a.id, tag: a.tagName.toLowerCase(), text: a.textContent.trim(),
          invalid: a.getAttribute("aria-invalid")}; }"""


def test_ui1_refused_full_page_post_focuses_the_error_summary(live_server, page, demo, smtp,
                                                               run_jobs):
    page.goto(live_server.url + "/connexion")  # signed out: a wrong password
    page.get_by_label("Adresse e-mail").fill(demo.admin_email)
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    focused = page.evaluate(FOCUSED)
    assert focused["id"] == "form-error" and focused["text"], focused

    sign_in(page, live_server, demo, smtp, run_jobs, "/annuaire/nouveau")
    page.get_by_label("Prénom").fill("Hélène")
    page.get_by_label("E-mail").fill("pas-une-adresse")
    with page.expect_navigation():  # this form is posted by the browser, no htmx
        page.get_by_role("button", name="Enregistrer").click()
    assert page.get_by_label("E-mail").get_attribute("aria-invalid") == "true"
    focused = page.evaluate(FOCUSED)
    assert focused["id"] == "form-error", focused
    assert "corrigez les champs signalés" in focused["text"]
    page.keyboard.press("Tab")  # the next stop is inside the form, towards the fields
    assert page.evaluate("document.activeElement.closest('form') !== null")


def test_ui1_refused_htmx_form_focuses_the_error_summary_in_place(live_server, page, demo, smtp,
                                                                   run_jobs, db_conn):
    from webapp.models import Service

    line = Service.get(Service.number == "+33100000101")
    sign_in(page, live_server, demo, smtp, run_jobs, f"/services/{line.id}/ligne/renvois/nouveau")
    page.evaluate("window.sameDocument = true")
    page.get_by_label("Nom du profil").fill("")
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.locator("#form-error").wait_for()
    assert page.evaluate("window.sameDocument === true")  # swapped in place, not reloaded
    # htmx settles the swap a moment after it shows; focus follows the settle
    page.wait_for_function("() => document.activeElement !== document.body", timeout=5000)
    focused = page.evaluate(FOCUSED)
    assert focused["id"] == "form-error" and focused["text"], focused
