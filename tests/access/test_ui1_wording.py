"""UI-1 wording a French reader expects: no "de Hélène" elision fault, no "Elle pourra"
about a man (neutral wording), no stray "·" in Préférences."""

from __future__ import annotations

import html
import re

from tests.factories import make_user


def text(response) -> str:
    page = html.unescape(response.get_data(as_text=True))
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_ui1_access_removal_names_the_person_without_elision_fault(admin, demo, db_conn):
    helene, _role = make_user(demo.account, "helene.test@atelier-dupont.example", "Hélène",
                              "services.manage", "account", [], demo.password)
    url = f"/preferences/acces/utilisateurs/{helene.id}/retirer"
    page = text(admin.client.get(url))
    assert "Retirer l'accès au Manager : Hélène Test" in page
    assert "de Hélène" not in page and "d'Hélène" not in page.replace("au Manager : ", "")
    assert 'class="danger"' in admin.client.get(url).get_data(as_text=True)


def test_ui1_tfa_disable_wording_is_neutral_whoever_the_user_is(admin, demo, db_conn):
    from webapp.models import User

    lucas = User.get(User.email == demo.user_email)  # a man
    url = f"/preferences/acces/utilisateurs/{lucas.id}"
    page = text(admin.client.get(url))
    assert "l'utilisateur pourra la réactiver depuis ses préférences" in page
    response = admin.post(url + "/2fa/desactiver", token_from=url)
    assert response.status_code == 303
    after = text(admin.client.get(url))
    assert "qui pourra la réactiver depuis ses préférences" in after
    for shown in (page, after):
        assert "Elle pourra" not in shown and "Il pourra" not in shown


def test_ui1_preferences_page_has_no_stray_separator(admin):
    page = admin.client.get("/preferences/").get_data(as_text=True)
    main = page[page.index("<main"):page.index("</main>")]
    assert "·" not in main and "&middot;" not in main
    assert "Gestion des accès" in main and "Sécurité — Double authentification" in main
