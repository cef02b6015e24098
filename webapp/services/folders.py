"""Directory folders and contact cards (DIR-5): create / rename / delete folders, move
contacts, the card's extra fields and its photo (checked by content, thumbnailed).

Plain values in and out; the caller passes queries already scoped (tenant + sites).
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from peewee import JOIN, IntegrityError, fn
from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.db import db
from webapp.i18n import _
from webapp.models import Contact, Service, ServiceContact
from webapp.models.core import Folder
from webapp.services import audit, directory, phones, search
from webapp.services.actor import Actor
from webapp.services.directory import ContactForm
from webapp.services.errors import FormError
from webapp.services.forms import TypedForm

NAME_MAX = 80
PHOTO_MAX_BYTES = 5 * 1024 * 1024
THUMB_SIZE = (160, 160)
PHOTO_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def folders_of(account_id: int) -> list[Folder]:
    return list(Folder.select().where(Folder.account == account_id)
                .order_by(Folder.external, fn.LOWER(Folder.name)))


def counts(contacts_query) -> dict[int | None, int]:
    """Contacts per folder id (None = "Sans dossier") within the given scoped query."""
    rows = (contacts_query.select(Contact.folder, fn.COUNT(Contact.id).alias("n"))
            .group_by(Contact.folder).tuples())
    return {folder_id: n for folder_id, n in rows}


def get_folder(account_id: int, folder_id: int) -> Folder | None:
    return Folder.get_or_none((Folder.id == folder_id) & (Folder.account == account_id))


def _clean_name(account_id: int, name: str, folder: Folder | None = None) -> str:
    text = " ".join((name or "").split())
    if not text:
        raise FormError({"name": _("Indiquez le nom du dossier.")}, {"name": name})
    if len(text) > NAME_MAX:
        raise FormError({"name": _("%(name_max)s caractères au plus.", name_max=NAME_MAX)},
                        {"name": name})
    clash = Folder.select().where((Folder.account == account_id)
                                  & (fn.LOWER(Folder.name) == text.lower()))
    if folder is not None:
        clash = clash.where(Folder.id != folder.id)
    if clash.exists():
        raise FormError({"name": _("Un dossier porte déjà ce nom.")}, {"name": name})
    return text


def create_folder(account_id: int, name: str, external: bool, *, actor: Actor) -> Folder:
    text = _clean_name(account_id, name)
    try:
        folder = Folder.create(account=account_id, name=text, external=bool(external))
    except IntegrityError as exc:  # a concurrent creation of the same name
        raise FormError({"name": _("Un dossier porte déjà ce nom.")}, {"name": name}) from exc
    audit.record("folder.created", account=account_id, actor=actor, folder=folder.id,
                 name=text)
    return folder


def rename_folder(folder: Folder, name: str, external: bool, *, actor: Actor) -> Folder:
    text = _clean_name(folder.account_id, name, folder)
    Folder.update(name=text, external=bool(external)).where(Folder.id == folder.id).execute()
    audit.record("folder.renamed", account=folder.account_id, actor=actor,
                 folder=folder.id, old=folder.name, name=text)
    return Folder.get_by_id(folder.id)


def delete_folder(folder: Folder, *, actor: Actor) -> int:
    """Its contacts stay in the directory, "Sans dossier"; returns how many moved out."""
    with db.atomic():
        moved = Contact.update(folder=None).where(Contact.folder == folder.id).execute()
        folder.delete_instance()
    audit.record("folder.deleted", account=folder.account_id, actor=actor,
                 folder=folder.id, name=folder.name, contacts=moved)
    return moved


def move_contacts(contacts_query, contact_ids: list[int], folder: Folder | None, *,
                  account_id: int, actor: Actor) -> int:
    """Move the contacts (only those in `contacts_query`, the caller's scope) to `folder`.

    Services, holders and licences are untouched: only the folder changes.
    """
    ids = [c.id for c in contacts_query.where(Contact.id.in_(contact_ids or [0]))]
    if not ids:
        return 0
    Contact.update(folder=folder.id if folder else None).where(Contact.id.in_(ids)).execute()
    audit.record("contact.moved", account=account_id, actor=actor, contacts=ids,
                 folder=folder.id if folder else None)
    return len(ids)


# --- contact card -----------------------------------------------------------------

@dataclass
class CardForm(TypedForm):
    company: str
    job_title: str
    address: str
    phone_home: str
    folder_id: str

    @classmethod
    def from_contact(cls, contact: Contact) -> CardForm:
        return cls.from_record(contact, phone_home=phones.display(contact.phone_home))


def validate_card(form: CardForm, account_id: int) -> dict:
    """The card's values to store; FormError names each refused field."""
    errors: dict = {}
    values: dict = {}
    for key, limit in (("company", 120), ("job_title", 120), ("address", 500)):
        text = getattr(form, key).strip()
        if key != "address":
            text = " ".join(text.split())
        if len(text) > limit:
            errors[key] = _("%(limit)s caractères au plus.", limit=limit)
        values[key] = text or None
    try:
        values["phone_home"] = phones.checked(form.phone_home, "phone_home")
    except FormError as refused:
        errors.update(refused.errors)
    if form.folder_id:
        try:
            folder = get_folder(account_id, int(form.folder_id))
        except ValueError:
            folder = None
        if folder is None:
            errors["folder_id"] = _("Choisissez un dossier dans la liste.")
        values["folder"] = folder.id if folder else None
    else:
        values["folder"] = None
    if errors:
        raise FormError(errors)
    return values


def validate_contact(form: ContactForm, card: CardForm, allowed_sites: set[int],
                     account_id: int) -> dict:
    """A new contact with its card (DIR-5): both forms checked, every refusal at once."""
    errors: dict = {}
    values: dict = {}
    for check in (lambda: directory.validate(form, allowed_sites, account_id),
                  lambda: validate_card(card, account_id)):
        try:
            values.update(check())
        except FormError as refused:
            errors.update(refused.errors)
    if errors:
        raise FormError(errors)
    return values


def update_card(contact: Contact, values: dict, *, actor: Actor) -> Contact:
    Contact.update(**values).where(Contact.id == contact.id).execute()
    search.reindex([contact.id])
    audit.record("contact.card_updated", account=contact.account_id, actor=actor,
                 contact=contact.id, fields=sorted(values))
    return Contact.get_by_id(contact.id)


# --- photo ------------------------------------------------------------------------

def photo_dir(data_dir: Path | str) -> Path:
    path = Path(data_dir) / "photos"
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_thumbnail(data: bytes) -> bytes:
    """A small JPEG of an uploaded image, or FormError: checked by content, not by name."""
    if not data:
        raise FormError({"photo": _("Choisissez une image (JPEG, PNG, GIF ou WebP).")})
    if len(data) > PHOTO_MAX_BYTES:
        raise FormError({"photo": _("L'image dépasse 5 Mo : choisissez une image plus légère.")})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in PHOTO_FORMATS:
                raise FormError({"photo": _("Format non accepté : JPEG, PNG, GIF ou WebP.")})
            if probe.width * probe.height > 40_000_000:
                raise FormError({"photo": _("Image trop grande (40 mégapixels au plus).")})
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail(THUMB_SIZE)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85)
            return out.getvalue()
    except FormError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise FormError({"photo": _("Ce fichier n'est pas une image lisible "
                                  "(JPEG, PNG, GIF ou WebP).")}) from exc


def set_photo(contact: Contact, data: bytes, data_dir, *, actor: Actor) -> Contact:
    thumb = make_thumbnail(data)
    name = f"{contact.account_id}-{contact.id}-{secrets.token_hex(8)}.jpg"
    target = photo_dir(data_dir) / name
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(thumb)
    tmp.replace(target)
    old = contact.photo
    Contact.update(photo=name).where(Contact.id == contact.id).execute()
    if old:
        (photo_dir(data_dir) / old).unlink(missing_ok=True)
    audit.record("contact.photo_set", account=contact.account_id, actor=actor,
                 contact=contact.id)
    return Contact.get_by_id(contact.id)


def remove_photo(contact: Contact, data_dir, *, actor: Actor) -> None:
    if not contact.photo:
        return
    Contact.update(photo=None).where(Contact.id == contact.id).execute()
    (photo_dir(data_dir) / contact.photo).unlink(missing_ok=True)
    audit.record("contact.photo_removed", account=contact.account_id, actor=actor,
                 contact=contact.id)


def photo_path(contact: Contact, data_dir) -> Path | None:
    if not contact.photo or "/" in contact.photo or contact.photo.startswith("."):
        return None
    path = photo_dir(data_dir) / contact.photo
    return path if path.is_file() else None


# --- listing ----------------------------------------------------------------------

def contacts_in(contacts_query, folder_id: int | None | str):
    """`folder_id` an id, "none" for contacts without folder, None for all."""
    query = contacts_query.select(Contact, Folder).join(
        Folder, JOIN.LEFT_OUTER, on=(Contact.folder == Folder.id))
    if folder_id == "none":
        query = query.where(Contact.folder.is_null())
    elif folder_id is not None:
        query = query.where(Contact.folder == folder_id)
    return query.order_by(fn.LOWER(Contact.last_name), fn.LOWER(Contact.first_name), Contact.id)


def services_count(contact_ids: list[int]) -> dict[int, int]:
    rows = (ServiceContact.select(ServiceContact.contact, fn.COUNT(ServiceContact.id))
            .join(Service).where(ServiceContact.contact.in_(contact_ids or [0]))
            .group_by(ServiceContact.contact).tuples())
    return dict(rows)
