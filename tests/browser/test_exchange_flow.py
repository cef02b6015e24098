"""Issue 7 in a real browser: a customer ticket with attachments answered from the
back-office (TKT-1/2, OPS-1, EVT-1), and a notification link through sign-in + 2FA (MAIL-1)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, complete_signin, screenshot
from tests.conftest import STAFF_EMAIL, StaffBrowser, code_in
from tests.exchange.conftest import PDF, PNG, link_of

pytestmark = pytest.mark.browser


def _customer_sign_in(page, base: str, email: str, password: str, smtp, run_jobs,
                      path: str = "/") -> None:
    page.goto(base + path)
    complete_signin(page, email, password, smtp, run_jobs)


def _event_count(page, kind: str) -> int:
    return int(page.locator(f'[data-kind="{kind}"] .event-count').inner_text())


def test_tkt2_ops1_evt1_ticket_with_two_attachments_answered_from_back_office(
        live_server, new_page, demo, smtp, run_jobs, tmp_path):
    base = live_server.url
    customer = new_page()
    _customer_sign_in(customer, base, demo.admin_email, demo.password, smtp, run_jobs)
    customer.get_by_role("heading", name="Tableau de bord").wait_for()
    assert _event_count(customer, "tickets") == 1
    screenshot(customer, "exchange-dashboard-events")

    customer.get_by_role("link", name="Échanger").first.click()
    customer.get_by_role("link", name="Nouveau ticket").click()
    customer.get_by_label("Objet").fill("Fax du siège muet")
    customer.get_by_role("textbox", name="Message").fill(
        "Le fax n'imprime plus rien depuis hier.\nMerci.")
    (tmp_path / "capture.png").write_bytes(PNG)
    (tmp_path / "releve.pdf").write_bytes(PDF)
    customer.get_by_label("Ajouter des fichiers").set_input_files(
        [str(tmp_path / "capture.png"), str(tmp_path / "releve.pdf")])
    screenshot(customer, "exchange-ticket-new")
    customer.get_by_role("button", name="Créer le ticket").click()
    customer.get_by_role("heading", name=re.compile("Fax du siège muet")).wait_for()
    ticket_id = int(re.search(r"/tickets/(\d+)", customer.url).group(1))
    thread = customer.locator("#thread")
    assert thread.get_by_role("link", name="capture.png").is_visible()
    assert thread.get_by_role("link", name="releve.pdf").is_visible()

    # Operator staff answer from the back-office, in their own browser.
    ops = new_page()
    ops.goto(base + "/ops/")
    ops.get_by_label("Adresse e-mail").fill(STAFF_EMAIL)
    ops.get_by_label("Mot de passe").fill(demo.password)
    ops.get_by_role("button", name="Se connecter").click()
    ops.get_by_role("button", name="Activer").click()
    ops.get_by_label("Code de vérification").wait_for()
    run_jobs()
    ops.get_by_label("Code de vérification").fill(code_in(smtp.last(STAFF_EMAIL)))
    ops.get_by_role("button", name="Se connecter").click()
    ops.get_by_role("link", name="Tickets").first.click()
    ops.get_by_role("link", name="Fax du siège muet").click()
    ops.get_by_label("Réponse", exact=True).fill(
        "Nous avons réinitialisé la ligne fax : essayez à nouveau.")
    screenshot(ops, "exchange-ops-ticket")
    ops.get_by_role("button", name="Envoyer la réponse").click()
    ops.get_by_text("Réponse envoyée").wait_for()

    # The customer's thread shows it in place (polled partial), without reloading.
    customer.locator("#thread").get_by_text("Nous avons réinitialisé la ligne fax").wait_for(
        timeout=30_000)
    assert customer.url.endswith(f"/tickets/{ticket_id}")
    screenshot(customer, "exchange-ticket-thread")

    # The customer replies in place (HTMX), the form is emptied, the thread grows.
    customer.get_by_role("textbox", name="Message").fill("C'est reparti, merci !")
    customer.get_by_role("button", name="Envoyer").click()
    customer.get_by_text("Votre message a été envoyé au support.").wait_for()
    assert customer.locator("#thread").get_by_text("C'est reparti, merci !").is_visible()
    assert customer.get_by_role("textbox", name="Message").input_value() == ""

    # Staff close the ticket: the dashboard's open-ticket count goes back down.
    customer.goto(base + "/")
    assert _event_count(customer, "tickets") == 2
    ops.reload()
    ops.get_by_role("button", name="Fermer le ticket").click()
    ops.get_by_text("Ticket fermé.").wait_for()
    customer.goto(base + "/")
    assert _event_count(customer, "tickets") == 1


def test_mail1_ticket_reply_email_link_signin_2fa_lands_on_ticket(
        live_server, app, page, demo, smtp, run_jobs):
    from webapp.db import db
    from webapp.models import Ticket

    with db.connection_context():
        ticket = Ticket.get(Ticket.subject == "Pas de tonalité sur le poste de l'accueil")
    staff = StaffBrowser(app.test_client(), smtp, run_jobs)
    staff.sign_in(demo.password)
    url = f"/ops/tickets/{ticket.id}"
    staff.post(url + "/repondre", {"body": "Le technicien passe demain matin."},
               token_from=url)
    smtp.clear()
    run_jobs()
    link = link_of(smtp.last(demo.admin_email))
    page.goto(link.replace("http://manager.test", live_server.url))
    assert "/connexion?next=" in page.url
    complete_signin(page, demo.admin_email, demo.password, smtp, run_jobs)
    page.get_by_text("Le technicien passe demain matin.").wait_for()
    assert page.url == f"{live_server.url}/tickets/{ticket.id}"
    screenshot(page, "exchange-mail-link-landed")


def test_evt1_dep1_bil1_pages_on_phone_and_tablet(live_server, new_page, demo, smtp, run_jobs):
    phone = new_page(390, 844)
    _customer_sign_in(phone, live_server.url, demo.admin_email, demo.password, smtp, run_jobs)
    phone.get_by_role("heading", name="Tableau de bord").wait_for()
    screenshot(phone, "exchange-phone-dashboard")
    phone.goto(live_server.url + "/store/deploiements")
    screenshot(phone, "exchange-phone-deployments")
    tablet = new_page(800, 1280)
    _customer_sign_in(tablet, live_server.url, demo.admin_email, demo.password, smtp,
                      run_jobs, path="/facturation")
    tablet.get_by_role("heading", name="Facturation").wait_for()
    screenshot(tablet, "exchange-tablet-billing")
    tablet.goto(live_server.url + "/store/deploiements")
    tablet.get_by_role("link", name=re.compile("Détails du déploiement")).first.click()
    tablet.get_by_role("heading", name="Historique").wait_for()
    screenshot(tablet, "exchange-tablet-deployment")
    assert ARTIFACTS.joinpath("exchange-tablet-deployment.png").exists()
