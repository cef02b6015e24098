"""FR-1: valid French invoices (fpdf2 layout, legal mentions, HT/TVA/TTC, several pages),
the e-mail's "Voir la facture (PDF)" link opening the PDF. The gap-free sequences under
simultaneous creation: tests/reliability/test_fr1_sequences.py (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from tests.conftest import text_of
from tests.exchange.conftest import link_of, q

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def pdf_text(body: bytes, tmp_path: Path) -> str:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(body)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out


def pages_of(body: bytes, tmp_path: Path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(body)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))


def test_fr1_invoice_pdf_is_a_valid_french_invoice_rendered_to_png(admin, demo, tmp_path):
    from webapp.models import Invoice

    invoice = q(Invoice, Invoice.number == "F-DEMO-00002")
    response = admin.client.get(f"/facturation/factures/{invoice.id}/pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    body = response.data
    assert body.startswith(b"%PDF-")
    page = " ".join(pdf_text(body, tmp_path).split())
    for expected in ("Communications Manager SAS", "SIREN : 912 345 678",
                     "FR40912345678", "69002 Lyon", demo.account.name, "F-DEMO-00002",
                     "Date d'émission", "Date d'échéance", "Prix unitaire HT", "TVA",
                     "Total HT 241,58 €", "TVA 20 % 48,32 €", "Total TTC 289,90 €",
                     "Reste dû", "pénalités", "indemnité forfaitaire",
                     "40 €", "Page 1/1"):
        assert expected in page, expected
    ARTIFACTS.mkdir(exist_ok=True)
    (tmp_path / "render.pdf").write_bytes(body)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(tmp_path / "render.pdf"), str(ARTIFACTS / "fr1-invoice-page1")],
                   check=True)
    assert (ARTIFACTS / "fr1-invoice-page1.png").stat().st_size > 10_000


def test_fr1_long_invoice_continues_on_several_pages_without_truncation(app, demo, tmp_path):
    from webapp.models import Invoice, Payment
    from webapp.services import billing, pdf

    label = ("Abonnement annuel Keyyo Manager : 48 lignes fixes, 12 mobiles, standard, "
             "numéros d'accueil « Accueil Lyon » et « Support », enregistrement des appels, "
             "fin de période le 31/12")
    assert len(label) > 90
    invoice = Invoice.create(account=demo.account, number="F2026-09999", label=label,
                             issued_on=dt.date(2026, 12, 1), due_on=dt.date(2026, 12, 31),
                             amount_cents=1_200_00, paid_cents=70 * 10_00, vat_rate=20)
    for day in range(70):
        Payment.create(account=demo.account, invoice=invoice, amount_cents=10_00,
                       received_on=dt.date(2026, 12, 1) + dt.timedelta(days=day % 28),
                       method="virement")
    body = pdf.invoice_pdf(invoice, demo.account.name, billing.payments(invoice))
    assert pages_of(body, tmp_path) >= 2
    flat = " ".join(pdf_text(body, tmp_path).split())
    for word in label.split():
        assert word in flat
    assert "fin de période le 31/12" in flat and "Reste dû 500,00 €" in flat
    assert flat.count("-10,00 €") == 70


def test_fr1_totals_split_ttc_into_ht_and_vat():
    from types import SimpleNamespace

    from webapp.services.billing import totals

    for ttc in (1, 99, 28990, 100_00, 123_456_78):
        sums = totals(SimpleNamespace(amount_cents=ttc, vat_rate=20))
        assert sums.ht_cents + sums.vat_cents == ttc
        assert abs(sums.ht_cents * 1.2 - ttc) <= 0.6


def test_fr1_invoice_email_pdf_link_opens_the_pdf(admin, staff, demo, smtp, run_jobs):
    from webapp.models import Invoice

    url = f"/ops/comptes/{demo.account.id}"
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    staff.post(url + "/factures", {"label": "Mise en service", "amount": "120,00",
                                   "due_on": due}, token_from=url)
    invoice = q(Invoice, Invoice.label == "Mise en service")
    assert invoice.number == f"F{dt.date.today().year}-00001" and invoice.vat_rate == 20
    smtp.clear()
    run_jobs()
    mail = smtp.last(demo.admin_email)
    assert "Voir la facture (PDF)" in text_of(mail)
    link = link_of(mail)
    assert link.endswith(f"/facturation/factures/{invoice.id}/pdf")
    response = admin.client.get("/" + link.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
