"""SEC-8: HSTS over HTTPS; a staff password change revokes staff trusted browsers; a
contact's photo goes with the contact (form and CSV sync); two concurrent removals never
leave an account without an administrator; following a password link leaves the session
unchanged until the form is posted; background polls do not extend the idle timeout."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import link_in
from tests.csv.conftest import Sync, rows_of, to_csv
from tests.security.conftest import post


def test_sec8_hsts_when_base_url_is_https(database_url, redis_url, smtp):
    from webapp.app import create_app

    secure = create_app({"TESTING": True, "BASE_URL": "https://manager.example"})
    header = secure.test_client().get("/connexion").headers.get("Strict-Transport-Security")
    assert header and "max-age=31536000" in header
    plain = create_app({"TESTING": True, "BASE_URL": "http://manager.test"})
    assert "Strict-Transport-Security" not in plain.test_client().get("/connexion").headers


def test_sec8_staff_password_change_revokes_trusted_browsers(app, demo, smtp, run_jobs):
    from tests.conftest import STAFF_EMAIL, StaffBrowser
    from webapp.db import db
    from webapp.models import StaffTrustedBrowser, StaffUser

    b = StaffBrowser(app.test_client(), smtp, run_jobs)
    b.sign_in(demo.password, trust=True)
    b.post("/ops/deconnexion", token_from="/ops/")
    with db.connection_context():
        staff = StaffUser.get(StaffUser.email == STAFF_EMAIL)
        def revoked():
            return [t.revoked_at is not None for t in StaffTrustedBrowser.select().where(
                StaffTrustedBrowser.user == staff.id)]

        assert revoked() == [False]
    # The password is changed the way operators do it: `flask create-staff --reset`.
    result = app.test_cli_runner().invoke(args=["create-staff", STAFF_EMAIL, "--reset"])
    assert result.exit_code == 0, result.output
    new_password = result.output.rsplit(": ", 1)[1].strip()
    with db.connection_context():
        assert revoked() == [True]
    # The browser that was trusted must pass the second factor again.
    response = b.post("/ops/connexion", {"email": STAFF_EMAIL, "password": new_password})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ops/connexion/verification")


def _upload_photo(b, contact_id):
    from tests.folders.test_folders import _png

    token = b.token(f"/annuaire/dossiers/contacts/{contact_id}/fiche")
    boundary, body = encode_multipart({"csrf_token": token,
                                       "photo": FileStorage(io.BytesIO(_png((64, 64))), "p.png")})
    return b.client.post(f"/annuaire/dossiers/contacts/{contact_id}/photo", data=body,
                         content_type=f"multipart/form-data; boundary={boundary}")


def test_sec8_contact_photo_deleted_with_the_contact(admin, ids, app, db_conn):
    from webapp.models import Contact, ServiceContact

    contact_id = ids["contact_bordeaux"]  # Manon: no Manager access
    Contact.update(photo=None).where(Contact.id == contact_id).execute()
    assert _upload_photo(admin, contact_id).status_code in (200, 303)
    photo = Contact.get_by_id(contact_id).photo
    path = app.extensions["cm_settings"].DATA_DIR / "photos" / photo
    assert path.exists()
    ServiceContact.delete().where(ServiceContact.contact == contact_id).execute()
    response = post(admin, f"/annuaire/{contact_id}/supprimer", {"confirm": "1"})
    assert response.status_code == 303
    assert not Contact.select().where(Contact.id == contact_id).exists()
    assert not path.exists()


def test_sec8_contact_photo_deleted_by_csv_sync(admin, ids, app, run_jobs, redis_url, db_conn):
    from webapp.models import Contact

    contact_id = ids["contact_bordeaux"]
    assert _upload_photo(admin, contact_id).status_code in (200, 303)
    path = app.extensions["cm_settings"].DATA_DIR / "photos" / Contact.get_by_id(
        contact_id).photo
    sync = Sync(admin, run_jobs, redis_url)
    rows = [r for r in rows_of(sync.export()) if r["id"] != str(contact_id)]
    token, state = sync.preview(to_csv(rows))
    assert state["state"] == "ready", state
    sync.confirm(token)
    assert not Contact.select().where(Contact.id == contact_id).exists()
    assert not path.exists()


def test_sec8_concurrent_removals_keep_an_administrator(demo, admin, new_browser, db_conn,
                                                        monkeypatch):
    from webapp.models import Role, User, UserRole
    from webapp.services import roles
    from webapp.services.accounts import admin_role, create_admin
    from webapp.services.passwords import hash_password

    second = create_admin(demo.account, "bruno.admin@atelier-dupont.example", "Bruno", "Admin")
    User.update(password_hash=hash_password(demo.password)).where(User.id == second.id).execute()
    bruno = new_browser()
    bruno.sign_in("bruno.admin@atelier-dupont.example", demo.password)
    claire = User.get(User.email == demo.admin_email)
    tokens = {b: b.token(f"/preferences/acces/utilisateurs/{t}/retirer")
              for b, t in ((admin, second.id), (bruno, claire.id))}
    # Widen the race: each removal waits (up to 2 s) for the other to have counted too.
    barrier = threading.Barrier(2, timeout=2)
    counted = roles._admins_left

    def slow_count(account_id, excluding_user):
        n = counted(account_id, excluding_user)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return n

    monkeypatch.setattr(roles, "_admins_left", slow_count)
    results = {}

    def remove(b, target):
        results[target] = b.client.post(f"/preferences/acces/utilisateurs/{target}/retirer",
                                        data={"csrf_token": tokens[b], "confirm": "1"}
                                        ).status_code

    threads = [threading.Thread(target=remove, args=(admin, second.id)),
               threading.Thread(target=remove, args=(bruno, claire.id))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    admins = UserRole.select().where(UserRole.role == admin_role(demo.account).id).count()
    assert admins >= 1, results
    assert sorted(results.values()) == [303, 409]
    assert Role.select().where(Role.builtin).count() >= 1


def test_sec8_password_link_leaves_the_session_unchanged(demo, admin, new_browser, smtp,
                                                         run_jobs, redis_conn):
    from webapp.db import db
    from webapp.models import PasswordToken

    anonymous = new_browser()
    anonymous.post("/mot-de-passe/oublie", {"email": demo.user_email})
    run_jobs()
    link = link_in(smtp.last(demo.user_email)).replace("http://manager.test", "")

    def stored_session():
        """Every session's content (the idle clock aside: visiting is a user action)."""
        from msgspec import msgpack

        found = {}
        for key in sorted(redis_conn.keys("session:*")):
            data = msgpack.decode(redis_conn.get(key))
            data.pop("last_action", None)
            found[key] = data
        return found

    admin.client.get("/")
    before = stored_session()
    assert admin.client.get(link).status_code == 303
    page = admin.client.get("/mot-de-passe/definir")
    assert page.status_code == 200 and demo.user_email in page.get_data(as_text=True)
    assert stored_session() == before  # nothing written to any session
    assert admin.client.get("/").status_code == 200  # still the administrator
    with db.connection_context():
        assert PasswordToken.select().where(PasswordToken.used_at.is_null(False)).count() == 0
    response = admin.post("/mot-de-passe/definir", {"password": "une phrase de Lucas ici",
                                                    "confirm": "une phrase de Lucas ici"},
                          token_from="/mot-de-passe/definir")
    assert response.status_code == 303
    assert admin.client.get("/").status_code == 302  # posting the form ends that session


@pytest.mark.parametrize("poll", ["/evenements", "ticket-thread"])
def test_sec8_background_polls_do_not_extend_the_idle_timeout(demo, admin, time_machine,
                                                              db_conn, poll):
    from webapp.models import Ticket

    start = dt.datetime.now(dt.UTC)
    time_machine.move_to(start, tick=False)
    headers = {"HX-Request": "true"}
    if poll == "ticket-thread":
        ticket = Ticket.select().where(Ticket.account == demo.account.id).first()
        poll, headers = f"/tickets/{ticket.id}", {"HX-Request": "true", "HX-Target": "thread"}
    assert admin.client.get("/").status_code == 200
    for minutes in range(10, 70, 10):  # a poll every 10 min, no user action for 60+ min
        time_machine.move_to(start + dt.timedelta(minutes=minutes, seconds=30), tick=False)
        admin.client.get(poll, headers=headers)
    assert admin.client.get("/").status_code == 302  # signed out by the idle timeout


def test_sec8_user_actions_extend_the_idle_timeout(demo, admin, time_machine, db_conn):
    start = dt.datetime.now(dt.UTC)
    time_machine.move_to(start, tick=False)
    for minutes in range(0, 150, 30):
        time_machine.move_to(start + dt.timedelta(minutes=minutes), tick=False)
        assert admin.client.get("/annuaire").status_code == 200
