"""Routes of directory folders and cards (DIR-5), CSV (DIR-6), blacklist (LINE-4),
call history and usage (LINE-5).

Folders belong to the account (all sites): the restricted user ("Gérer les services")
manages them; contacts, lines and photos follow the site scope (Paris objects: 404 for
the Lyon-restricted user). A synchronisation belongs to the user who uploaded the file:
everybody else gets 404. POSTs without fields answer 400 and change nothing.
"""

import io

from tests.routes import INVALID, Route, page_form


def _folder(d) -> dict:
    from webapp.models.core import Folder

    folder, _ = Folder.get_or_create(account=d.account_id, name="Fournisseurs",
                                     defaults={"external": True})
    return {"folder_id": folder.id}


def _photo(d) -> dict:
    """Claire (Paris) with a real thumbnail, made on first use."""
    import io

    from PIL import Image

    from webapp.models import Contact
    from webapp.services.actor import Actor
    from webapp.services.folders import photo_path, set_photo
    from webapp.settings import load

    contact = Contact.get_by_id(d.ids["contact_paris"])
    settings = load()
    if photo_path(contact, settings.DATA_DIR) is None:
        buffer = io.BytesIO()
        Image.new("RGB", (300, 200), (40, 90, 200)).save(buffer, "PNG")
        set_photo(contact, buffer.getvalue(), settings.DATA_DIR, actor=Actor.system())
    return {"contact_id": contact.id}


def _sync(d) -> dict:
    """A synchronisation of the demo administrator, ready to confirm (fresh each call)."""
    import json
    import secrets

    from webapp.redis_conn import redis_for
    from webapp.settings import load

    token = secrets.token_urlsafe(16)
    summary = {"rows": 0, "unchanged": 0, "counts": {"creates": 1, "updates": 0, "deletes": 0,
                                                     "kept": 0, "folders": 0, "errors": 0},
               "creates": [], "updates": [], "deletes": [], "kept": [], "new_folders": [],
               "errors": [], "fingerprint": "x"}
    redis_for(load().REDIS_URL).hset(f"dirsync:{token}", mapping={
        "account": d.account_id, "user": d.admin_user_id, "file": "/nonexistent",
        "filename": "matrice.csv", "state": "ready", "done": 0, "total": 0,
        "summary": json.dumps(summary)})
    return {"token": token}


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 60, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def _blocked(d) -> dict:
    """A number blocked on Claire's mobile, to unblock."""
    from webapp.models.history import BlockedNumber

    BlockedNumber.get_or_create(service=d.ids["mobile_paris"], number="+33655554444")
    return {"service_id": d.ids["mobile_paris"]}


def _move(d) -> dict:
    from webapp.models.core import Folder

    folder, _ = Folder.get_or_create(account=d.account_id, name="Fournisseurs",
                                     defaults={"external": True})
    return {"contact_id": [str(d.ids["contact_lyon"])], "folder_id": str(folder.id), "back": ""}


CSV = ("Prénom;Nom;E-mail;Téléphone fixe;Mobile;Site;Dossier\n"
       "Nina;Matrice;nina.matrice@example.fr;;0612345678;Lyon;\n").encode("utf-8-sig")


PARIS_CONTACT = dict(restricted=404, other=404, users_only=404,
                     args=lambda d: {"contact_id": d.ids["contact_paris"]})
LYON_CONTACT = dict(other=404, args=lambda d: {"contact_id": d.ids["contact_lyon"]})
FOLDER = dict(other=404, args=_folder)
LINE = dict(restricted=404, other=404, args=lambda d: {"service_id": d.ids["fixed_paris"]})
MOBILE = dict(restricted=404, other=404, args=lambda d: {"service_id": d.ids["mobile_paris"]})
SYNC = dict(restricted=404, other=404, args=_sync)

ROUTES = [
    # DIR-5 folders and cards
    Route("folders.index"),
    Route("folders.create", "POST", data={"name": "Partenaires", "external": "1"}),
    Route("folders.rename", "POST", **FOLDER,
          data={"name": "Fournisseurs locaux", "external": "1"}),
    Route("folders.delete", "POST", **FOLDER, data={"confirm": "1"}),
    Route("folders.move", "POST", other=404, data=_move),
    Route("folders.card", **{**PARIS_CONTACT, "users_only": 403}),
    Route("folders.card", "POST", **LYON_CONTACT,
          data=page_form(lambda d: d.url, company="Atelier Dupont", job_title="Responsable")),
    Route("folders.upload_photo", "POST", **LYON_CONTACT,
          data=lambda d: {"photo": (io.BytesIO(_png()), "lucas.png")}),
    Route("folders.remove_photo", "POST", **LYON_CONTACT, data={}),
    Route("folders.photo", restricted=404, other=404, users_only=404, args=_photo),
    Route("folders.new_contact"),
    Route("folders.new_contact", "POST", other=INVALID, data=lambda d: {
        "first_name": "Paul", "last_name": "Fournisseur", "email": "", "phone_work": "",
        "phone_mobile": "", "site_id": str(d.ids["site_lyon"]), "company": "Acier SA",
        "job_title": "", "address": "", "phone_home": "", "folder_id": ""}),
    Route("folders.new_person", **LINE),
    Route("folders.new_person", "POST", **LINE, data={
        "first_name": "Rémi", "last_name": "Stagiaire", "email": "", "phone_work": "",
        "phone_mobile": "", "company": "", "job_title": "", "address": "", "phone_home": "",
        "folder_id": ""}),
    # DIR-6 CSV
    Route("directory_csv.index"),
    Route("directory_csv.export"),
    Route("directory_csv.model"),
    Route("directory_csv.upload", "POST",
          data=lambda d: {"file": (io.BytesIO(CSV), "annuaire.csv")}),
    Route("directory_csv.status", **SYNC),
    Route("directory_csv.confirm", "POST", **SYNC, data={"confirm": "1"}),
    Route("directory_csv.cancel", "POST", **SYNC, data={}),
    # LINE-4 blacklist
    Route("blacklist.index", **LINE),
    Route("blacklist.add", "POST", **LINE, data={"number": "06 11 22 33 44"}),
    Route("blacklist.remove", "POST", restricted=404, other=404, args=_blocked,
          data={"number": "+33655554444"}),
    Route("blacklist.anonymous", "POST", **MOBILE, data={"anonymous": "1"}),
    # LINE-5 history and usage
    Route("history.index", **LINE),
    Route("history.export", **MOBILE),
]
