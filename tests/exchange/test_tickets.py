"""TKT-1..2: tickets, thread in place, attachments checked by content, kept on refusal."""

from __future__ import annotations

import html as html_lib
import io
import re
from pathlib import Path

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.exchange.conftest import JPEG, PDF, PNG, TEXT, count, q

MB2 = 2 * 1024 * 1024


def _files(*pairs):
    return [FileStorage(io.BytesIO(data), filename=name, content_type="application/octet-stream")
            for name, data in pairs]


def send(b, path: str, fields: dict, token_from: str | None = None, headers=None):
    """A multipart POST encoded in memory (the test client would spool big bodies to an
    unclosed temporary file)."""
    fields = {"csrf_token": b.token(token_from or path), **fields}
    boundary, body = encode_multipart(MultiDict(
        [(k, v) for k, values in fields.items()
         for v in (values if isinstance(values, list) else [values])]))
    return b.client.post(path, data=body, headers=headers or {},
                         content_type=f"multipart/form-data; boundary={boundary}")


def _new_ticket(b, subject="Fax en panne", body="Le fax ne reçoit plus rien.", files=()):
    return send(b, "/tickets/nouveau",
                {"subject": subject, "body": body, "files": _files(*files)})


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def _ticket_id(response) -> int:
    return int(re.search(r"/tickets/(\d+)", response.headers["Location"]).group(1))


def test_tkt1_create_ticket_listed_open_then_closed_list(admin):
    response = _new_ticket(admin)
    assert response.status_code == 303
    ticket_id = _ticket_id(response)
    page = admin.client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Fax en panne" in page and "Le fax ne reçoit plus rien." in page
    assert "Fax en panne" in admin.client.get("/tickets").get_data(as_text=True)
    assert "Fax en panne" not in admin.client.get("/tickets?etat=fermes").get_data(as_text=True)
    assert "Changement d&#39;adresse" in admin.client.get("/tickets?etat=fermes").get_data(
        as_text=True)


def test_tkt1_reply_updates_thread_in_place_with_htmx(admin):
    ticket_id = _ticket_id(_new_ticket(admin))
    response = send(admin, f"/tickets/{ticket_id}/messages",
                    {"body": "Toujours en panne ce matin."}, token_from=f"/tickets/{ticket_id}",
                    headers={"HX-Request": "true", "HX-Target": "ticket"})
    assert response.status_code == 200
    html = text(response)
    assert html.lstrip().startswith('<div id="ticket">')  # only the block, not the page
    assert "Toujours en panne ce matin." in html
    assert response.headers["HX-Trigger"] == "cm-events"
    assert "<textarea" in html and "Toujours en panne ce matin.</textarea>" not in html


def test_tkt1_thread_poll_is_a_bodiless_304_until_operator_replies(admin, staff):
    from webapp.models import Ticket

    ticket = q(Ticket, Ticket.subject == "Pas de tonalité sur le poste de l'accueil")
    headers = {"HX-Request": "true", "HX-Target": "thread"}
    first = admin.client.get(f"/tickets/{ticket.id}", headers=headers)
    assert first.status_code == 200 and first.headers["ETag"].startswith("W/")
    assert first.get_data(as_text=True).lstrip().startswith('<section class="card thread"')
    again = admin.client.get(f"/tickets/{ticket.id}",
                             headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    staff.post(f"/ops/tickets/{ticket.id}/repondre", {"body": "La ligne est rétablie."},
               token_from=f"/ops/tickets/{ticket.id}")
    changed = admin.client.get(f"/tickets/{ticket.id}",
                               headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert "La ligne est rétablie." in changed.get_data(as_text=True)


def test_tkt1_closed_ticket_reopens_when_customer_replies(admin):
    from webapp.models import Ticket

    closed = q(Ticket, Ticket.subject == "Changement d'adresse de facturation")
    assert closed.status == "closed"
    response = send(admin, f"/tickets/{closed.id}/messages", {"body": "Encore une question."},
                    token_from=f"/tickets/{closed.id}")
    assert response.status_code == 303
    assert q(Ticket, Ticket.id == closed.id).status == "open"


def test_tkt1_requires_access_to_tickets(make_user, new_browser, demo):
    b = new_browser()
    b.sign_in(make_user("compta@atelier-dupont.example", "billing.view"), demo.password)
    for path in ("/tickets", "/tickets/nouveau"):
        response = b.client.get(path)
        assert response.status_code == 403
        assert "Accéder aux tickets" in text(response)


def test_tkt2_fourth_attachment_refused_text_kept(admin, demo):
    from webapp.models import Attachment, TicketMessage

    messages_before = count(TicketMessage.select())
    response = _new_ticket(admin, body="Voici les captures.", files=[
        ("a.png", PNG), ("b.pdf", PDF), ("c.jpg", JPEG), ("d.txt", TEXT)])
    assert response.status_code == 400
    html = text(response)
    assert "Voici les captures.</textarea>" in html
    assert "3 pièces jointes au maximum" in html and "« d.txt »" in html
    assert count(TicketMessage.select()) == messages_before  # nothing posted
    kept = re.findall(r'name="keep" value="(\d+)" checked', html)
    assert len(kept) == 3
    # Sending again with the kept files posts the message with exactly those three.
    response = send(admin, "/tickets/nouveau", {"subject": "Fax en panne",
                                                "body": "Voici les captures.", "keep": kept})
    assert response.status_code == 303
    ticket_id = _ticket_id(response)
    page = admin.client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert all(name in page for name in ("a.png", "b.pdf", "c.jpg"))
    assert count(Attachment.select().where(Attachment.message.is_null())) == 0


def test_tkt2_file_over_2mb_refused_valid_file_kept_exact_2mb_accepted(admin):
    from webapp.models import Ticket

    ticket = q(Ticket, Ticket.subject == "Pas de tonalité sur le poste de l'accueil")
    url = f"/tickets/{ticket.id}/messages"
    big = PDF + b"0" * (MB2 + 1 - len(PDF))
    response = send(admin, url, {"body": "Deux fichiers.", "files": _files(
        ("gros.pdf", big), ("ok.png", PNG))}, token_from=f"/tickets/{ticket.id}")
    assert response.status_code == 400
    html = text(response)
    assert "« gros.pdf » pèse 2,0 Mo : 2 Mo au maximum par pièce jointe." in html
    assert "Deux fichiers.</textarea>" in html
    kept = re.findall(r'name="keep" value="(\d+)" checked', html)
    assert len(kept) == 1 and "ok.png" in html
    exact = PDF + b"0" * (MB2 - len(PDF))
    response = send(admin, url, {"body": "Deux fichiers.", "keep": kept,
                                "files": _files(("juste.pdf", exact))},
                    token_from=f"/tickets/{ticket.id}")
    assert response.status_code == 303
    page = admin.client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "juste.pdf" in page and "ok.png" in page


def test_tkt2_wrong_magic_bytes_refused_text_kept(admin):
    from webapp.models import Attachment

    response = _new_ticket(admin, body="Mon relevé.", files=[
        ("releve.pdf", b"MZ\x90\x00 this is a windows executable"),
        ("photo.png", b"GIF89a but named png"),  # a real GIF named .png: accepted as GIF
        ("notes.txt", b"\x00\x01binary")])
    assert response.status_code == 400
    html = text(response)
    assert "« releve.pdf » n'est pas d'un type accepté" in html
    assert "« notes.txt » n'est pas d'un type accepté" in html
    assert "Mon relevé.</textarea>" in html
    pending = list(Attachment.select().where(Attachment.message.is_null()))
    assert [(a.filename, a.content_type) for a in pending] == [("photo.png", "image/gif")]


def test_tkt2_path_traversal_names_refused_nothing_written_outside(admin, app):
    settings = app.extensions["cm_settings"]
    for name in ("../../evil.txt", "..\\..\\evil.txt", "/etc/evil.txt"):
        response = _new_ticket(admin, body="Chemin.", files=[(name, TEXT)])
        assert response.status_code == 400, name
        html = text(response)
        assert "nom de fichier refusé" in html and "Chemin.</textarea>" in html
    assert not list(Path(settings.DATA_DIR).parent.rglob("evil.txt"))


def test_tkt2_stored_outside_web_root_under_server_name_downloaded_as_attachment(admin, app):
    from webapp.models import Attachment

    response = _new_ticket(admin, files=[("capture écran.png", PNG)])
    assert response.status_code == 303
    attachment = q(Attachment, Attachment.filename == "capture écran.png")
    settings = app.extensions["cm_settings"]
    stored = Path(settings.DATA_DIR) / "attachments" / str(attachment.account_id) / \
        attachment.stored_name
    assert stored.read_bytes() == PNG
    assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
    assert "static" not in stored.parts
    download = admin.client.get(f"/tickets/pieces-jointes/{attachment.id}")
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_tkt2_download_refused_to_other_account_and_without_ticket_access(
        admin, other_admin, make_user, new_browser, demo):
    from webapp.models import Attachment

    _new_ticket(admin, files=[("contrat.pdf", PDF)])
    attachment = q(Attachment, Attachment.filename == "contrat.pdf")
    url = f"/tickets/pieces-jointes/{attachment.id}"
    assert other_admin.client.get(url).status_code == 404
    b = new_browser()
    b.sign_in(make_user("compta@atelier-dupont.example", "billing.view"), demo.password)
    assert b.client.get(url).status_code == 403
    assert admin.client.get(url).status_code == 200


def test_tkt2_pending_files_bound_to_their_session(admin, new_browser, demo):
    from webapp.models import Attachment

    response = _new_ticket(admin, body="", files=[("a.png", PNG)])
    assert response.status_code == 400
    assert "Écrivez votre message." in text(response)
    kept = re.findall(r'name="keep" value="(\d+)" checked', text(response))
    # The same user in another browser cannot attach the file kept in the first session.
    other = new_browser()
    other.sign_in(demo.admin_email, demo.password)
    response = send(other, "/tickets/nouveau", {"subject": "Vol", "body": "Texte", "keep": kept})
    assert response.status_code == 303
    assert count(Attachment.select().where(Attachment.message.is_null(False))) == 0
