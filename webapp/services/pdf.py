"""A tiny PDF writer for invoices (BIL-1): text lines and rules on A4, Helvetica.

Enough for a one-page invoice without a dependency: PDF 1.4, the standard
Helvetica fonts with WinAnsiEncoding (French accents, €), xref table computed.
"""

from __future__ import annotations

A4 = (595, 842)


def _escape(text: str) -> bytes:
    raw = text.replace("\u202f", " ").replace("\u00a0", " ").encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


class Page:
    def __init__(self) -> None:
        self.ops: list[bytes] = []

    def text(self, x: float, y: float, text: str, size: float = 10, bold: bool = False,
             right: bool = False) -> None:
        if right:  # rough right alignment: Helvetica averages about 0.5 em per glyph
            x -= len(text) * size * (0.55 if bold else 0.5)
        font = b"/F2" if bold else b"/F1"
        self.ops.append(b"BT " + font + f" {size:g} Tf {x:.1f} {y:.1f} Td (".encode()
                        + _escape(text) + b") Tj ET")

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.5) -> None:
        self.ops.append(f"{width:g} w {x1:.1f} {y1:.1f} m {x2:.1f} {y2:.1f} l S".encode())


def render(page: Page, title: str = "") -> bytes:
    content = b"\n".join(page.ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4[0]} {A4[1]}] "
        "/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
        b"/Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
        b"<< /Title (" + _escape(title) + b") /Producer (Communications Manager) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def invoice_pdf(invoice, account_name: str, payments: list, euros) -> bytes:
    """The invoice as a one-page PDF."""
    page = Page()
    page.text(50, 790, "Communications Manager", 16, bold=True)
    page.text(50, 772, "Opérateur de télécommunications — service facturation", 9)
    page.text(545, 790, f"Facture {invoice.number}", 14, bold=True, right=True)
    page.text(50, 730, "Client", 9, bold=True)
    page.text(50, 716, account_name, 11)
    page.text(350, 730, "Émise le", 9, bold=True)
    page.text(430, 730, invoice.issued_on.strftime("%d/%m/%Y"), 10)
    page.text(350, 716, "Échéance", 9, bold=True)
    page.text(430, 716, invoice.due_on.strftime("%d/%m/%Y"), 10)
    if invoice.order_id:
        page.text(350, 702, "Commande", 9, bold=True)
        page.text(430, 702, invoice.order.reference, 10)
    page.line(50, 670, 545, 670)
    page.text(50, 655, "Désignation", 9, bold=True)
    page.text(545, 655, "Montant TTC", 9, bold=True, right=True)
    page.line(50, 647, 545, 647)
    page.text(50, 630, invoice.label[:90], 10)
    page.text(545, 630, euros(invoice.amount_cents), 10, right=True)
    page.line(50, 615, 545, 615)
    y = 595
    page.text(380, y, "Total TTC", 10, bold=True)
    page.text(545, y, euros(invoice.amount_cents), 10, bold=True, right=True)
    for payment in payments:
        y -= 16
        page.text(380, y, f"Payé le {payment.received_on.strftime('%d/%m/%Y')}", 9)
        page.text(545, y, "-" + euros(payment.amount_cents), 9, right=True)
    y -= 18
    page.text(380, y, "Reste dû", 10, bold=True)
    page.text(545, y, euros(invoice.balance_cents), 10, bold=True, right=True)
    page.text(50, 120, "Règlement par virement, en indiquant le numéro de facture.", 9)
    page.text(50, 106, "IBAN FR76 3000 6000 0112 3456 7890 189 — BIC AGRIFRPP", 9)
    return render(page, title=f"Facture {invoice.number}")
