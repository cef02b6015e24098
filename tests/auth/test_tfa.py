"""TFA-1..6: e-mailed codes, trusted browsers, revocation, administration."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from tests.conftest import code_in, text_of

T0 = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


def _to_code_screen(browser, email, password):
    response = browser.password_step(email, password)
    assert response.headers["Location"].endswith("/connexion/verification")
    page = browser.client.get("/connexion/verification").get_data(as_text=True)
    if 'name="code"' not in page:
        browser.request_code()
    return browser.latest_code(email)


def test_tfa1_never_activated_user_sees_activer_then_signs_in(tenant, browser):
    browser.password_step(tenant.admin_email, tenant.password)
    page = browser.client.get("/connexion/verification").get_data(as_text=True)
    assert "Activer" in page and 'name="code"' not in page
    assert browser.client.get("/").status_code == 302  # not signed in yet
    browser.request_code()
    response = browser.submit_code(browser.latest_code(tenant.admin_email))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert browser.client.get("/").status_code == 200


def test_tfa1_activation_is_recorded(tenant, browser, db_conn):
    from webapp.models import TFA_ACTIVE, User

    browser.sign_in(tenant.admin_email, tenant.password)
    assert User.get(User.email == tenant.admin_email).tfa_state == TFA_ACTIVE


def test_tfa2_code_is_single_use(tenant, browser, new_browser):
    code = _to_code_screen(browser, tenant.admin_email, tenant.password)
    assert browser.submit_code(code).status_code == 303
    other = new_browser()
    other.password_step(tenant.admin_email, tenant.password)
    # Active now, so a new code was sent automatically; replaying the old one fails.
    response = other.submit_code(code)
    assert response.status_code == 400


def test_tfa2_code_expires_after_ten_minutes(tenant, browser, time_machine):
    time_machine.move_to(T0, tick=False)
    code = _to_code_screen(browser, tenant.admin_email, tenant.password)
    time_machine.move_to(T0 + dt.timedelta(minutes=10, seconds=1), tick=False)
    response = browser.submit_code(code)
    assert response.status_code == 400
    assert "a expiré" in response.get_data(as_text=True)


def test_tfa2_code_still_valid_just_before_ten_minutes(tenant, browser, time_machine):
    time_machine.move_to(T0, tick=False)
    code = _to_code_screen(browser, tenant.admin_email, tenant.password)
    time_machine.move_to(T0 + dt.timedelta(minutes=9, seconds=59), tick=False)
    assert browser.submit_code(code).status_code == 303


def test_tfa2_code_dies_after_five_wrong_tries(tenant, browser):
    code = _to_code_screen(browser, tenant.admin_email, tenant.password)
    wrong = "000000" if code != "000000" else "111111"
    messages = [browser.submit_code(wrong).get_data(as_text=True) for _ in range(5)]
    assert "Il vous reste 4 essais" in messages[0]
    assert "Il vous reste 1 essai." in messages[3]
    assert "plus valable" in messages[4]
    response = browser.submit_code(code)  # the right code, too late
    assert response.status_code == 400
    assert "plus valable" in response.get_data(as_text=True)


def test_tfa2_new_code_invalidates_previous(tenant, browser):
    first = _to_code_screen(browser, tenant.admin_email, tenant.password)
    browser.request_code()
    second = browser.latest_code(tenant.admin_email)
    assert browser.submit_code(first).status_code == 400 or first == second
    assert browser.submit_code(second).status_code == 303


def test_tfa2_resend_is_rate_limited(tenant, browser):
    _to_code_screen(browser, tenant.admin_email, tenant.password)
    statuses = [browser.request_code().status_code for _ in range(4)]
    assert statuses[-1] == 429


def test_tfa2_code_bound_to_its_signin_attempt(tenant, new_browser):
    first = new_browser()
    code = _to_code_screen(first, tenant.admin_email, tenant.password)
    second = new_browser()
    second.password_step(tenant.admin_email, tenant.password)  # starts another attempt
    assert second.submit_code(code).status_code == 400


def test_tfa2_code_is_stored_hashed(tenant, browser, db_conn):
    from webapp.models import OneTimeCode

    code = _to_code_screen(browser, tenant.admin_email, tenant.password)
    row = OneTimeCode.select().order_by(OneTimeCode.id.desc()).first()
    assert code not in row.code_hash and len(row.code_hash) == 64


def test_tfa2_concurrent_submissions_of_one_code_only_one_wins(tenant, browser, app):
    from webapp.db import db
    from webapp.models import User
    from webapp.services.actor import Actor
    from webapp.services.auth import CodeResult, check_code

    code = _to_code_screen(browser, tenant.admin_email, tenant.password)
    with app.test_request_context():
        pending = None
        with browser.client.session_transaction() as session:
            pending = session["pre_auth"]
    settings = app.extensions["cm_settings"]
    results = []
    barrier = threading.Barrier(10)

    def submit():
        with db.connection_context():
            user = User.get_by_id(pending["user_id"])
            barrier.wait()
            results.append(check_code(user, pending["attempt"], code, settings=settings,
                                      actor=Actor.visitor("127.0.0.1")))

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(CodeResult.OK) == 1
    assert len(results) == 10


# --- TFA-3 -----------------------------------------------------------------------------

def test_tfa3_trusted_browser_skips_code_for_seven_days(tenant, browser, smtp, time_machine):
    time_machine.move_to(T0, tick=False)
    browser.sign_in(tenant.admin_email, tenant.password, trust=True)
    browser.post("/deconnexion", token_from="/")
    time_machine.move_to(T0 + dt.timedelta(days=7) - dt.timedelta(seconds=1), tick=False)
    response = browser.password_step(tenant.admin_email, tenant.password)
    assert response.headers["Location"] == "/"
    browser.post("/deconnexion", token_from="/")
    time_machine.move_to(T0 + dt.timedelta(days=7, seconds=1), tick=False)
    response = browser.password_step(tenant.admin_email, tenant.password)
    assert response.headers["Location"].endswith("/connexion/verification")


def test_tfa3_other_browsers_still_get_codes(tenant, browser, new_browser):
    browser.sign_in(tenant.admin_email, tenant.password, trust=True)
    other = new_browser()
    response = other.password_step(tenant.admin_email, tenant.password)
    assert response.headers["Location"].endswith("/connexion/verification")


def test_tfa3_trust_token_stored_hashed_with_browser_and_ip(tenant, browser, db_conn):
    from webapp.models import TrustedBrowser

    browser.sign_in(tenant.admin_email, tenant.password, trust=True)
    cookie = browser.client.get_cookie("cm_trust", path="/connexion")
    row = TrustedBrowser.get()
    assert cookie.value not in row.token_hash
    assert row.ip == "127.0.0.1" and row.browser
    assert cookie.http_only


# --- TFA-4 -----------------------------------------------------------------------------

def test_tfa4_user_sees_state_and_trusted_browsers(tenant, browser):
    browser.sign_in(tenant.admin_email, tenant.password, trust=True)
    page = browser.client.get("/preferences/securite").get_data(as_text=True)
    assert "Activée" in page and "Révoquer" in page and "127.0.0.1" in page


def _revoked_from_another_browser(new_browser, email, password):
    """One browser signs in trusted, another (not trusted) revokes it from the security
    page: (trusted, other, the revocation's response)."""
    from webapp.models import TrustedBrowser

    trusted = new_browser()
    trusted.sign_in(email, password, trust=True)
    other = new_browser()
    other.sign_in(email, password)
    browser_id = TrustedBrowser.get().id
    response = other.post(f"/preferences/securite/navigateurs/{browser_id}/revoquer",
                          token_from="/preferences/securite")
    return trusted, other, response


def test_tfa4_user_revocation_takes_effect_on_next_request(tenant, new_browser, db_conn):
    trusted, other, _ = _revoked_from_another_browser(new_browser, tenant.admin_email,
                                                      tenant.password)
    assert trusted.client.get("/").status_code == 302  # its session rode on that trust
    assert other.client.get("/").status_code == 200  # unaffected
    trusted.post("/connexion", {"email": tenant.admin_email, "password": tenant.password})
    assert "verification" in trusted.password_step(tenant.admin_email,
                                                   tenant.password).headers["Location"]


# --- TFA-5 -----------------------------------------------------------------------------

def test_tfa5_admin_sees_every_manager_user_with_2fa_state(demo, admin):
    page = admin.client.get("/preferences/acces/utilisateurs").get_data(as_text=True)
    assert "Claire Dubois" in page and "Lucas Petit" in page
    assert "Jamais activée" in page  # Lucas never signed in


def test_tfa5_admin_revocation_takes_effect_on_next_request(tenant, tenant_admin, new_browser,
                                                             db_conn):
    from webapp.models import TrustedBrowser, User

    member = new_browser()
    member.sign_in(tenant.user_email, tenant.password, trust=True)
    user = User.get(User.email == tenant.user_email)
    row = TrustedBrowser.get(TrustedBrowser.user == user)
    admin = tenant_admin
    page = admin.client.get(f"/preferences/acces/utilisateurs/{user.id}").get_data(as_text=True)
    assert "Révoquer" in page
    admin.post(f"/preferences/acces/utilisateurs/{user.id}/navigateurs/{row.id}/revoquer",
               token_from="/compte")
    assert member.client.get("/").status_code == 302
    assert admin.client.get("/").status_code == 200


def test_tfa5_admin_disables_2fa_with_warning_user_can_reactivate(tenant, tenant_admin,
                                                                    new_browser, db_conn):
    from webapp.models import TFA_ACTIVE, TFA_DISABLED, User

    admin = tenant_admin
    user = User.get(User.email == tenant.user_email)
    page = admin.client.get(f"/preferences/acces/utilisateurs/{user.id}").get_data(as_text=True)
    assert "Déconseillé" in page
    admin.post(f"/preferences/acces/utilisateurs/{user.id}/2fa/desactiver", {"confirm": "1"},
               token_from="/compte")
    assert User.get_by_id(user.id).tfa_state == TFA_DISABLED
    member = new_browser()
    response = member.password_step(tenant.user_email, tenant.password)
    assert response.headers["Location"] == "/"  # no code any more
    member.post("/preferences/securite/reactiver", token_from="/preferences/securite")
    code = member.latest_code(tenant.user_email)
    member.post("/preferences/securite/confirmer", {"code": code},
                token_from="/preferences/securite")
    assert User.get_by_id(user.id).tfa_state == TFA_ACTIVE


def test_tfa5_restricted_user_cannot_manage_users(tenant, new_browser):
    user = new_browser()
    user.sign_in(tenant.user_email, tenant.password)
    response = user.client.get("/preferences/acces/utilisateurs")
    assert response.status_code == 403
    assert "Gérer les accès utilisateurs" in response.get_data(as_text=True)


def test_role4_admin_never_sees_another_accounts_users(tenant_admin, db_conn):
    from webapp.services.accounts import create_account, create_admin

    other = create_admin(create_account("Concurrent SA"), "boss@concurrent.example", "Paul",
                         "Concurrent")
    page = tenant_admin.client.get("/preferences/acces/utilisateurs").get_data(as_text=True)
    assert "boss@concurrent.example" not in page
    assert tenant_admin.client.get(f"/preferences/acces/utilisateurs/{other.id}").status_code == 404


# --- TFA-6 -----------------------------------------------------------------------------

def test_tfa6_code_email_names_browser_ip_and_reset_link(tenant, browser, smtp):
    browser.client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0")
    _to_code_screen(browser, tenant.admin_email, tenant.password)
    message = smtp.last(tenant.admin_email)
    text = text_of(message)
    assert "Firefox sur Windows" in text and "127.0.0.1" in text
    assert "réinitialisez-le immédiatement" in text
    assert "http://manager.test/mot-de-passe/oublie" in text
    assert code_in(message)


@pytest.mark.parametrize("path", ["/", "/compte", "/preferences/", "/preferences/securite"])
def test_security_pages_need_a_session(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/connexion?next=" in response.headers["Location"]
