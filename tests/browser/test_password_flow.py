"""ACC-2/ACC-3 in a real browser: the e-mailed link defines the password, then sign-in."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.conftest import link_in

pytestmark = pytest.mark.browser


def test_acc2_acc3_password_defined_through_emailed_link(live_server, page, demo, smtp,
                                                           run_jobs):
    page.goto(live_server.url + "/connexion")
    page.get_by_role("link", name="Mot de passe oublié ou à définir ?").click()
    page.get_by_label("Adresse e-mail").fill(demo.user_email)
    page.get_by_role("button", name="Recevoir le lien").click()
    page.get_by_role("heading", name="Vérifiez votre messagerie").wait_for()
    run_jobs()
    link = link_in(smtp.last(demo.user_email)).replace("http://manager.test", live_server.url)
    page.goto(link)
    assert "/mot-de-passe/definir" in page.url and link.rsplit("/", 1)[1] not in page.url
    page.get_by_label("Nouveau mot de passe").fill("azertyuiop")
    page.get_by_label("Confirmez le mot de passe").fill("azertyuiop")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    page.get_by_role("alert").filter(has_text="trop courant").wait_for()
    screenshot(page, "password-refused")
    page.get_by_label("Nouveau mot de passe").fill("mon chat aime le jardin")
    page.get_by_label("Confirmez le mot de passe").fill("mon chat aime le jardin")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    page.get_by_text("Votre mot de passe est défini").wait_for()
    assert page.get_by_label("Adresse e-mail").input_value() == demo.user_email
    page.get_by_label("Mot de passe").fill("mon chat aime le jardin")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Activer").wait_for()  # ACC-3: 2FA still applies
    screenshot(page, "password-then-2fa")
