"""LINE-1 forwarding profiles and LINE-3 queue-call flag / backup number of a fixed line.

The backup number ("numéro de secours") *is* the unavailability target of the
profile in force: `Service.backup_number` is kept equal to it (as E.164) because
the engine's configuration document reads it (docs/protocol.md, "lines"). Whenever
`accept_queue_calls` or `backup_number` of a fixed line changes, `config.reload`
is published after the commit (Q-1, Q-9).
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import IntegrityError, fn

from webapp.db import db
from webapp.i18n import Duration, _
from webapp.models import ForwardingProfile, Service
from webapp.models.lines import RULES, TARGET_LINE, TARGET_NONE, TARGET_NUMBER, TARGET_VOICEMAIL
from webapp.services import audit, phones
from webapp.services.actor import Actor
from webapp.services.engine_config import numbers_naming
from webapp.services.engine_notify import publish_config_reload
from webapp.services.errors import FormError
from webapp.services.forwarding_form import (
    find_loop,
    loop_message,
    parse_profile,
)

DEFAULT_PROFILE_NAME = _("Par défaut")

KIND_LABELS = {
    TARGET_NONE: _("Aucun renvoi"),
    TARGET_NUMBER: _("Vers un numéro"),
    TARGET_LINE: _("Vers une autre ligne"),
    TARGET_VOICEMAIL: _("Vers la messagerie vocale"),
}
RULE_LABELS = {
    "immediate": _("Renvoi immédiat"),
    "busy": _("Sur occupation"),
    "noanswer": _("Sur non-réponse"),
    "unavailable": _("Sur indisponibilité"),
}


# --- reading --------------------------------------------------------------------------------

def _stored(service: Service) -> list[ForwardingProfile]:
    return list(ForwardingProfile.select().where(ForwardingProfile.service == service.id)
                .order_by(ForwardingProfile.is_default.desc(), ForwardingProfile.name))


def _default_values(service: Service) -> dict:
    backup = service.backup_number
    return {"name": DEFAULT_PROFILE_NAME, "is_default": True, "is_active": True,
            "unavailable_kind": TARGET_NUMBER if backup else TARGET_NONE,
            "unavailable_number": backup or None}


def create_default_profile(service: Service) -> bool:
    """Give a fixed line its default profile (idempotent); True if one was created.

    Called where fixed lines come into existence (`services.lines.create_service`), by
    `flask db-upgrade` and the demo loader (backfill), and before any profile change.
    """
    with db.atomic():
        if ForwardingProfile.select().where(ForwardingProfile.service == service.id).exists():
            return False
        ForwardingProfile.create(service=service.id, **_default_values(service))
    return True


def profile_of(service: Service, profile_id: int) -> ForwardingProfile | None:
    return ForwardingProfile.get_or_none((ForwardingProfile.id == profile_id)
                                         & (ForwardingProfile.service == service.id))


def profiles_for(service: Service) -> list[ForwardingProfile]:
    """The line's profiles, default first, without writing anything (GET pages).

    A line that has none yet (created outside `create_service`, before the backfill)
    shows its default profile *virtually*: an unsaved row (`id` None) that the first
    change stores (docs/architecture.md §5: GET never changes state).
    """
    return _stored(service) or [ForwardingProfile(service=service.id, **_default_values(service))]


def switches(services) -> dict[int, list[ForwardingProfile]]:
    """LINE-1 one-click switch on directory pages: the profiles of each fixed line among
    `services` (read-only, see `profiles_for`)."""
    return {s.id: profiles_for(s) for s in services if s.kind == "fixed"}


def ensure_profiles(service: Service) -> list[ForwardingProfile]:
    """The line's stored profiles, default first; creates the default one if missing.

    Writes: only for POST handlers and services (pages use `profiles_for`)."""
    create_default_profile(service)
    return _stored(service)


def active_profile(service: Service) -> ForwardingProfile:
    return next(p for p in ensure_profiles(service) if p.is_active)


@dataclass(frozen=True)
class RuleView:
    rule: str
    label: str
    kind: str
    target: str  # human-readable destination
    moot: bool  # an immediate forward makes the other rules moot


def describe(profile: ForwardingProfile) -> list[RuleView]:
    """What each rule of the profile does, for the line page and the directory."""
    immediate = profile.immediate_kind != TARGET_NONE
    rows = []
    for rule in RULES:
        kind = getattr(profile, f"{rule}_kind")
        if kind == TARGET_NUMBER:
            target = phones.display(getattr(profile, f"{rule}_number"))
        elif kind == TARGET_LINE:
            line = getattr(profile, f"{rule}_line")
            target = f"{line.label or ''} ({phones.display(line.number)})" if line else "—"
        elif kind == TARGET_VOICEMAIL:
            target = _("Messagerie vocale")
        else:
            target = _("Aucun renvoi")
        if rule == "noanswer" and kind != TARGET_NONE:
            target = _("%(target)s après %(delay)s", target=target,
                       delay=Duration(profile.noanswer_delay_s))
        rows.append(RuleView(rule, RULE_LABELS[rule], kind, target,
                             moot=immediate and rule != "immediate"))
    return rows


# --- backup number = unavailability target of the profile in force --------------------------

def _backup_of(profile: ForwardingProfile) -> str | None:
    if profile.unavailable_kind == TARGET_NUMBER:
        return profile.unavailable_number
    if profile.unavailable_kind == TARGET_LINE and profile.unavailable_line_id:
        line = Service.get_or_none(Service.id == profile.unavailable_line_id)
        return line.number if line else None
    return None


def _sync_backup(service_id: int) -> tuple[str | None, str | None]:
    """Set Service.backup_number from the profile in force; returns (before, after)."""
    service = Service.get_by_id(service_id)
    active = ForwardingProfile.get((ForwardingProfile.service == service_id)
                                   & ForwardingProfile.is_active)
    after = _backup_of(active)
    if after != service.backup_number:
        Service.update(backup_number=after).where(Service.id == service_id).execute()
    return service.backup_number, after


def _reload_engine(actor: Actor, line: Service) -> bool:
    """A line's queue settings touch the welcome numbers whose profiles name it: a
    `config.reload` of those only (SCALE-2; none: nothing to tell the engine)."""
    return publish_config_reload(actor.engine_url, actor.engine_shard,
                                 numbers_naming([line.number]))


def _snapshot(profile: ForwardingProfile | dict) -> dict:
    keys = ["name", "noanswer_delay_s", "present_company_number"]
    for rule in RULES:
        keys += [f"{rule}_kind", f"{rule}_number", f"{rule}_line"]
    if isinstance(profile, dict):
        return {k: profile.get(k) for k in keys}
    snap = {k: getattr(profile, k) for k in keys if not k.endswith("_line")}
    for rule in RULES:
        snap[f"{rule}_line"] = getattr(profile, f"{rule}_line_id")
    return snap


@dataclass
class ForwardingChange:
    """What a change did: the profile touched, and whether the engine was told."""

    profile: ForwardingProfile | None = None
    engine_changed: bool = False
    engine_notified: bool = True


def _finish(outcome: ForwardingChange, before: str | None, after: str | None,
            actor: Actor) -> ForwardingChange:
    if before != after:
        outcome.engine_changed = True
        line = Service.get_by_id(outcome.profile.service_id)
        outcome.engine_notified = _reload_engine(actor, line)
    return outcome


# --- changes --------------------------------------------------------------------------------

def create_profile(service: Service, form: dict, candidates: dict[int, Service],
                   actor: Actor) -> ForwardingChange:
    ensure_profiles(service)
    clean = parse_profile(service, form, candidates)
    loop = find_loop(service, clean)
    if loop:
        raise FormError({"form": loop_message(loop)}, form)
    try:
        with db.atomic():
            profile = ForwardingProfile.create(service=service.id, **clean)
            audit.record("line.profile.created", account=service.account_id, actor=actor,
                         service=service.number, profile_id=profile.id,
                         after=_snapshot(clean))
    except IntegrityError:
        raise FormError({"name": _("Cette ligne a déjà un profil nommé « %(name)s ».",
                                   name=clean['name'])},
                        form) from None
    return ForwardingChange(profile)


def update_profile(profile: ForwardingProfile, form: dict, candidates: dict[int, Service],
                   actor: Actor) -> ForwardingChange:
    service = profile.service
    clean = parse_profile(service, form, candidates, exclude_id=profile.id)
    loop = find_loop(service, clean)
    if loop:
        raise FormError({"form": loop_message(loop)}, form)
    before_snap = _snapshot(profile)
    with db.atomic():
        ForwardingProfile.update(**clean).where(ForwardingProfile.id == profile.id).execute()
        before, after = _sync_backup(service.id)
        audit.record("line.profile.updated", account=service.account_id, actor=actor,
                     service=service.number, profile_id=profile.id,
                     before=before_snap, after=_snapshot(clean))
    return _finish(ForwardingChange(ForwardingProfile.get_by_id(profile.id)), before, after, actor)


def activate(profile: ForwardingProfile, actor: Actor) -> ForwardingChange:
    """Put `profile` in force ("forcer"): one transaction, exactly one active afterwards."""
    service = profile.service
    loop = find_loop(service, profile)
    if loop:
        raise FormError({"form": loop_message(loop)})
    with db.atomic():
        previous = ForwardingProfile.get_or_none((ForwardingProfile.service == service.id)
                                                 & ForwardingProfile.is_active)
        if previous is not None and previous.id == profile.id:
            return ForwardingChange(profile)
        ForwardingProfile.update(is_active=False).where(
            (ForwardingProfile.service == service.id) & ForwardingProfile.is_active).execute()
        ForwardingProfile.update(is_active=True).where(
            ForwardingProfile.id == profile.id).execute()
        before, after = _sync_backup(service.id)
        audit.record("line.profile.activated", account=service.account_id, actor=actor,
                     service=service.number, profile_id=profile.id,
                     before={"active": previous.name if previous else None},
                     after={"active": profile.name})
    return _finish(ForwardingChange(ForwardingProfile.get_by_id(profile.id)), before, after, actor)


def delete_forwarding_profile(profile: ForwardingProfile, actor: Actor) -> None:
    if profile.is_default:
        raise FormError({"form": _("Le profil par défaut ne peut pas être supprimé.")})
    if profile.is_active:
        raise FormError({"form": _("Le profil « %(name)s » est en vigueur : forcez d'abord un "
                                   "autre profil, puis supprimez celui-ci.",
                                   name=profile.name)})
    service = profile.service
    with db.atomic():
        deleted = ForwardingProfile.delete().where(
            (ForwardingProfile.id == profile.id) & ~ForwardingProfile.is_active
            & ~ForwardingProfile.is_default).execute()
        if deleted:
            audit.record("line.profile.deleted", account=service.account_id, actor=actor,
                         service=service.number, profile_id=profile.id,
                         before=_snapshot(profile))


def queue_form(service: Service) -> dict[str, str]:
    return {"accept_queue_calls": "1" if service.accept_queue_calls else "",
            "backup_number": phones.display(service.backup_number)}


def set_queue_settings(service: Service, form: dict, actor: Actor) -> ForwardingChange:
    """LINE-3: "Autoriser les appels provenant d'un numéro d'accueil" and "Numéro de secours".

    The backup number becomes the unavailability target of the profile in force.
    """
    values = {"accept_queue_calls": "1" if form.get("accept_queue_calls") else "",
              "backup_number": (form.get("backup_number") or "").strip()}
    accept = bool(values["accept_queue_calls"])
    backup = phones.checked(values["backup_number"], "backup_number", values)
    if backup is not None and backup == service.number:
        raise FormError({"backup_number": _("Le numéro de secours doit être un autre numéro "
                                          "que celui de la ligne.")}, values)
    active = active_profile(service)
    planned = _snapshot(active)
    planned.update(unavailable_kind=TARGET_NUMBER if backup else TARGET_NONE,
                   unavailable_number=backup, unavailable_line=None)
    if backup is None and active.unavailable_kind == TARGET_VOICEMAIL:
        planned.update(unavailable_kind=TARGET_VOICEMAIL)
    loop = find_loop(service, planned)
    if loop:
        raise FormError({"backup_number": loop_message(loop)}, values)
    before = {"accept_queue_calls": service.accept_queue_calls,
              "backup_number": service.backup_number}
    after = {"accept_queue_calls": accept, "backup_number": backup}
    if before == after:
        return ForwardingChange(active)
    with db.atomic():
        ForwardingProfile.update(
            unavailable_kind=planned["unavailable_kind"], unavailable_number=backup,
            unavailable_line=None).where(ForwardingProfile.id == active.id).execute()
        Service.update(accept_queue_calls=accept, backup_number=backup).where(
            Service.id == service.id).execute()
        audit.record("line.queue_settings.updated", account=service.account_id,
                     actor=actor,  service=service.number,
                     before=before, after=after)
    outcome = ForwardingChange(active, engine_changed=True)
    outcome.engine_notified = _reload_engine(actor, service)
    return outcome


def ensure_account_profiles(account_id: int | None = None) -> int:
    """Give every fixed line (of the account, or of all accounts) its default profile
    (idempotent); returns how many lines got one. Run by `flask db-upgrade` and the demo
    loader: a migration-free backfill for lines created before `create_service`."""
    created = 0
    lines = Service.select().where((Service.kind == "fixed") & ~fn.EXISTS(
        ForwardingProfile.select(ForwardingProfile.id).where(
            ForwardingProfile.service == Service.id)))
    if account_id is not None:
        lines = lines.where(Service.account == account_id)
    for line in lines:
        created += create_default_profile(line)
    return created
