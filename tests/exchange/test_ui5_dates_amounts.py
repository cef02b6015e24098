"""UI-5: dates and amounts are formatted by Babel in the reader's language — on pages, in
service messages and in the invoice PDF — and nobody formats them by hand again."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

from tests.exchange.conftest import q

ROOT = Path(__file__).resolve().parents[2]

# A date written day/month by hand, or an amount glued to "€" by hand.
HAND_DATE = re.compile(r"""strftime\(\s*["'][^"']*(%d[/. ]%[mbB]|%m/%d|%[aAbB])""")
HAND_AMOUNT_PY = re.compile(r"""(\}|%s|%d|\))[^"'\n]{0,12}€|€[^"'\n]{0,3}\{"""
                            r"""|\.replace\(["']\.["'],\s*["'],["']\)""")
HAND_AMOUNT_HTML = re.compile(r"""\}\}(\s|&nbsp;|\\u00a0)*€|€(\s|&nbsp;)*\{\{"""
                              r"""|\|round\(2\)|"%\.2f""")


def _handmade(paths, patterns) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any(p.search(line) for p in patterns):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:90]}")
    return found


def test_ui5_no_hand_made_dates_or_amounts_in_python_or_templates():
    python = sorted((ROOT / "webapp").rglob("*.py")) + sorted((ROOT / "worker").rglob("*.py"))
    templates = sorted((ROOT / "webapp" / "templates").rglob("*.html"))
    templates += sorted((ROOT / "webapp" / "templates").rglob("*.txt"))
    found = _handmade(python, [HAND_DATE, HAND_AMOUNT_PY])
    found += _handmade(templates, [HAND_DATE, HAND_AMOUNT_HTML])
    assert not found, "format dates with |date / Babel, amounts with |money / Money:\n" + \
        "\n".join(found)
    assert len(python) > 80 and len(templates) > 80
    # the check itself catches the two ways they were written before
    assert HAND_DATE.search('{{ d.strftime("%d/%m/%Y") }}')
    assert HAND_AMOUNT_PY.search('return f"{whole},{rest:02d}\\u00a0€"')
    assert HAND_AMOUNT_HTML.search("{{ amount }} €")


def _english(browser, demo) -> None:
    from webapp.db import db
    from webapp.models import User

    with db.connection_context():
        User.update(language="en").where(User.email == demo.admin_email).execute()


def test_ui5_billing_pages_show_dates_and_amounts_in_the_reader_language(admin, demo):
    from webapp.models import Invoice

    invoice = q(Invoice, Invoice.number == "F-DEMO-00002")
    url = f"/facturation/factures/{invoice.id}"
    french = admin.client.get(url).get_data(as_text=True)
    issued = invoice.issued_on
    assert issued.strftime("%d/%m/%Y") in french
    assert "289,90\u00a0€" in french and "241,58\u00a0€" in french
    _english(admin, demo)
    english = admin.client.get(url).get_data(as_text=True)
    assert "€289.90" in english and "€241.58" in english and "289,90" not in english
    assert f"{issued.month}/{issued.day}/{issued.strftime('%y')}" in english
    assert issued.strftime("%d/%m/%Y") not in english
    listing = admin.client.get("/facturation").get_data(as_text=True)
    assert "€289.90" in listing and "\u00a0€" not in listing


def test_ui5_service_message_amount_follows_the_reader_language(app):
    from flask import render_template_string

    from webapp.i18n import Money, _
    from webapp.translate import translate

    message = _("Le paiement dépasse le reste dû (%(balance)s).", balance=Money(123_450))
    assert message == "Le paiement dépasse le reste dû (1\u202f234,50\u00a0€)."
    when = _("Le %(date)s, %(hours)s", date=dt.date(2026, 12, 25), hours="08:00–12:00")
    assert when == "Le 25/12/2026, 08:00–12:00"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert translate(message) == "The payment is more than the amount due (€1,234.50)."
        assert render_template_string("{{ m }}", m=when) == "On 12/25/26, 08:00–12:00"
        assert render_template_string("{{ 28990|money }} {{ d|date }}",
                                      d=dt.date(2026, 11, 27)) == "€289.90 11/27/26"


def test_ui5_invoice_pdf_in_the_reader_language(admin, demo, tmp_path):
    from webapp.models import Invoice

    invoice = q(Invoice, Invoice.number == "F-DEMO-00002")
    _english(admin, demo)
    body = admin.client.get(f"/facturation/factures/{invoice.id}/pdf").data
    (tmp_path / "en.pdf").write_bytes(body)
    page = " ".join(subprocess.run(["pdftotext", "-layout", str(tmp_path / "en.pdf"), "-"],
                                   check=True, capture_output=True, text=True).stdout.split())
    for expected in ("Invoice F-DEMO-00002", "Issue date", "Due date", "Net unit price", "20%",
                     "Total excl. VAT €241.58", "VAT 20% €48.32", "Total incl. VAT €289.90",
                     "Page 1/1", "SIREN: 912 345 678"):
        assert expected in page, (expected, page[:1500])
    assert "Date d'émission" not in page and "289,90" not in page
