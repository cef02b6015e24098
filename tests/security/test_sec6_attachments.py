"""SEC-6: a ticket message never carries more than 3 attachments, whatever was kept from
refused tries; pending uploads are capped per user and purged."""

from __future__ import annotations

import re

from tests.dbdigest import digest
from tests.exchange.conftest import PDF, PNG
from tests.exchange.test_tickets import _files, send, text


def _refused_try(b, names):
    response = send(b, "/tickets/nouveau", {"subject": "Fax", "body": "",
                                            "files": _files(*[(n, PNG) for n in names])})
    assert response.status_code == 400
    return re.findall(r'name="keep" value="(\d+)"', text(response))


def test_sec6_kept_uploads_never_make_more_than_three(admin, db_conn):
    from webapp.models import Attachment, Ticket, TicketMessage

    kept = _refused_try(admin, ["a.png", "b.png", "c.png"])
    kept += _refused_try(admin, ["d.png", "e.png", "f.png"])
    assert len(set(kept)) == 6
    before = digest(Ticket, TicketMessage)
    response = send(admin, "/tickets/nouveau", {"subject": "Fax", "body": "Six fichiers ?",
                                                "keep": sorted(set(kept))})
    most = max([Attachment.select().where(Attachment.message == m.id).count()
                for m in TicketMessage.select()] or [0])
    assert most <= 3
    assert response.status_code == 400
    assert "3 au maximum par message" in text(response)
    assert digest(Ticket, TicketMessage) == before
    # Kept ones plus a new file: still three at most.
    response = send(admin, "/tickets/nouveau", {"subject": "Fax", "body": "Trois + un",
                                                "keep": sorted(set(kept))[:3],
                                                "files": _files(("g.pdf", PDF))})
    assert response.status_code == 400
    response = send(admin, "/tickets/nouveau", {"subject": "Fax", "body": "Trois",
                                                "keep": sorted(set(kept))[-3:]})
    assert response.status_code == 303
    assert max(Attachment.select().where(Attachment.message == m.id).count()
               for m in TicketMessage.select()) <= 3


def test_sec6_pending_uploads_are_capped_per_user(admin, app, db_conn):
    from webapp.models import Account, Attachment
    from webapp.services.tickets import MAX_PENDING, path_of, storage_dir

    settings = app.extensions["cm_settings"]
    folder = storage_dir(settings.DATA_DIR, Account.select().first().id)
    folder.mkdir(parents=True, exist_ok=True)
    before = {p.name for p in folder.iterdir()}
    for n in range(4):
        _refused_try(admin, [f"{n}a.png", f"{n}b.png", f"{n}c.png"])
    pending = list(Attachment.select().where(Attachment.message.is_null()))
    assert len(pending) == MAX_PENDING == 6
    assert path_of(pending[0], settings.DATA_DIR).parent == folder
    # The evicted files are gone from the disk too.
    assert {p.name for p in folder.iterdir()} - before == {a.stored_name for a in pending}
    assert {a.filename for a in pending} == {"2a.png", "2b.png", "2c.png", "3a.png", "3b.png",
                                             "3c.png"}


def test_sec6_stale_pending_uploads_are_purged(admin, app, db_conn):
    """Files kept from a refused try more than a day ago are deleted (rows and bytes) at
    the next upload, and their ids can no longer be attached by posting them back."""
    import datetime as dt

    from webapp.models import Attachment, TicketMessage, utcnow
    from webapp.services.tickets import PENDING_TTL, path_of

    settings = app.extensions["cm_settings"]
    old = _refused_try(admin, ["vieux1.png", "vieux2.png"])
    old_files = [path_of(a, settings.DATA_DIR) for a in Attachment.select().where(
        Attachment.id.in_([int(i) for i in old]))]
    assert len(old_files) == 2 and all(p.exists() for p in old_files)
    Attachment.update(created_at=utcnow() - PENDING_TTL - dt.timedelta(minutes=1)).where(
        Attachment.id.in_([int(i) for i in old])).execute()
    _refused_try(admin, ["neuf.png"])
    assert [a.filename for a in Attachment.select().where(Attachment.message.is_null())] == [
        "neuf.png"]
    assert not any(p.exists() for p in old_files)
    response = send(admin, "/tickets/nouveau", {"subject": "Fax", "body": "Les anciens",
                                                "keep": old})
    assert response.status_code == 303
    message = TicketMessage.select().order_by(TicketMessage.id.desc()).first()
    assert not [a.filename for a in Attachment.select().where(
        Attachment.message == message.id) if a.filename.startswith("vieux")]
