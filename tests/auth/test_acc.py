"""ACC-1..6: sign-in, password links, password rules, applications, throttling."""

from __future__ import annotations

import re

from tests.conftest import link_in, text_of


def _users(db_conn):
    from webapp.models import User

    return User


# --- ACC-1 -------------------------------------------------------------------------------

def test_acc1_contact_without_service_or_licence_cannot_sign_in(tenant, browser, db_conn):
    from webapp.models import Contact, Licence, ServiceContact, User

    user = User.get(User.email == tenant.user_email)
    ServiceContact.delete().where(ServiceContact.contact == user.contact_id).execute()
    Licence.delete().where(Licence.contact == user.contact_id).execute()
    from webapp.models import Service

    Service.update(holder=None).where(Service.holder == user.contact_id).execute()
    response = browser.password_step(tenant.user_email, tenant.password)
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)
    assert Contact.get_by_id(user.contact_id)  # nothing else changed


def test_acc1_manager_needs_a_role_with_permissions(tenant, browser, db_conn):
    from webapp.models import User, UserRole

    user = User.get(User.email == tenant.user_email)
    UserRole.delete().where(UserRole.user == user).execute()
    response = browser.password_step(tenant.user_email, tenant.password)
    assert response.status_code == 403
    assert "il faut au moins un rôle avec des permissions" in response.get_data(as_text=True)


def test_acc1_signin_uses_the_contact_email_case_insensitively(tenant, browser):
    response = browser.sign_in(tenant.admin_email.upper(), tenant.password)
    assert response.headers["Location"] == "/"


# --- ACC-2 / ACC-3 -------------------------------------------------------------------------

def _ask_link(browser, email):
    return browser.post("/mot-de-passe/oublie", {"email": email})


def strip_tokens(response, email: str) -> str:
    """The page with its CSRF tokens (form fields and the body's HTMX header) and the typed
    address blanked: a token carries the second it was signed, so two pages asked a second
    apart differ there and only there."""
    html = re.sub(r'value="[^"]+"', "", response.get_data(as_text=True))
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html).replace(email, "X")


def test_acc2_same_answer_for_known_and_unknown_addresses(tenant, browser, run_jobs, smtp):
    known = _ask_link(browser, tenant.admin_email)
    unknown = _ask_link(browser, "personne@inconnu.example")
    assert known.status_code == unknown.status_code == 200
    assert strip_tokens(known, tenant.admin_email) == strip_tokens(unknown,
                                                                   "personne@inconnu.example")
    run_jobs()
    assert len(smtp.messages(tenant.admin_email)) == 1
    assert smtp.messages("personne@inconnu.example") == []


def test_acc2_link_is_single_use(tenant, browser, run_jobs, smtp):
    _ask_link(browser, tenant.user_email)
    run_jobs()
    link = link_in(smtp.last(tenant.user_email)).replace("http://manager.test", "")
    assert browser.client.get(link).status_code == 303
    done = browser.post("/mot-de-passe/definir",
                        {"password": "une phrase secrète", "confirm": "une phrase secrète"})
    assert done.status_code == 303
    assert browser.client.get(link).status_code == 303
    again = browser.client.get("/mot-de-passe/definir")
    assert again.status_code == 410
    assert "n'est plus valable" in again.get_data(as_text=True)


def test_acc2_link_expires_after_one_hour(tenant, browser, run_jobs, smtp, time_machine):
    import datetime as dt

    time_machine.move_to(dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC), tick=False)
    _ask_link(browser, tenant.user_email)
    run_jobs()
    link = link_in(smtp.last(tenant.user_email)).replace("http://manager.test", "")
    time_machine.move_to(dt.datetime(2026, 11, 29, 10, 59, 59, tzinfo=dt.UTC), tick=False)
    browser.client.get(link)
    assert browser.client.get("/mot-de-passe/definir").status_code == 200
    time_machine.move_to(dt.datetime(2026, 11, 29, 11, 0, 1, tzinfo=dt.UTC), tick=False)
    assert browser.client.get("/mot-de-passe/definir").status_code == 410


def test_acc2_newer_link_supersedes_older(tenant, browser, run_jobs, smtp):
    _ask_link(browser, tenant.user_email)
    run_jobs()
    first = link_in(smtp.last(tenant.user_email)).replace("http://manager.test", "")
    _ask_link(browser, tenant.user_email)
    run_jobs()
    second = link_in(smtp.last(tenant.user_email)).replace("http://manager.test", "")
    assert first != second
    browser.client.get(first)
    assert browser.client.get("/mot-de-passe/definir").status_code == 410
    browser.client.get(second)
    assert browser.client.get("/mot-de-passe/definir").status_code == 200


def test_acc2_first_definition_for_contact_with_services(app, demo, browser, run_jobs, smtp,
                                                          db_conn):
    """Emma has a line and a CallPad licence but never had a password."""
    from webapp.models import User

    email = "emma.moreau@atelier-dupont.example"
    assert User.get_or_none(User.email == email) is None
    _ask_link(browser, email)
    run_jobs()
    link = link_in(smtp.last(email)).replace("http://manager.test", "")
    browser.client.get(link)
    response = browser.post("/mot-de-passe/definir",
                            {"password": "le café du matin", "confirm": "le café du matin"})
    # ACC-3: not a Manager user: told to go back to the application.
    assert response.headers["Location"].endswith("/mot-de-passe/termine")
    page = browser.client.get("/mot-de-passe/termine").get_data(as_text=True)
    assert "Retournez dans l'application" in page
    assert User.get(User.email == email).password_hash.startswith("$argon2id$")


def test_acc3_manager_user_continues_to_signin_with_2fa(tenant, browser, run_jobs, smtp):
    _ask_link(browser, tenant.user_email)
    run_jobs()
    browser.client.get(link_in(smtp.last(tenant.user_email)).replace("http://manager.test", ""))
    response = browser.post("/mot-de-passe/definir",
                            {"password": "nouvelle phrase secrète", "confirm":
                             "nouvelle phrase secrète"})
    assert "/connexion" in response.headers["Location"]
    step = browser.password_step(tenant.user_email, "nouvelle phrase secrète")
    assert step.headers["Location"].endswith("/connexion/verification")  # 2FA still applies


def test_acc3_setting_password_ends_other_sessions_and_trusted_browsers(
        tenant, new_browser, run_jobs, smtp, db_conn):
    from webapp.models import TrustedBrowser

    elsewhere = new_browser()
    elsewhere.sign_in(tenant.user_email, tenant.password, trust=True)
    assert elsewhere.client.get("/").status_code == 200
    resetter = new_browser()
    resetter.post("/mot-de-passe/oublie", {"email": tenant.user_email})
    run_jobs()
    resetter.client.get(link_in(smtp.last(tenant.user_email)).replace("http://manager.test", ""))
    resetter.post("/mot-de-passe/definir", {"password": "encore une phrase",
                                             "confirm": "encore une phrase"})
    assert elsewhere.client.get("/").status_code == 302
    assert not TrustedBrowser.select().where(TrustedBrowser.revoked_at.is_null()).exists()


# --- ACC-4 ------------------------------------------------------------------------------

def _define(browser, run_jobs, smtp, email, password, confirm=None):
    browser.post("/mot-de-passe/oublie", {"email": email})
    run_jobs()
    browser.client.get(link_in(smtp.last(email)).replace("http://manager.test", ""))
    return browser.post("/mot-de-passe/definir",
                        {"password": password, "confirm": password if confirm is None else confirm})


def test_acc4_short_password_refused_with_french_reason(tenant, browser, run_jobs, smtp):
    response = _define(browser, run_jobs, smtp, tenant.user_email, "court123")
    assert response.status_code == 400
    assert "au moins 10 caractères" in response.get_data(as_text=True)


def test_acc4_common_password_refused(tenant, browser, run_jobs, smtp):
    response = _define(browser, run_jobs, smtp, tenant.user_email, "password123")
    assert response.status_code == 400
    assert "trop courant" in response.get_data(as_text=True)


def test_acc4_long_password_without_composition_rules_accepted(tenant, browser, run_jobs, smtp,
                                                                db_conn):
    from webapp.models import User

    long_one = "tout en minuscules sans chiffre " * 3  # 96 characters
    response = _define(browser, run_jobs, smtp, tenant.user_email, long_one)
    assert response.status_code == 303
    stored = User.get(User.email == tenant.user_email).password_hash
    assert stored.startswith("$argon2id$") and long_one not in stored


def test_acc4_mismatched_confirmation_refused(tenant, browser, run_jobs, smtp):
    response = _define(browser, run_jobs, smtp, tenant.user_email, "une phrase assez longue",
                       confirm="une autre phrase")
    assert response.status_code == 400
    assert "ne correspondent pas" in response.get_data(as_text=True)


# --- ACC-5 ------------------------------------------------------------------------------

def test_acc5_account_page_lists_applications_by_licence(admin):
    page = admin.client.get("/compte").get_data(as_text=True)
    assert "Keyyo Manager" in page and "Keyyo CallPad" in page
    assert "Keyyo Visio" not in page  # Claire has no Visio licence
    assert "Keyyo Apps" in page


# --- ACC-6 ------------------------------------------------------------------------------

def test_acc6_wrong_password_and_unknown_email_get_the_same_message(tenant, browser):
    wrong = browser.password_step(tenant.admin_email, "pas le bon mot de passe")
    unknown = browser.password_step("inconnu@nulle-part.example", "pas le bon mot de passe")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_acc6_throttled_per_account(tenant, new_browser):
    attacker = new_browser()
    statuses = [attacker.password_step(tenant.admin_email, f"essai numéro {i}").status_code
                for i in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    # Even the right password is refused while throttled: the account is protected.
    assert attacker.password_step(tenant.admin_email, tenant.password).status_code == 429


def test_acc6_throttled_per_ip_across_accounts(tenant, new_browser):
    attacker = new_browser()
    statuses = [attacker.password_step(f"inconnu{i}@x.example", "mauvais mot de passe")
                .status_code for i in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    assert "Trop de tentatives" in attacker.password_step("a@b.example", "xxxxxxxxxxxx").get_data(
        as_text=True)


def test_acc6_successful_signins_do_not_consume_the_budget(tenant, new_browser):
    for _ in range(6):
        b = new_browser()
        assert b.password_step(tenant.admin_email, tenant.password).status_code == 303


def test_mail1_password_email_has_plain_text_and_link(tenant, browser, run_jobs, smtp):
    _ask_link(browser, tenant.admin_email)
    run_jobs()
    message = smtp.last(tenant.admin_email)
    assert message.is_multipart()
    assert "http://manager.test/mot-de-passe/definir/" in text_of(message)
