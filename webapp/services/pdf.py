"""Invoices as PDF (BIL-1, FR-1), laid out by fpdf2 with Debian's DejaVu fonts.

A valid French invoice: the seller's identity and legal mentions (settings: SELLER_*,
LATE_PENALTY), the customer, the number of the one continuous sequence, the dates, the
lines with unit price HT, VAT rate and amount, the totals HT / TVA / TTC, the payments
received and what remains due, the late-payment penalties and the 40 € recovery
indemnity. Text widths are the font's own (right-aligned amounts line up), long labels
wrap instead of being cut, and tables continue on the next pages with their headings.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from webapp import settings as settings_module
from webapp.services.billing import totals

FONT = "DejaVu"
INK = (20, 30, 45)
GREY = (95, 105, 120)
RULE = (200, 205, 212)


def _date(value) -> str:
    return value.strftime("%d/%m/%Y")


class InvoiceDocument(FPDF):
    def __init__(self, settings, number: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.cm = settings
        self.number = number
        fonts = Path(settings.PDF_FONT_DIR)
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=26)
        self.alias_nb_pages()
        self.set_title(f"Facture {number}")
        self.set_author(settings.SELLER_NAME)
        self.set_creator("Communications Manager")

    def header(self) -> None:
        self.set_text_color(*INK)
        self.set_font(FONT, "B", 14)
        self.cell(0, 7, self.cm.SELLER_NAME, new_x="LMARGIN", new_y="TOP")
        self.set_font(FONT, "B", 14)
        self.cell(0, 7, f"Facture {self.number}", align="R", new_x="LMARGIN", new_y="NEXT")
        if self.page_no() > 1:
            self.set_font(FONT, "", 8)
            self.set_text_color(*GREY)
            self.cell(0, 5, "(suite)", align="R", new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-22)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)
        self.set_font(FONT, "", 7)
        self.set_text_color(*GREY)
        legal = " — ".join(part for part in (
            self.cm.SELLER_NAME, self.cm.SELLER_ADDRESS.replace("\n", ", "),
            f"SIREN {self.cm.SELLER_SIREN}", f"TVA intracommunautaire {self.cm.SELLER_VAT}",
            self.cm.SELLER_LEGAL) if part)
        self.multi_cell(0, 3.4, legal, align="C", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, f"Page {self.page_no()}/{{nb}}", align="C")

    # --- building blocks -----------------------------------------------------------
    def label(self, text: str) -> None:
        self.set_font(FONT, "B", 8)
        self.set_text_color(*GREY)
        self.cell(0, 5, text.upper(), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)

    def party(self, x: float, width: float, title: str, lines: list[str]) -> float:
        self.set_xy(x, self.top)
        self.set_font(FONT, "B", 8)
        self.set_text_color(*GREY)
        self.cell(width, 5, title.upper(), new_x="LEFT", new_y="NEXT")
        self.set_text_color(*INK)
        first = True
        for line in lines:
            self.set_font(FONT, "B" if first else "", 10 if first else 9)
            self.multi_cell(width, 4.6, line, new_x="LEFT", new_y="NEXT")
            first = False
        return self.get_y()


def invoice_pdf(invoice, account_name: str, payments: list, euros,
                settings=None) -> bytes:
    """The invoice as a PDF (as many pages as its content needs)."""
    cm = settings or settings_module.load()
    doc = InvoiceDocument(cm, invoice.number)
    doc.add_page()
    sums = totals(invoice)
    width = doc.w - doc.l_margin - doc.r_margin

    doc.top = doc.get_y()
    seller = [cm.SELLER_NAME, *cm.SELLER_ADDRESS.splitlines(), f"SIREN : {cm.SELLER_SIREN}",
              f"N° TVA intracommunautaire : {cm.SELLER_VAT}"]
    end_left = doc.party(doc.l_margin, width / 2 - 4, "Émetteur", seller)
    end_right = doc.party(doc.l_margin + width / 2 + 4, width / 2 - 4, "Client",
                          [account_name, f"Compte client n° {invoice.account_id}"])
    doc.set_xy(doc.l_margin, max(end_left, end_right) + 6)

    facts = [("Numéro de facture", invoice.number), ("Date d'émission", _date(invoice.issued_on)),
             ("Date d'échéance", _date(invoice.due_on))]
    if invoice.order_id:
        facts.append(("Commande", invoice.order.reference))
    doc.set_font(FONT, "", 9)
    with doc.table(col_widths=(45, width - 45), first_row_as_headings=False,
                   borders_layout="NONE", line_height=5.2, padding=(0.6, 0)) as table:
        for name, value in facts:
            row = table.row()
            row.cell(name, style=FontFace(emphasis="BOLD", color=GREY))
            row.cell(value)
    doc.ln(6)

    doc.label("Détail")
    heading = FontFace(emphasis="BOLD", fill_color=(236, 240, 245))
    doc.set_font(FONT, "", 9)
    with doc.table(col_widths=(width - 106, 12, 36, 18, 40),
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=heading, borders_layout="HORIZONTAL_LINES",
                   line_height=5.2, padding=1.4) as table:
        row = table.row()
        for title in ("Désignation", "Qté", "Prix unitaire HT", "TVA", "Montant HT"):
            row.cell(title)
        row = table.row()
        for value in (invoice.label, "1", euros(sums.ht_cents), f"{sums.rate} %",
                      euros(sums.ht_cents)):
            row.cell(value)
    doc.ln(4)

    rows = [("Total HT", euros(sums.ht_cents), False),
            (f"TVA {sums.rate} %", euros(sums.vat_cents), False),
            ("Total TTC", euros(sums.ttc_cents), True)]
    rows += [(f"Payé le {_date(p.received_on)} ({p.method})", "-" + euros(p.amount_cents), False)
             for p in payments]
    rows.append(("Reste dû", euros(invoice.balance_cents), True))
    doc.set_font(FONT, "", 9)
    with doc.table(col_widths=(width - 110, 70, 40), text_align=("LEFT", "LEFT", "RIGHT"),
                   first_row_as_headings=False, borders_layout="NONE",
                   line_height=5.4, padding=(0.8, 1.4)) as table:
        for name, amount, strong in rows:
            style = FontFace(emphasis="BOLD") if strong else None
            row = table.row()
            row.cell("")
            row.cell(name, style=style)
            row.cell(amount, style=style)
    doc.ln(6)

    doc.label("Règlement")
    doc.set_font(FONT, "", 9)
    doc.multi_cell(0, 4.6, f"Par virement avant le {_date(invoice.due_on)}, en indiquant la "
                   f"référence {invoice.number}.\nIBAN {cm.SELLER_IBAN} — BIC {cm.SELLER_BIC}",
                   new_x="LMARGIN", new_y="NEXT")
    doc.ln(3)
    doc.label("Conditions")
    doc.set_font(FONT, "", 8)
    doc.multi_cell(0, 4.2, cm.LATE_PENALTY, new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())
