"""Deployments (DEP-1): listed to customers, scheduled and moved by operator staff (OPS-1)."""

from __future__ import annotations

import datetime as dt
import re

from webapp.db import db
from webapp.i18n import _
from webapp.models import (
    DEPLOYMENT_KINDS,
    DEPLOYMENT_OPEN,
    SLOTS,
    Account,
    Deployment,
    DeploymentEvent,
    Site,
    utcnow,
)
from webapp.services import audit, notify, phones, sequences
from webapp.services.accounts import owned
from webapp.services.actor import Actor
from webapp.services.errors import FormError

# Allowed moves; "scheduled" is reached through `schedule` (it needs a date and a slot).
TRANSITIONS = {
    "requested": ("cancelled",),
    "scheduled": ("in_progress", "cancelled"),
    "in_progress": ("done", "cancelled"),
    "done": (),
    "cancelled": (),
}
NOTIFIED_CHANGES = ("scheduled", "rescheduled", "done")


def scoped(account_id: int, site_ids: frozenset[int] | None):
    """Deployments of the account on sites in scope (none: account-wide, seen by all)."""
    query = Deployment.select().where(Deployment.account == account_id)
    if site_ids is not None:
        query = query.where(Deployment.site.is_null() | Deployment.site.in_(list(site_ids)))
    return query


def upcoming(query):
    return (query.where(Deployment.status.in_(DEPLOYMENT_OPEN))
            .order_by(Deployment.scheduled_date.asc(nulls="LAST"), Deployment.id))


def past(query):
    return (query.where(Deployment.status.not_in(DEPLOYMENT_OPEN))
            .order_by(Deployment.scheduled_date.desc(nulls="LAST"), Deployment.id.desc()))


def history(deployment: Deployment) -> list[DeploymentEvent]:
    return list(DeploymentEvent.select().where(DeploymentEvent.deployment == deployment)
                .order_by(DeploymentEvent.created_at.desc(), DeploymentEvent.id.desc()))


def parse_numbers(raw: str) -> list[str]:
    """The numbers, E.164: one per line (or separated by commas), "06 11 22 33 44",
    "06.11.22.33.44" and "+33611223344" alike. FormError ("numbers") names the first
    entries not recognised."""
    numbers, bad = [], []
    for item in (i.strip() for i in re.split(r"[\n,;]+", raw)):
        if not item:
            continue
        cleaned = phones.normalize(item)
        if cleaned:
            numbers.append(cleaned)
        else:
            bad.append(item)
    if bad:
        raise FormError({"numbers": _("Numéros non reconnus : %(numbers)s",
                                      numbers=", ".join(bad[:5]))})
    return numbers


def parse_date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        return None


def create(*, account: Account, kind: str, title: str, site_id: int | None, numbers: str,
           actor: Actor) -> Deployment:
    errors: dict[str, str] = {}
    if kind not in DEPLOYMENT_KINDS:
        errors["kind"] = _("Choisissez le type de déploiement.")
    site = owned(Site, site_id, account)
    if site_id and site is None:
        errors["site"] = _("Ce site n'appartient pas à ce client.")
    try:
        parsed = parse_numbers(numbers)
    except FormError as refused:
        parsed = []
        errors.update(refused.errors)
    if kind in ("fixed_porting", "mobile_porting") and not parsed and "numbers" not in errors:
        errors["numbers"] = _("Une portabilité concerne au moins un numéro.")
    if errors:
        raise FormError(errors)
    with db.atomic():
        deployment = Deployment.create(
            account=account, site=site, kind=kind, title=title.strip()[:200],
            reference=sequences.next_number("D"), numbers="\n".join(parsed))
        DeploymentEvent.create(deployment=deployment, status="requested", change="created",
                               staff=actor.staff)
    audit.record("deployment.created", account=account.id, staff=actor.staff.id,
                 deployment=deployment.id)
    return deployment


def schedule(deployment: Deployment, *, date_raw: str, slot: str, actor: Actor,
             today: dt.date) -> None:
    """Set or change the date and slot; the customer is told by e-mail (MAIL-1)."""
    date = parse_date(date_raw)
    if date is None:
        raise FormError({"date": _("Indiquez une date valide.")})
    if date < today:
        raise FormError({"date": _("La date ne peut pas être passée.")})
    if slot not in SLOTS:
        raise FormError({"slot": _("Choisissez un créneau.")})
    if deployment.status not in ("requested", "scheduled"):
        raise FormError(_("Ce déploiement ne peut plus être planifié."))
    if deployment.scheduled_date == date and deployment.slot == slot:
        raise FormError(_("La date et le créneau sont inchangés."))
    change = "rescheduled" if deployment.status == "scheduled" else "scheduled"
    with db.atomic():
        Deployment.update(scheduled_date=date, slot=slot, status="scheduled",
                          updated_at=utcnow()).where(Deployment.id == deployment.id).execute()
        event = DeploymentEvent.create(deployment=deployment, status="scheduled", change=change,
                                       scheduled_date=date, slot=slot, staff=actor.staff)
    audit.record(f"deployment.{change}", account=deployment.account_id, staff=actor.staff.id,
                 deployment=deployment.id)
    notify.enqueue(actor.redis_url, "deployment_changed", event.id)


def move(deployment: Deployment, status: str, *, actor: Actor, note: str = "") -> None:
    if status not in TRANSITIONS.get(deployment.status, ()):
        raise FormError({"status": _("Ce changement de statut n'est pas possible.")})
    with db.atomic():
        Deployment.update(status=status, updated_at=utcnow()).where(
            Deployment.id == deployment.id).execute()
        event = DeploymentEvent.create(
            deployment=deployment, status=status, change="status", note=note.strip()[:300],
            scheduled_date=deployment.scheduled_date, slot=deployment.slot, staff=actor.staff)
    audit.record("deployment.status", account=deployment.account_id, staff=actor.staff.id,
                 deployment=deployment.id, status=status)
    if status == "done":
        notify.enqueue(actor.redis_url, "deployment_changed", event.id)
