"""Desk phones (DIR-2 "équipements"): model, MAC address, site, line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.i18n import _
from webapp.models import PHONE_MODELS, Equipment, Service, Site
from webapp.services import audit
from webapp.services.actor import Actor
from webapp.services.directory import Page, paginate
from webapp.services.errors import FormError
from webapp.services.forms import TypedForm

MAC_RE = re.compile(r"^[0-9A-F]{12}$")


def normalise_mac(value: str | None) -> str:
    """"aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff" … → "AA:BB:CC:DD:EE:FF" ("" if not 12 hex)."""
    raw = re.sub(r"[\s:.\-]", "", value or "").upper()
    if not MAC_RE.match(raw):
        return ""
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))


@dataclass
class EquipmentForm(TypedForm):
    model: str
    mac: str
    label: str
    line_id: str
    site_id: str


def validate(form: EquipmentForm, account_id: int, site_ids: frozenset[int] | None,
             equipment: Equipment | None = None, with_site: bool = True) -> dict:
    """The values to store; FormError names each refused field (shown on the form)."""
    errors: dict = {}
    values: dict = {}
    if form.model not in PHONE_MODELS:
        errors["model"] = _("Choisissez un modèle dans la liste.")
    values["model"] = form.model
    mac = normalise_mac(form.mac)
    if not mac:
        errors["mac"] = (_("Adresse MAC invalide : 12 caractères hexadécimaux, par exemple "
                         "00:15:65:AB:CD:EF (inscrite sous le téléphone)."))
    elif Equipment.select().where((Equipment.mac == mac) & (
            Equipment.id != (equipment.id if equipment else 0))).exists():
        errors["mac"] = _("Un équipement porte déjà cette adresse MAC.")
    values["mac"] = mac
    label = " ".join(form.label.split())
    if len(label) > 120:
        errors["label"] = _("120 caractères au plus.")
    values["label"] = label
    values["line"] = None
    if form.line_id:
        line = _in_scope(Service.select().where(
            (Service.id == _int(form.line_id)) & (Service.account == account_id)
            & (Service.kind == "fixed")), Service.site, site_ids).first()
        if line is None:
            errors["line_id"] = _("Choisissez une ligne fixe de la liste.")
        values["line"] = line.id if line else None
    if with_site:
        site = _in_scope(Site.select().where((Site.id == _int(form.site_id))
                                             & (Site.account == account_id)),
                         Site.id, site_ids).first()
        if site is None:
            errors["site_id"] = _("Choisissez un site dans la liste.")
        values["site"] = site.id if site else None
    if errors:
        raise FormError(errors)
    return values


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _in_scope(query, column, site_ids):
    return query if site_ids is None else query.where(column.in_(list(site_ids)))


def scoped(account_id: int, site_ids: frozenset[int] | None):
    return _in_scope(Equipment.select().where(Equipment.account == account_id),
                     Equipment.site, site_ids)


def listing(query, site_filter: list[int] | None, page: int) -> Page:
    if site_filter is not None:
        query = query.where(Equipment.site.in_(site_filter))
    query = (query.select(Equipment, Site).join(Site, on=(Equipment.site == Site.id))
             .order_by(Equipment.model, Equipment.mac))
    return paginate(query, page, 50)


def create(account_id: int, values: dict, *, actor: Actor) -> Equipment:
    equipment = Equipment.create(account=account_id, **values)
    audit.record("equipment.created", account=account_id, actor=actor,
                 equipment=equipment.id, mac=equipment.mac)
    return equipment


def update(equipment: Equipment, values: dict, *, actor: Actor) -> Equipment:
    Equipment.update(**values).where(Equipment.id == equipment.id).execute()
    audit.record("equipment.updated", account=equipment.account_id, actor=actor,
                 equipment=equipment.id)
    return Equipment.get_by_id(equipment.id)


def delete(equipment: Equipment, *, actor: Actor) -> None:
    equipment.delete_instance()
    audit.record("equipment.deleted", account=equipment.account_id, actor=actor,
                 equipment=equipment.id, mac=equipment.mac)


def of_line(service) -> list[Equipment]:
    return list(Equipment.select().where(Equipment.line == service.id))
