"""TFA-1/TFA-3 in a real browser: first sign-in with activation, trust, sign out and in."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.conftest import code_in

pytestmark = pytest.mark.browser


def test_tfa1_tfa3_first_signin_activation_then_trusted_browser(live_server, page, demo, smtp,
                                                                 run_jobs):
    page.goto(live_server.url + "/")
    assert "/connexion" in page.url
    page.get_by_label("Adresse e-mail").fill(demo.admin_email)
    page.get_by_label("Mot de passe").fill(demo.password)
    screenshot(page, "signin")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Activer").wait_for()
    screenshot(page, "tfa-activate")
    page.get_by_role("button", name="Activer").click()
    page.get_by_label("Code de vérification").wait_for()
    run_jobs()
    code = code_in(smtp.last(demo.admin_email))
    page.get_by_label("Code de vérification").fill(code)
    page.get_by_label("Faire confiance à ce navigateur").check()
    screenshot(page, "tfa-code")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Tableau de bord").wait_for()
    screenshot(page, "dashboard")

    # Sign out, then back in: the trusted browser is not asked for a code.
    page.locator("summary", has_text="Claire Dubois").click()
    page.get_by_role("button", name="Déconnexion").click()
    page.get_by_label("Adresse e-mail").fill(demo.admin_email)
    page.get_by_label("Mot de passe").fill(demo.password)
    mails_before = len(smtp.messages(demo.admin_email))
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Tableau de bord").wait_for()
    run_jobs()
    assert len(smtp.messages(demo.admin_email)) == mails_before
