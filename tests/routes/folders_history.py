"""Routes of directory folders and cards (DIR-5), CSV (DIR-6), blacklist (LINE-4),
call history and usage (LINE-5).

Folders belong to the account (all sites): the restricted user ("Gérer les services")
manages them; contacts, lines and photos follow the site scope (Paris objects: 404 for
the Lyon-restricted user). A synchronisation belongs to the user who uploaded the file:
everybody else gets 404. POSTs without fields answer 400 and change nothing.
"""

from tests.routes import Route


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
    from webapp.services.folders import photo_path, set_photo
    from webapp.settings import load

    contact = Contact.get_by_id(d.ids["contact_paris"])
    settings = load()
    if photo_path(contact, settings.DATA_DIR) is None:
        buffer = io.BytesIO()
        Image.new("RGB", (300, 200), (40, 90, 200)).save(buffer, "PNG")
        set_photo(contact, buffer.getvalue(), settings.DATA_DIR)
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


PARIS_CONTACT = dict(restricted=404, other=404,
                     args=lambda d: {"contact_id": d.ids["contact_paris"]})
LYON_CONTACT = dict(other=404, args=lambda d: {"contact_id": d.ids["contact_lyon"]})
FOLDER = dict(other=404, args=_folder)
LINE = dict(restricted=404, other=404, args=lambda d: {"service_id": d.ids["fixed_paris"]})
MOBILE = dict(restricted=404, other=404, args=lambda d: {"service_id": d.ids["mobile_paris"]})
SYNC = dict(restricted=404, other=404, args=_sync)

ROUTES = [
    # DIR-5 folders and cards
    Route("folders.index"),
    Route("folders.create", "POST"),
    Route("folders.rename", "POST", **FOLDER),
    Route("folders.delete", "POST", **FOLDER),
    Route("folders.move", "POST"),
    Route("folders.card", **PARIS_CONTACT),
    Route("folders.card", "POST", **LYON_CONTACT),
    Route("folders.upload_photo", "POST", **LYON_CONTACT),
    Route("folders.remove_photo", "POST", **LYON_CONTACT),
    Route("folders.photo", restricted=404, other=404, args=_photo),
    Route("folders.new_contact"),
    Route("folders.new_contact", "POST"),
    Route("folders.new_person", **LINE),
    Route("folders.new_person", "POST", **LINE),
    # DIR-6 CSV
    Route("directory_csv.index"),
    Route("directory_csv.export"),
    Route("directory_csv.model"),
    Route("directory_csv.upload", "POST"),
    Route("directory_csv.status", **SYNC),
    Route("directory_csv.confirm", "POST", **SYNC),
    Route("directory_csv.cancel", "POST", **SYNC),
    # LINE-4 blacklist
    Route("blacklist.index", **LINE),
    Route("blacklist.add", "POST", **LINE),
    Route("blacklist.remove", "POST", **LINE),
    Route("blacklist.anonymous", "POST", **MOBILE),
    # LINE-5 history and usage
    Route("history.index", **LINE),
    Route("history.export", **MOBILE),
]
