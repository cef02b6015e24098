"""Annuaire (DIR-1): contact search, validation, create / edit / delete, details.

Queries arrive already scoped (tenant + site scope) from the caller; this module
adds search, pagination and the rules of a valid contact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from peewee import JOIN, fn

from webapp.db import db
from webapp.i18n import _
from webapp.models import Contact, Licence, Service, ServiceContact, Site, User, UserRole
from webapp.services import audit, email_change, phones
from webapp.services import search as contact_search
from webapp.services.actor import Actor
from webapp.services.errors import FormError
from webapp.services.forms import TypedForm
from webapp.settings import load

PAGE_SIZE = 25
# SEC-5: letters, digits and . _ % + - on the left (never first: = + - @ start spreadsheet
# formulas), a dotted host name on the right; quotes, brackets, & and spaces are refused.
EMAIL_RE = re.compile(r"^(?![=+\-@.])[a-z0-9._%+\-]+@(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+"
                      r"[a-z]{2,}$", re.I)
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass
class Page:
    items: list
    total: int
    page: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query, page: int, size: int = PAGE_SIZE, count_query=None) -> Page:
    """`count_query`: the same rows without the joins that only add columns (a COUNT over
    a LEFT JOIN of thousands of rows costs more than the page itself)."""
    total = (count_query if count_query is not None else query).count()
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    return Page(list(query.paginate(page, size)), total, page, size)


def parse_page(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def search(query, text: str, page: int) -> Page:
    """Contacts whose name, e-mail or number contains everything typed (UI-2: case,
    accents and the way a number is written do not matter)."""
    cond = contact_search.condition(text, Contact.search)
    if cond is not None:
        query = query.where(cond)
    # SCALE-4: only the columns the list shows (name, e-mail, phones, site name)
    query = (query.select(Contact.id, Contact.first_name, Contact.last_name, Contact.email,
                          Contact.phone_work, Contact.phone_mobile, Contact.site, Site.id,
                          Site.name)
             .join(Site, JOIN.LEFT_OUTER, on=(Contact.site == Site.id))
             .order_by(fn.LOWER(Contact.last_name), fn.LOWER(Contact.first_name), Contact.id))
    return paginate(query, page)


# --- validation -----------------------------------------------------------------

@dataclass
class ContactForm(TypedForm):
    first_name: str
    last_name: str
    email: str
    phone_work: str
    phone_mobile: str
    site_id: str


def validate(form: ContactForm, allowed_sites: set[int], account_id: int,
             contact: Contact | None = None) -> dict:
    """The values to store; FormError names each refused field (shown on the form)."""
    errors: dict = {}
    values: dict = {}
    for key, label in (("first_name", _("Indiquez le prénom.")),
                       ("last_name", _("Indiquez le nom."))):
        text = " ".join(getattr(form, key).split())
        if not text:
            errors[key] = label
        elif len(text) > 100:
            errors[key] = _("100 caractères au plus.")
        values[key] = text
    email = form.email.strip().lower()
    if email and (len(email) > 254 or not EMAIL_RE.match(email)):
        errors["email"] = _("Adresse e-mail invalide (exemple : prenom.nom@entreprise.fr).")
    values["email"] = email or None
    user = User.get_or_none(User.contact == contact.id) if contact is not None else None
    if user is not None and not email:
        errors["email"] = (_("Ce contact se connecte au Manager avec son adresse e-mail : "
                           "elle ne peut pas être vide."))
    elif user is not None and email != user.email and User.select().where(
            (User.email == email) & (User.id != user.id)).exists():
        errors["email"] = _("Cette adresse est déjà celle d'un autre utilisateur.")
    for key in ("phone_work", "phone_mobile"):
        try:
            values[key] = phones.checked(getattr(form, key), key)
        except FormError as refused:
            errors.update(refused.errors)
    try:
        site_id = int(form.site_id)
    except ValueError:
        site_id = None
    if site_id is None or site_id not in allowed_sites:
        errors["site_id"] = _("Choisissez un site dans la liste.")
    values["site"] = site_id
    if errors:
        raise FormError(errors)
    return values


def create_contact(account_id: int, values: dict, *, actor: Actor) -> Contact:
    """The contact and its audit event, in one transaction."""
    with db.atomic():
        contact = Contact.create(account=account_id, **values)
        audit.record("contact.created", account=account_id, actor=actor, contact=contact.id)
    return contact


def update_contact(contact: Contact, values: dict, *, access, actor: Actor,
                   settings=None) -> tuple[Contact, str | None]:
    """Saves the contact; returns it with the new sign-in address awaiting confirmation.

    A contact who signs in keeps its e-mail until the new address is confirmed (SEC-1,
    services.email_change); the change is refused (AccessError, nothing
    written) unless `access` may manage that user's access.
    """
    target = email_change.user_of(contact)
    awaiting = None
    if target is not None and values.get("email") and values["email"] != target.email:
        email_change.guard(access, target, actor)
        awaiting = values["email"]
        values = {k: v for k, v in values.items() if k != "email"}
    with db.atomic():
        Contact.update(**values).where(Contact.id == contact.id).execute()
        contact_search.reindex([contact.id])
    audit.record("contact.updated", account=contact.account_id, actor=actor,
                 contact=contact.id, fields=sorted(k for k, v in values.items()
                                                   if getattr(contact, k + "_id" if k == "site"
                                                              else k) != v))
    if awaiting:
        email_change.request_change(access, target, awaiting, actor=actor,
                                    settings=settings)
    return Contact.get_by_id(contact.id), awaiting


def check_deletable(contact: Contact, by_user) -> None:
    """FormError when this contact may not be deleted (oneself, a Manager user)."""
    if by_user is not None and by_user.contact_id == contact.id:
        raise FormError(_("Vous ne pouvez pas supprimer votre propre fiche."))
    manager = (UserRole.select().join(User).where(User.contact == contact.id).exists())
    if manager:
        raise FormError(_("Ce contact a un accès au Manager : retirez d'abord son accès dans "
                          "Préférences > Gestion des accès > Utilisateurs."))


def delete_contact(contact: Contact, *, actor: Actor, data_dir=None) -> None:
    """Associations go with it; services it held keep no holder (DIR-3); its photo goes
    with it (SEC-8)."""
    with db.atomic():
        held = [s.id for s in Service.select(Service.id).where(Service.holder == contact.id)]
        Service.update(holder=None).where(Service.holder == contact.id).execute()
        photo = Contact.get_by_id(contact.id).photo
        contact.delete_instance()
    delete_photo_files([photo], data_dir)
    audit.record("contact.deleted", account=contact.account_id, actor=actor,
                 contact=contact.id, name=contact.full_name, held_services=held)


def delete_photo_files(names, data_dir) -> None:
    """Remove deleted contacts' thumbnails (DATA_DIR/photos/<name>; SEC-8)."""
    folder = Path(data_dir if data_dir is not None else load().DATA_DIR) / "photos"
    for name in names:
        if name and "/" not in name and "\\" not in name and not name.startswith("."):
            (folder / name).unlink(missing_ok=True)


@dataclass
class ContactDetails:
    services: list[Service]
    held: list[Service]
    licences: list[Licence]
    hidden_services: int  # associated services outside the viewer's site scope


def details(contact: Contact, site_ids: frozenset[int] | None) -> ContactDetails:
    associated = (Service.select(Service, Site).join(ServiceContact)
                  .switch(Service).join(Site)
                  .where(ServiceContact.contact == contact.id).order_by(Service.kind,
                                                                         Service.number))
    visible = [s for s in associated if site_ids is None or s.site_id in site_ids]
    held = [s for s in visible if s.holder_id == contact.id]
    extra_held = [s for s in Service.select().where(Service.holder == contact.id)
                  if s not in held and (site_ids is None or s.site_id in site_ids)]
    licences = list(Licence.select().where(Licence.contact == contact.id)
                    .order_by(Licence.product))
    total = associated.count()
    return ContactDetails(visible, held + extra_held, licences, total - len(visible))
