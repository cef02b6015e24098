"""Invoices as PDF (BIL-1, FR-1), laid out by fpdf2 with Debian's DejaVu fonts.

A valid French invoice: the seller's identity and legal mentions (settings: SELLER_*,
LATE_PENALTY), the customer, the number of the one continuous sequence, the dates, the
lines with unit price HT, VAT rate and amount, the totals HT / TVA / TTC, the payments
received and what remains due, the late-payment penalties and the 40 € recovery
indemnity. Text widths are the font's own (right-aligned amounts line up), long labels
wrap instead of being cut, and tables continue on the next pages with their headings.

Written in the reader's language (UI-5): the view passes its `translate` and locale; the
words are marked here, dates and amounts formatted by Babel.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from webapp import settings as settings_module
from webapp.i18n import Money, _, shown
from webapp.services.billing import totals

FONT = "DejaVu"
INK = (20, 30, 45)
GREY = (95, 105, 120)
RULE = (200, 205, 212)


class InvoiceDocument(FPDF):
    def __init__(self, settings, number: str, tr) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.cm = settings
        self.number = number
        self.tr = tr
        fonts = Path(settings.PDF_FONT_DIR)
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=26)
        self.alias_nb_pages()
        self.set_title(tr(_("Facture %(number)s", number=number)))
        self.set_author(settings.SELLER_NAME)
        self.set_creator("Communications Manager")

    def header(self) -> None:
        self.set_text_color(*INK)
        self.set_font(FONT, "B", 14)
        self.cell(0, 7, self.cm.SELLER_NAME, new_x="LMARGIN", new_y="TOP")
        self.set_font(FONT, "B", 14)
        self.cell(0, 7, self.tr(_("Facture %(number)s", number=self.number)), align="R",
                  new_x="LMARGIN", new_y="NEXT")
        if self.page_no() > 1:
            self.set_font(FONT, "", 8)
            self.set_text_color(*GREY)
            self.cell(0, 5, self.tr(_("(suite)")), align="R", new_x="LMARGIN", new_y="NEXT")
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
            f"SIREN {self.cm.SELLER_SIREN}",
            self.tr(_("TVA intracommunautaire %(vat)s", vat=self.cm.SELLER_VAT)),
            self.cm.SELLER_LEGAL) if part)
        self.multi_cell(0, 3.4, legal, align="C", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, self.tr(_("Page %(page)s/%(pages)s", page=self.page_no(),
                                  pages="{nb}")), align="C")

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


def invoice_pdf(invoice, account_name: str, payments: list, *, tr=str, locale: str = "fr",
                settings=None) -> bytes:
    """The invoice as a PDF (as many pages as its content needs), in `locale`: `tr` turns
    a marked `Text` into that language (the view's `webapp.translate.translate`)."""
    cm = settings or settings_module.load()
    doc = InvoiceDocument(cm, invoice.number, tr)

    def euros(cents: int) -> str:
        return shown(Money(cents), locale)

    def day(value) -> str:
        return shown(value, locale)

    doc.add_page()
    sums = totals(invoice)
    width = doc.w - doc.l_margin - doc.r_margin

    doc.top = doc.get_y()
    seller = [cm.SELLER_NAME, *cm.SELLER_ADDRESS.splitlines(),
              tr(_("SIREN : %(siren)s", siren=cm.SELLER_SIREN)),
              tr(_("N° TVA intracommunautaire : %(vat)s", vat=cm.SELLER_VAT))]
    end_left = doc.party(doc.l_margin, width / 2 - 4, tr(_("Émetteur")), seller)
    end_right = doc.party(doc.l_margin + width / 2 + 4, width / 2 - 4, tr(_("Client")),
                          [account_name, tr(_("Compte client n° %(id)s", id=invoice.account_id))])
    doc.set_xy(doc.l_margin, max(end_left, end_right) + 6)

    facts = [(_("Numéro de facture"), invoice.number),
             (_("Date d'émission"), day(invoice.issued_on)),
             (_("Date d'échéance"), day(invoice.due_on))]
    if invoice.order_id:
        facts.append((_("Commande"), invoice.order.reference))
    doc.set_font(FONT, "", 9)
    with doc.table(col_widths=(45, width - 45), first_row_as_headings=False,
                   borders_layout="NONE", line_height=5.2, padding=(0.6, 0)) as table:
        for name, value in facts:
            row = table.row()
            row.cell(tr(name), style=FontFace(emphasis="BOLD", color=GREY))
            row.cell(value)
    doc.ln(6)

    doc.label(tr(_("Détail")))
    heading = FontFace(emphasis="BOLD", fill_color=(236, 240, 245))
    doc.set_font(FONT, "", 9)
    with doc.table(col_widths=(width - 106, 12, 36, 18, 40),
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                   headings_style=heading, borders_layout="HORIZONTAL_LINES",
                   line_height=5.2, padding=1.4) as table:
        row = table.row()
        for title in (_("Désignation"), _("Qté"), _("Prix unitaire HT"), _("TVA"),
                      _("Montant HT")):
            row.cell(tr(title))
        row = table.row()
        rate = tr(_("%(value)s %%", value=sums.rate))
        for value in (invoice.label, "1", euros(sums.ht_cents), rate, euros(sums.ht_cents)):
            row.cell(value)
    doc.ln(4)

    rows = [(_("Total HT"), euros(sums.ht_cents), False),
            (_("TVA %(rate)s %%", rate=sums.rate), euros(sums.vat_cents), False),
            (_("Total TTC"), euros(sums.ttc_cents), True)]
    rows += [(_("Payé le %(date)s (%(method)s)", date=p.received_on, method=p.method),
              euros(-p.amount_cents), False) for p in payments]
    rows.append((_("Reste dû"), euros(invoice.balance_cents), True))
    doc.set_font(FONT, "", 9)
    with doc.table(col_widths=(width - 110, 70, 40), text_align=("LEFT", "LEFT", "RIGHT"),
                   first_row_as_headings=False, borders_layout="NONE",
                   line_height=5.4, padding=(0.8, 1.4)) as table:
        for name, amount, strong in rows:
            style = FontFace(emphasis="BOLD") if strong else None
            row = table.row()
            row.cell("")
            row.cell(tr(name), style=style)
            row.cell(amount, style=style)
    doc.ln(6)

    doc.label(tr(_("Règlement")))
    doc.set_font(FONT, "", 9)
    transfer = tr(_("Par virement avant le %(date)s, en indiquant la référence %(number)s.",
                    date=day(invoice.due_on), number=invoice.number))
    doc.multi_cell(0, 4.6, f"{transfer}\nIBAN {cm.SELLER_IBAN} — BIC {cm.SELLER_BIC}",
                   new_x="LMARGIN", new_y="NEXT")
    doc.ln(3)
    doc.label(tr(_("Conditions")))
    doc.set_font(FONT, "", 8)
    doc.multi_cell(0, 4.2, cm.LATE_PENALTY, new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())
