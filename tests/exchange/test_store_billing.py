"""DEP-1 (deployments) and BIL-1 (orders, invoices, PDF, balance vs credit limit)."""

from __future__ import annotations

import datetime as dt
import html as html_lib

from werkzeug.http import parse_options_header

from tests.exchange.conftest import q


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def test_dep1_upcoming_and_past_with_details_history_and_numbers(admin):
    from webapp.models import Deployment

    page = text(admin.client.get("/store/deploiements"))
    upcoming, past = page.split("Déploiements passés")
    assert "Portabilité fixe" in upcoming and "Déploiement de lien" in upcoming
    assert "Intervention sur site" in past
    lyon = q(Deployment, Deployment.reference == "D-DEMO-00001")
    detail = text(admin.client.get(f"/store/deploiements/{lyon.id}"))
    for expected in ("Lyon", "Matinée (8 h – 12 h)", "04 78 00 00 01", "04 78 00 00 02",
                     lyon.scheduled_date.strftime("%d/%m/%Y"), "Historique", "Planifié"):
        assert expected in detail


def test_dep1_needs_permission_and_respects_site_scope(lucas, make_user, new_browser, demo):
    from webapp.models import Deployment

    paris = q(Deployment, Deployment.reference == "D-DEMO-00002")
    lyon = q(Deployment, Deployment.reference == "D-DEMO-00001")
    assert lucas.client.get(f"/store/deploiements/{paris.id}").status_code == 404
    assert lucas.client.get(f"/store/deploiements/{lyon.id}").status_code == 200
    assert "Intervention sur site" not in text(lucas.client.get("/store/deploiements"))
    b = new_browser()
    b.sign_in(make_user("achats@atelier-dupont.example", "orders.view"), demo.password)
    response = b.client.get("/store/deploiements")  # Store menu: orders only for them
    assert response.status_code == 302 and response.headers["Location"] == "/store/commandes"
    assert b.client.get(f"/store/deploiements/{lyon.id}").status_code == 403
    c = new_browser()
    c.sign_in(make_user("rien@atelier-dupont.example", "calls.supervise"), demo.password)
    response = c.client.get("/store/deploiements")
    assert response.status_code == 403 and "Voir les déploiements" in text(response)


def test_dep1_staff_schedules_reschedules_and_completes_customer_sees_and_is_emailed(
        admin, lucas, staff, demo, smtp, run_jobs):
    from webapp.models import Deployment, Site

    lyon = q(Site, Site.name == "Lyon")
    url = f"/ops/comptes/{demo.account.id}"
    response = staff.post(url + "/deploiements", {"kind": "mobile_porting", "site": lyon.id,
                                                  "title": "Mobiles Lyon",
                                                  "numbers": "06 11 22 33 44"},
                          token_from=url)
    assert response.status_code == 303
    created = q(Deployment, Deployment.title == "Mobiles Lyon")
    assert created.numbers == "+33611223344" and created.status == "requested"
    ops_url = f"/ops/deploiements/{created.id}"
    day = dt.date.today() + dt.timedelta(days=7)
    assert staff.post(ops_url + "/planifier", {"date": day.isoformat(), "slot": "14-16"},
                      token_from=ops_url).status_code == 303
    smtp.clear()
    run_jobs()
    for who in (demo.admin_email, demo.user_email):  # both see Lyon deployments
        mail = smtp.last(who)
        assert f"/store/deploiements/{created.id}" in mail.get_payload()[0].get_payload(
            decode=True).decode()
    page = text(lucas.client.get(f"/store/deploiements/{created.id}"))
    assert day.strftime("%d/%m/%Y") in page and "14 h – 16 h" in page
    later = day + dt.timedelta(days=2)
    staff.post(ops_url + "/planifier", {"date": later.isoformat(), "slot": "08-10"},
               token_from=ops_url)
    staff.post(ops_url + "/statut", {"status": "in_progress"}, token_from=ops_url)
    staff.post(ops_url + "/statut", {"status": "done", "note": "Numéros portés."},
               token_from=ops_url)
    smtp.clear()
    run_jobs()
    subjects = sorted(m.get_payload()[0].get_payload(decode=True).decode().split("\n")[2]
                      for m in smtp.messages(demo.user_email))
    assert len(subjects) == 2 and any("replanifié" in s for s in subjects) and \
        any("est terminé" in s for s in subjects)
    upcoming, past = text(lucas.client.get("/store/deploiements")).split("Déploiements passés")
    assert f"/store/deploiements/{created.id}" in past
    assert f"/store/deploiements/{created.id}" not in upcoming
    history = text(lucas.client.get(f"/store/deploiements/{created.id}"))
    assert "replanifié" in history and "Numéros portés." in history and "Terminé" in history
    # A done deployment cannot move any more; a past date is refused, nothing changes.
    response = staff.post(ops_url + "/statut", {"status": "in_progress"}, token_from=ops_url)
    assert response.status_code == 400 and "pas possible" in text(response)


def test_dep1_schedule_refuses_past_date_and_keeps_typed_values(staff):
    from webapp.models import Deployment

    bordeaux = q(Deployment, Deployment.reference == "D-DEMO-00003")
    url = f"/ops/deploiements/{bordeaux.id}"
    response = staff.post(url + "/planifier", {"date": "2001-01-01", "slot": "08-10"},
                          token_from=url)
    assert response.status_code == 400 and "La date ne peut pas être passée." in text(response)
    assert 'value="2001-01-01"' in text(response)
    assert q(Deployment, Deployment.id == bordeaux.id).status == "requested"


def test_bil1_orders_invoices_balance_pages(admin):
    orders = text(admin.client.get("/store/commandes"))
    assert "4 postes Yealink T54W" in orders and "En préparation" in orders
    billing = text(admin.client.get("/facturation"))
    assert "748,90" in billing and "600,00" in billing and "Dépassement d'encours" in billing
    for number in ("F-DEMO-00001", "F-DEMO-00002", "F-DEMO-00003"):
        assert number in billing
    overdue = text(admin.client.get("/facturation?filtre=retard"))
    assert "F-DEMO-00002" in overdue and "F-DEMO-00003" not in overdue


def test_bil1_invoice_pdf_generated_well_formed_and_downloaded(admin):
    from webapp.models import Invoice

    invoice = q(Invoice, Invoice.number == "F-DEMO-00002")
    response = admin.client.get(f"/facturation/factures/{invoice.id}/pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert parse_options_header(response.headers["Content-Disposition"]) == (
        "inline", {"filename": "facture-F-DEMO-00002.pdf"})
    body = response.data
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    assert b"/Type /Page" in body  # contents checked by text in test_fr1_invoices.py


def test_bil1_needs_billing_permission_and_tenant(lucas, other_admin):
    from webapp.models import Invoice

    invoice = q(Invoice, Invoice.number == "F-DEMO-00002")
    response = lucas.client.get("/facturation")
    assert response.status_code == 403 and "Voir la facturation" in text(response)
    for path in (f"/facturation/factures/{invoice.id}", f"/facturation/factures/{invoice.id}/pdf"):
        assert other_admin.client.get(path).status_code == 404


def test_bil1_staff_issues_invoice_records_payment_customer_sees_and_is_emailed(
        admin, staff, demo, smtp, run_jobs):
    from webapp.models import Invoice

    url = f"/ops/comptes/{demo.account.id}"
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    response = staff.post(url + "/factures", {"label": "Frais de mise en service",
                                              "amount": "99,00", "due_on": due},
                          token_from=url)
    assert response.status_code == 303
    invoice = q(Invoice, Invoice.label == "Frais de mise en service")
    smtp.clear()
    run_jobs()
    assert smtp.messages(demo.user_email) == []  # Lucas has no "Voir la facturation"
    mail = smtp.last(demo.admin_email)
    assert f"/facturation/factures/{invoice.id}" in mail.as_string()
    page = text(admin.client.get(f"/facturation/factures/{invoice.id}"))
    assert "99,00" in page and "À payer" in page
    ops_url = f"/ops/factures/{invoice.id}"
    response = staff.post(ops_url + "/paiements", {"amount": "120", "date": due[:10],
                                                   "method": "virement"}, token_from=ops_url)
    assert response.status_code == 400 and "dépasse le reste dû" in text(response)
    staff.post(ops_url + "/paiements", {"amount": "99", "date": dt.date.today().isoformat(),
                                        "method": "virement"}, token_from=ops_url)
    assert "Payée" in text(admin.client.get(f"/facturation/factures/{invoice.id}"))
