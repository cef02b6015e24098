"""UI-3: a 2FA code typed with spaces is accepted, a malformed one costs no try; limit pages
offer a way forward that fits the signed-in state; revoking another browser says so."""

from __future__ import annotations

import html

from tests.auth.test_tfa import _revoked_from_another_browser, _to_code_screen


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_ui3_code_typed_with_spaces_is_accepted(tenant, browser):
    code = _to_code_screen(browser, tenant.admin_email, tenant.password)
    response = browser.submit_code(f" {code[:3]} {code[3:]} ")
    assert response.status_code == 303


def test_ui3_malformed_code_costs_no_try(tenant, browser, db_conn):
    from webapp.models import OneTimeCode

    code = _to_code_screen(browser, tenant.admin_email, tenant.password)
    for typed in ("12345", "abc def", "1234567"):
        response = browser.submit_code(typed)
        assert response.status_code == 400 and "Saisissez les 6 chiffres" in text(response)
    assert OneTimeCode.select().order_by(OneTimeCode.id.desc()).first().failed_attempts == 0
    assert browser.submit_code(f"{code[:3]}-{code[3:]}").status_code == 303


def test_ui3_resend_limit_page_offers_sign_in_to_signed_out_user(tenant, browser):
    _to_code_screen(browser, tenant.admin_email, tenant.password)
    responses = [browser.request_code() for _ in range(4)]
    assert responses[-1].status_code == 429
    page = text(responses[-1])
    assert "Revenir au tableau de bord" not in page
    assert 'href="/connexion">Revenir à la connexion' in page


def test_ui3_revoking_another_browser_names_it_so(tenant, new_browser, db_conn):
    _trusted, other, response = _revoked_from_another_browser(new_browser, tenant.admin_email,
                                                              tenant.password)
    page = text(other.client.get(response.headers["Location"]))
    assert "La confiance accordée à l'autre navigateur est révoquée" in page
    assert "à ce navigateur" not in page
