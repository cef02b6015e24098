"""OPS-1: the operator back-office — separate accounts and sessions, same 2FA, and every
staff action producing what the customer sees (and the e-mail, MAIL-1)."""

from __future__ import annotations

import html as html_lib

from tests.conftest import STAFF_EMAIL, code_in
from tests.exchange.conftest import count, events_of, q, subject_of


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def test_ops1_customer_users_never_reach_back_office(admin, demo):
    for path in ("/ops/", "/ops/comptes", "/ops/tickets", "/ops/courriels"):
        response = admin.client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/ops/connexion?next=/ops/")
    # A customer's credentials do not open a staff account either.
    response = admin.post("/ops/connexion", {"email": demo.admin_email,
                                             "password": demo.password})
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in text(response)


def test_ops1_staff_session_grants_no_customer_page(staff):
    for path in ("/", "/tickets", "/facturation", "/evenements"):
        response = staff.client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/connexion?next="), path
    assert staff.client.get("/ops/").status_code == 200


def test_ops1_staff_signin_same_2fa_rules_five_tries_then_new_code_and_trust(
        app, demo, new_staff_browser, smtp, run_jobs):
    b = new_staff_browser()
    response = b.post("/ops/connexion", {"email": STAFF_EMAIL, "password": demo.password})
    assert response.headers["Location"] == "/ops/connexion/verification"
    page = b.client.get("/ops/connexion/verification").get_data(as_text=True)
    assert "Activer" in page and 'name="code"' not in page  # never activated: TFA-1
    b.post("/ops/connexion/envoyer-code", token_from="/ops/connexion/verification")
    good = b.latest_code()
    wrong = "000000" if good != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = b.post("/ops/connexion/verification", {"code": wrong})
        assert response.status_code == 400
        assert f"Il vous reste {left} essai" in text(response)
    response = b.post("/ops/connexion/verification", {"code": wrong})
    assert "n'est plus valable" in text(response)
    response = b.post("/ops/connexion/verification", {"code": good})  # dead after 5 tries
    assert response.status_code == 400
    b.post("/ops/connexion/envoyer-code", token_from="/ops/connexion/verification")
    response = b.post("/ops/connexion/verification", {"code": b.latest_code(), "trust": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/ops/"
    # Trusted browser: signing in again asks no code (TFA-3), other browsers still do.
    b.post("/ops/deconnexion", token_from="/ops/")
    mails = len(smtp.messages(STAFF_EMAIL))
    response = b.post("/ops/connexion", {"email": STAFF_EMAIL, "password": demo.password})
    assert response.headers["Location"] == "/ops/"
    run_jobs()
    assert len(smtp.messages(STAFF_EMAIL)) == mails
    other = new_staff_browser()
    response = other.post("/ops/connexion", {"email": STAFF_EMAIL, "password": demo.password})
    assert response.headers["Location"] == "/ops/connexion/verification"
    run_jobs()
    assert code_in(smtp.last(STAFF_EMAIL))


def test_ops1_staff_signin_lands_on_next_back_office_page_only(demo, new_staff_browser):
    b = new_staff_browser()
    response = b.client.get("/ops/tickets?etat=fermes")
    assert response.headers["Location"] == "/ops/connexion?next=/ops/tickets?etat%3Dfermes"
    login = b.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/ops/tickets?etat=fermes"' in login
    b.post("/ops/connexion", {"email": STAFF_EMAIL, "password": demo.password,
                              "next": "/ops/tickets?etat=fermes"})
    b.post("/ops/connexion/envoyer-code", token_from="/ops/connexion/verification")
    response = b.post("/ops/connexion/verification", {"code": b.latest_code()})
    assert response.headers["Location"] == "/ops/tickets?etat=fermes"
    b2 = new_staff_browser()
    b2.post("/ops/connexion", {"email": STAFF_EMAIL, "password": demo.password,
                               "next": "https://evil.example/"})
    b2.post("/ops/connexion/envoyer-code", token_from="/ops/connexion/verification")
    assert b2.post("/ops/connexion/verification",
                   {"code": b2.latest_code()}).headers["Location"] == "/ops/"


def test_ops1_staff_reply_shows_in_customer_thread_emails_and_changes_events(
        admin, staff, smtp, run_jobs, demo):
    from webapp.models import Ticket

    ticket = q(Ticket, Ticket.subject == "Pas de tonalité sur le poste de l'accueil")
    before = events_of(admin.client.get("/evenements").get_data(as_text=True))
    assert before["tickets"] == 1
    inbox = text(staff.client.get("/ops/tickets"))
    assert "Pas de tonalité sur le poste de l'accueil" in inbox and demo.account.name in inbox
    response = staff.post(f"/ops/tickets/{ticket.id}/repondre",
                          {"body": "C'est réparé, nous fermons le ticket.", "close": "1"},
                          token_from=f"/ops/tickets/{ticket.id}")
    assert response.status_code == 303
    page = text(admin.client.get(f"/tickets/{ticket.id}"))
    assert "C'est réparé, nous fermons le ticket." in page and "Fermé" in page
    assert "tickets" not in events_of(admin.client.get("/evenements").get_data(as_text=True))
    smtp.clear()
    run_jobs()
    mail = smtp.last(demo.admin_email)
    assert subject_of(mail) == f"Réponse du support à votre ticket n° {ticket.reference}"
    assert mail.get_content_type() == "multipart/alternative"
    assert smtp.messages(demo.user_email) == []  # the author is told, not every reader


def test_ops1_assign_close_and_reopen_ticket(staff):
    from webapp.models import StaffUser, Ticket

    ticket = q(Ticket, Ticket.subject == "Changement d'adresse de facturation")
    sophie = q(StaffUser, StaffUser.email == STAFF_EMAIL)
    url = f"/ops/tickets/{ticket.id}"
    assert staff.post(url + "/attribuer", {"staff": str(sophie.id)}, token_from=url) \
        .status_code == 303
    assert q(Ticket, Ticket.id == ticket.id).assigned_to_id == sophie.id
    assert staff.post(url + "/statut", {"status": "open"}, token_from=url).status_code == 303
    assert q(Ticket, Ticket.id == ticket.id).status == "open"
    assert staff.post(url + "/statut", {"status": "closed"}, token_from=url).status_code == 303
    assert q(Ticket, Ticket.id == ticket.id).status == "closed"
    assert staff.post(url + "/attribuer", {"staff": "999999"}, token_from=url).status_code == 400


def test_ops1_bad_invoice_input_keeps_typed_values_and_creates_nothing(staff, demo):
    from webapp.models import Invoice

    before = count(Invoice.select())
    url = f"/ops/comptes/{demo.account.id}"
    response = staff.post(url + "/factures", {"label": "Frais de mise en service",
                                              "amount": "douze", "due_on": "2020-01-01"},
                          token_from=url)
    assert response.status_code == 400
    page = text(response)
    assert 'value="Frais de mise en service"' in page and 'value="douze"' in page
    assert "Indiquez un montant positif" in page
    assert "L'échéance ne peut pas précéder la date d'émission." in page
    assert count(Invoice.select()) == before


def test_ops1_credit_limit_drives_customer_overrun_event(admin, staff, demo):
    url = f"/ops/comptes/{demo.account.id}"
    assert "credit" in events_of(admin.client.get("/evenements").get_data(as_text=True))
    assert staff.post(url + "/encours", {"limit": "5000"}, token_from=url).status_code == 303
    assert "credit" not in events_of(admin.client.get("/evenements").get_data(as_text=True))
    response = staff.post(url + "/encours", {"limit": "-3"}, token_from=url)
    assert response.status_code == 400 and 'value="-3"' in text(response)
