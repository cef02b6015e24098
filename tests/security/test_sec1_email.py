"""SEC-1: the e-mail of a contact who signs in is their identity. Changing it needs
"Gérer les accès utilisateurs" and the role-change guard, on every path; the new address
serves only once the link sent to it is followed; the old one is told; pending password
links die."""

from __future__ import annotations

import re

from tests.conftest import link_in, text_of
from tests.csv.conftest import Sync, rows_of, to_csv
from tests.dbdigest import digest
from tests.security.conftest import contact_form, make_user, post

PIRATE = "pirate@evil.example"


def _identity_tables():
    from webapp.models import Contact, PasswordToken, User

    return Contact, User, PasswordToken


def _attempt_takeover(attacker, victim, smtp, run_jobs, new_browser, password):
    """The SEC-1 attack, all the way to "Gestion des accès"."""
    response = post(attacker, f"/annuaire/{victim.contact_id}/modifier",
                    contact_form(victim.contact, email=PIRATE))
    anonymous = new_browser()
    anonymous.post("/mot-de-passe/oublie", {"email": PIRATE})
    run_jobs()
    reached = False
    if smtp.messages(PIRATE):
        link = link_in(smtp.last(PIRATE))
        anonymous.client.get(link.replace("http://manager.test", ""))
        anonymous.post("/mot-de-passe/definir", {"password": "une phrase pirate très longue",
                                                 "confirm": "une phrase pirate très longue"})
        anonymous.sign_in(PIRATE, "une phrase pirate très longue")
        reached = anonymous.client.get("/preferences/acces/utilisateurs").status_code == 200
    return response, reached


def test_sec1_service_manager_cannot_take_over_an_administrator(
        demo, lucas, second_admin, smtp, run_jobs, new_browser, db_conn):
    before = digest(*_identity_tables())
    response, reached = _attempt_takeover(lucas, second_admin, smtp, run_jobs, new_browser,
                                          demo.password)
    assert not reached
    assert response.status_code == 403
    assert "Gérer les accès utilisateurs" in response.get_data(as_text=True).replace(
        "&#34;", '"').replace("&amp;", "&")
    assert digest(*_identity_tables()) == before
    assert not smtp.messages(PIRATE)


def test_sec1_access_manager_cannot_change_an_administrators_address(
        demo, ids, second_admin, new_browser, smtp, run_jobs, db_conn):
    make_user(demo.account, "acces@atelier-dupont.example", "Inès",
              "users.manage services.manage sites.access", "all", [], demo.password)
    b = new_browser()
    b.sign_in("acces@atelier-dupont.example", demo.password)
    before = digest(*_identity_tables())
    response, reached = _attempt_takeover(b, second_admin, smtp, run_jobs, new_browser,
                                          demo.password)
    assert not reached and response.status_code == 403
    assert digest(*_identity_tables()) == before


def test_sec1_csv_sync_follows_the_same_rule(demo, lucas, second_admin, run_jobs, redis_url,
                                             smtp, db_conn):
    from webapp.models import EmailChange

    sync = Sync(lucas, run_jobs, redis_url)
    rows = rows_of(sync.export())
    for row in rows:
        if row["id"] == str(second_admin.contact_id):
            row["email"] = PIRATE
    before = digest(*_identity_tables(), EmailChange)
    _token, state = sync.preview(to_csv(rows))
    assert state["state"] == "invalid"
    assert "Gérer les accès utilisateurs" in str(state)
    assert digest(*_identity_tables(), EmailChange) == before
    run_jobs()
    assert not smtp.messages(PIRATE)


def test_sec1_admin_change_is_used_only_after_the_link(demo, admin, new_browser, smtp,
                                                       run_jobs, db_conn):
    from webapp.models import Contact, User

    lucas = User.get(User.email == demo.user_email)
    new_address = "lucas.nouveau@atelier-dupont.example"
    # A password link Lucas asked for earlier: it must die with the change.
    anonymous = new_browser()
    anonymous.post("/mot-de-passe/oublie", {"email": demo.user_email})
    run_jobs()
    old_link = link_in(smtp.last(demo.user_email))
    smtp.clear()

    response = post(admin, f"/annuaire/{lucas.contact_id}/modifier",
                    contact_form(lucas.contact, email=new_address, phone_mobile="06 11 22 33 44"))
    assert response.status_code == 303
    run_jobs()
    assert Contact.get_by_id(lucas.contact_id).email == demo.user_email  # not yet
    assert Contact.get_by_id(lucas.contact_id).phone_mobile == "+33611223344"  # the rest is
    assert User.get_by_id(lucas.id).email == demo.user_email
    notice = text_of(smtp.last(demo.user_email))
    assert new_address in notice and "confirmation" in notice
    confirm_link = re.search(r"(http://manager\.test/adresse/confirmer/\S+)",
                             text_of(smtp.last(new_address))).group(1)
    # Nobody signs in with the new address before the link is followed.
    stranger = new_browser()
    assert stranger.password_step(new_address, demo.password).status_code == 401
    stranger.post("/mot-de-passe/oublie", {"email": new_address})
    run_jobs()
    assert not [m for m in smtp.messages(new_address) if "mot-de-passe" in text_of(m)]
    # The old pending password link is dead.
    anonymous.client.get(old_link.replace("http://manager.test", ""))
    assert anonymous.client.get("/mot-de-passe/definir").status_code == 410

    follower = new_browser()
    path = confirm_link.replace("http://manager.test", "")
    page = follower.client.get(path)
    assert page.status_code == 200
    assert User.get_by_id(lucas.id).email == demo.user_email  # a GET changes nothing
    assert follower.post(path, {}).status_code == 303
    assert User.get_by_id(lucas.id).email == new_address
    assert Contact.get_by_id(lucas.contact_id).email == new_address
    assert follower.post(path, {}).status_code == 410  # single use
    assert new_browser().password_step(demo.user_email, demo.password).status_code == 401
    fresh = new_browser()
    fresh.sign_in(new_address, demo.password)
    assert fresh.client.get("/").status_code == 200


def test_sec1_csv_change_by_an_administrator_waits_for_the_link(demo, sync, smtp, db_conn):
    from webapp.models import Contact, User

    lucas = User.get(User.email == demo.user_email)
    rows = rows_of(sync.export())
    for row in rows:
        if row["id"] == str(lucas.contact_id):
            row["email"] = "lucas.csv@atelier-dupont.example"
    token, state = sync.preview(to_csv(rows))
    assert state["state"] == "ready", state
    sync.confirm(token)
    assert Contact.get_by_id(lucas.contact_id).email == demo.user_email
    assert User.get_by_id(lucas.id).email == demo.user_email
    assert "adresse/confirmer" in text_of(smtp.last("lucas.csv@atelier-dupont.example"))
    assert "lucas.csv@atelier-dupont.example" in text_of(smtp.last(demo.user_email))
