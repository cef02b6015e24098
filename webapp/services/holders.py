"""Services and their contacts (DIR-2) and the holder, "titulaire" (DIR-3)."""

from __future__ import annotations

from peewee import JOIN, fn

from webapp.db import db
from webapp.i18n import _
from webapp.models import SERVICE_KINDS, Contact, Service, ServiceContact, Site
from webapp.services import audit
from webapp.services.actor import Actor
from webapp.services.directory import Page, paginate
from webapp.services.errors import FormError

# DIR-3: a voice or fax service has a holder; a welcome number has none.
HOLDER_KINDS = ("fixed", "mobile", "fax")
SERVICE_PAGE = 50


class HolderError(FormError):
    """A refusal of this area, with its message (webapp.services.errors)."""


def listing(query, kind: str | None, site_ids: list[int] | None, page: int,
            text: str = "") -> Page:
    if kind in SERVICE_KINDS:
        query = query.where(Service.kind == kind)
    if site_ids is not None:
        query = query.where(Service.site.in_(site_ids))
    for word in text.split()[:4]:
        like = f"%{word}%"
        query = query.where((Service.number ** like) | (Service.label ** like))
    counted = query.select(Service.id)  # filters name Service's columns only
    holder = Contact.alias()
    # SCALE-4: only the columns the list shows (number, extension, kind, label, site name,
    # holder's name), not every column of three tables
    query = (query.select(Service.id, Service.number, Service.extension, Service.kind,
                          Service.label, Service.holder, Site.id, Site.name, holder.id,
                          holder.first_name, holder.last_name)
             .join(Site, on=(Service.site == Site.id))
             .switch(Service).join(holder, JOIN.LEFT_OUTER, on=(Service.holder == holder.id),
                                   attr="holder_row")
             .order_by(Service.kind, Service.number))
    return paginate(query, page, SERVICE_PAGE, count_query=counted)


def contacts_of(service: Service) -> list[Contact]:
    return list(Contact.select().join(ServiceContact)
                .where(ServiceContact.service == service.id)
                .order_by(fn.LOWER(Contact.last_name), fn.LOWER(Contact.first_name)))


def candidates(contacts_query, service: Service, text: str, limit: int = 10) -> list[Contact]:
    """Contacts in scope matching `text`, not yet associated with `service`."""
    words = text.split()[:4]
    if not words:
        return []
    linked = ServiceContact.select(ServiceContact.contact).where(
        ServiceContact.service == service.id)
    query = contacts_query.where(Contact.id.not_in(linked))
    for word in words:
        like = f"%{word}%"
        query = query.where((Contact.first_name ** like) | (Contact.last_name ** like)
                            | (Contact.email ** like))
    return list(query.order_by(fn.LOWER(Contact.last_name)).limit(limit))


def associate(service: Service, contact: Contact, *, actor: Actor) -> bool:
    with db.atomic():
        _link, created = ServiceContact.get_or_create(service=service.id, contact=contact.id)
    if created:
        audit.record("service.contact_associated", account=service.account_id, actor=actor,
                     service=service.id, contact=contact.id)
    return created


def dissociate(service: Service, contact: Contact, *, actor: Actor) -> bool:
    """Removes the association; returns True when the contact was the holder (now none)."""
    with db.atomic():
        deleted = ServiceContact.delete().where(
            (ServiceContact.service == service.id) & (ServiceContact.contact == contact.id)
        ).execute()
        if not deleted:
            raise HolderError(_("Ce contact n'est pas associé à ce service."))
        was_holder = Service.update(holder=None).where(
            (Service.id == service.id) & (Service.holder == contact.id)).execute() > 0
    audit.record("service.contact_dissociated", account=service.account_id, actor=actor,
                 service=service.id, contact=contact.id, holder_cleared=was_holder)
    return was_holder


def set_holder(service: Service, contact_id: int | None, *, actor: Actor) -> None:
    """DIR-3: one statement replaces the holder, and only with an associated contact."""
    if service.kind not in HOLDER_KINDS:
        raise HolderError(_("Un numéro d'accueil n'a pas de titulaire."))
    with db.atomic():
        if contact_id is None:
            Service.update(holder=None).where(Service.id == service.id).execute()
        else:
            linked = ServiceContact.select(ServiceContact.contact).where(
                (ServiceContact.service == service.id) & (ServiceContact.contact == contact_id))
            changed = Service.update(holder=contact_id).where(
                (Service.id == service.id) & fn.EXISTS(linked)).execute()
            if not changed:
                raise HolderError(_("Le titulaire doit être l'un des contacts associés au "
                                  "service."))
    previous = service.holder_id
    service.holder = contact_id
    audit.record("service.holder_changed", account=service.account_id, actor=actor,
                 service=service.id, old=previous, new=contact_id)
