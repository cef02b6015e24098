"""LINE-1 forwarding profiles and LINE-3 queue-call flag / backup number of a fixed line.

The backup number ("numéro de secours") *is* the unavailability target of the
profile in force: `Service.backup_number` is kept equal to it (as E.164) because
the engine's configuration document reads it (PROTOCOL.md, "lines"). Whenever
`accept_queue_calls` or `backup_number` of a fixed line changes, `config.reload`
is published after the commit (Q-1, Q-9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from peewee import IntegrityError, fn

from webapp.db import db
from webapp.models import (
    RULES,
    TARGET_KINDS,
    TARGET_LINE,
    TARGET_NONE,
    TARGET_NUMBER,
    TARGET_VOICEMAIL,
    ForwardingProfile,
    Service,
    VoicemailSettings,
)
from webapp.services import audit, phones
from webapp.services.actor import Actor
from webapp.services.engine_config import numbers_naming
from webapp.services.engine_notify import publish_config_reload
from webapp.services.errors import FormError

DEFAULT_PROFILE_NAME = "Par défaut"
NAME_MAX = 60
DELAY_MIN, DELAY_MAX, DELAY_DEFAULT = 5, 60, 20

RULE_LABELS = {
    "immediate": "Renvoi immédiat",
    "busy": "Sur occupation",
    "noanswer": "Sur non-réponse",
    "unavailable": "Sur indisponibilité",
}
KIND_LABELS = {
    TARGET_NONE: "Aucun renvoi",
    TARGET_NUMBER: "Vers un numéro",
    TARGET_LINE: "Vers une autre ligne",
    TARGET_VOICEMAIL: "Vers la messagerie vocale",
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
    change stores (ARCHITECTURE §5: GET never changes state).
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


def profile_to_form(profile: ForwardingProfile | None) -> dict[str, str]:
    """Form values (strings) of a profile; a new profile starts with no forwarding."""
    form: dict[str, str] = {"name": "", "noanswer_delay_s": str(DELAY_DEFAULT),
                            "present_company_number": ""}
    for rule in RULES:
        form.update({f"{rule}_kind": TARGET_NONE, f"{rule}_number": "", f"{rule}_line": ""})
    if profile is None:
        return form
    form["name"] = profile.name
    form["noanswer_delay_s"] = str(profile.noanswer_delay_s)
    form["present_company_number"] = "1" if profile.present_company_number else ""
    for rule in RULES:
        form[f"{rule}_kind"] = getattr(profile, f"{rule}_kind")
        form[f"{rule}_number"] = phones.display(getattr(profile, f"{rule}_number"))
        line_id = getattr(profile, f"{rule}_line_id")
        form[f"{rule}_line"] = str(line_id) if line_id else ""
    return form


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
            target = "Messagerie vocale"
        else:
            target = "Aucun renvoi"
        if rule == "noanswer" and kind != TARGET_NONE:
            target += f" après {profile.noanswer_delay_s} s"
        rows.append(RuleView(rule, RULE_LABELS[rule], kind, target,
                             moot=immediate and rule != "immediate"))
    return rows


# --- validation ------------------------------------------------------------------------------

def _clean_name(service: Service, raw: str, exclude_id: int | None) -> tuple[str, str | None]:
    name = re.sub(r"\s+", " ", raw or "").strip()
    if not name:
        return name, "Donnez un nom au profil."
    if len(name) > NAME_MAX or any(ord(c) < 32 for c in name):
        return name, f"Le nom ne peut pas dépasser {NAME_MAX} caractères."
    clash = ForwardingProfile.select().where((ForwardingProfile.service == service.id)
                                             & (ForwardingProfile.name == name))
    if exclude_id is not None:
        clash = clash.where(ForwardingProfile.id != exclude_id)
    if clash.exists():
        return name, f"Cette ligne a déjà un profil nommé « {name} »."
    return name, None


def _voicemail_enabled(service: Service) -> bool:
    return VoicemailSettings.select().where((VoicemailSettings.service == service.id)
                                            & VoicemailSettings.enabled).exists()


def parse_profile(service: Service, form: dict, candidates: dict[int, Service],
                  exclude_id: int | None = None) -> dict:
    """Validated model values from a submitted profile form, or FormError (typed values kept).

    `candidates` are the lines the person may forward to (in their scope, not this one).
    """
    values = {k: (form.get(k) or "").strip() for k in profile_to_form(None)}
    errors: dict[str, str] = {}
    clean: dict = {}
    clean["name"], error = _clean_name(service, values["name"], exclude_id)
    if error:
        errors["name"] = error
    clean["present_company_number"] = bool(values["present_company_number"])
    for rule in RULES:
        kind = values[f"{rule}_kind"] or TARGET_NONE
        clean.update({f"{rule}_kind": kind, f"{rule}_number": None, f"{rule}_line": None})
        if kind not in TARGET_KINDS:
            errors[f"{rule}_kind"] = "Choix non valide : choisissez une destination de la liste."
        elif kind == TARGET_NUMBER:
            raw = values[f"{rule}_number"]
            number = phones.normalize(raw)
            if not raw:
                errors[f"{rule}_number"] = "Saisissez le numéro de destination."
            elif number is None:
                errors[f"{rule}_number"] = phones.INVALID_MESSAGE
            elif number == service.number:
                errors[f"{rule}_number"] = "Une ligne ne peut pas être renvoyée vers elle-même."
            else:
                clean[f"{rule}_number"] = number
        elif kind == TARGET_LINE:
            raw = values[f"{rule}_line"]
            line = candidates.get(int(raw)) if raw.isascii() and raw.isdigit() else None
            if line is None:
                errors[f"{rule}_line"] = "Choisissez une ligne de votre entreprise dans la liste."
            else:
                clean[f"{rule}_line"] = line.id
        elif kind == TARGET_VOICEMAIL and not _voicemail_enabled(service):
            errors[f"{rule}_kind"] = ("La messagerie vocale de cette ligne est désactivée : "
                                      "activez-la d'abord (section « Messagerie vocale »).")
    raw_delay = values["noanswer_delay_s"]
    if clean["noanswer_kind"] == TARGET_NONE and not raw_delay:
        clean["noanswer_delay_s"] = DELAY_DEFAULT
    elif not re.fullmatch(r"[0-9]{1,3}", raw_delay) or not DELAY_MIN <= int(raw_delay) <= DELAY_MAX:
        errors["noanswer_delay_s"] = (f"Indiquez une durée de sonnerie entre {DELAY_MIN} et "
                                      f"{DELAY_MAX} secondes.")
    else:
        clean["noanswer_delay_s"] = int(raw_delay)
    if errors:
        raise FormError(errors, values)
    return clean


# --- forward loops (line A → B → A) ----------------------------------------------------------

def _targets(values, numbers: dict[str, int]) -> set[int]:
    """Lines of the account a profile (model or clean dict) forwards to."""
    get = values.get if isinstance(values, dict) else (lambda k: getattr(values, k))
    found = set()
    for rule in RULES:
        kind = get(f"{rule}_kind")
        if kind == TARGET_LINE:
            line = get(f"{rule}_line") if isinstance(values, dict) else get(f"{rule}_line_id")
            if line:
                found.add(int(line))
        elif kind == TARGET_NUMBER and get(f"{rule}_number") in numbers:
            found.add(numbers[get(f"{rule}_number")])
    return found


def find_loop(service: Service, values) -> list[Service] | None:
    """The loop this line's profile would close with the profiles in force elsewhere."""
    lines = {s.id: s for s in Service.select().where(Service.account == service.account_id)}
    numbers = {s.number: s.id for s in lines.values()}
    edges = {p.service_id: _targets(p, numbers) for p in ForwardingProfile.select()
             .join(Service, on=ForwardingProfile.service == Service.id)
             .where((Service.account == service.account_id) & ForwardingProfile.is_active)}
    edges[service.id] = _targets(values, numbers)
    stack = [(service.id, [service.id])]
    seen = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(edges.get(node, ())):
            if nxt == service.id:
                return [lines[i] for i in path + [nxt]]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def _loop_message(loop: list[Service]) -> str:
    chain = " → ".join(phones.display(s.number) for s in loop)
    return (f"Ce renvoi créerait une boucle ({chain}) : les appels tourneraient sans fin. "
            "Choisissez une autre destination.")


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


def _notify(actor: Actor, line: Service) -> bool:
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
class Outcome:
    """What a change did: the profile touched, and whether the engine was told."""

    profile: ForwardingProfile | None = None
    engine_changed: bool = False
    engine_notified: bool = True


def _finish(outcome: Outcome, before: str | None, after: str | None, actor: Actor) -> Outcome:
    if before != after:
        outcome.engine_changed = True
        outcome.engine_notified = _notify(actor, Service.get_by_id(outcome.profile.service_id))
    return outcome


# --- changes --------------------------------------------------------------------------------

def create_profile(service: Service, form: dict, candidates: dict[int, Service],
                   actor: Actor) -> Outcome:
    ensure_profiles(service)
    clean = parse_profile(service, form, candidates)
    loop = find_loop(service, clean)
    if loop:
        raise FormError({"form": _loop_message(loop)}, form)
    try:
        with db.atomic():
            profile = ForwardingProfile.create(service=service.id, **clean)
            audit.record("line.profile.created", account=service.account_id, user=actor.user,
                         ip=actor.ip, service=service.number, profile_id=profile.id,
                         after=_snapshot(clean))
    except IntegrityError:
        raise FormError({"name": f"Cette ligne a déjà un profil nommé « {clean['name']} »."},
                        form) from None
    return Outcome(profile)


def update_profile(profile: ForwardingProfile, form: dict, candidates: dict[int, Service],
                   actor: Actor) -> Outcome:
    service = profile.service
    clean = parse_profile(service, form, candidates, exclude_id=profile.id)
    loop = find_loop(service, clean)
    if loop:
        raise FormError({"form": _loop_message(loop)}, form)
    before_snap = _snapshot(profile)
    with db.atomic():
        ForwardingProfile.update(**clean).where(ForwardingProfile.id == profile.id).execute()
        before, after = _sync_backup(service.id)
        audit.record("line.profile.updated", account=service.account_id, user=actor.user,
                     ip=actor.ip, service=service.number, profile_id=profile.id,
                     before=before_snap, after=_snapshot(clean))
    return _finish(Outcome(ForwardingProfile.get_by_id(profile.id)), before, after, actor)


def activate(profile: ForwardingProfile, actor: Actor) -> Outcome:
    """Put `profile` in force ("forcer"): one transaction, exactly one active afterwards."""
    service = profile.service
    loop = find_loop(service, profile)
    if loop:
        raise FormError({"form": _loop_message(loop)})
    with db.atomic():
        previous = ForwardingProfile.get_or_none((ForwardingProfile.service == service.id)
                                                 & ForwardingProfile.is_active)
        if previous is not None and previous.id == profile.id:
            return Outcome(profile)
        ForwardingProfile.update(is_active=False).where(
            (ForwardingProfile.service == service.id) & ForwardingProfile.is_active).execute()
        ForwardingProfile.update(is_active=True).where(
            ForwardingProfile.id == profile.id).execute()
        before, after = _sync_backup(service.id)
        audit.record("line.profile.activated", account=service.account_id, user=actor.user,
                     ip=actor.ip, service=service.number, profile_id=profile.id,
                     before={"active": previous.name if previous else None},
                     after={"active": profile.name})
    return _finish(Outcome(ForwardingProfile.get_by_id(profile.id)), before, after, actor)


def delete_profile(profile: ForwardingProfile, actor: Actor) -> None:
    if profile.is_default:
        raise FormError({"form": "Le profil par défaut ne peut pas être supprimé."})
    if profile.is_active:
        raise FormError({"form": f"Le profil « {profile.name} » est en vigueur : forcez d'abord "
                                 "un autre profil, puis supprimez celui-ci."})
    service = profile.service
    with db.atomic():
        deleted = ForwardingProfile.delete().where(
            (ForwardingProfile.id == profile.id) & ~ForwardingProfile.is_active
            & ~ForwardingProfile.is_default).execute()
        if deleted:
            audit.record("line.profile.deleted", account=service.account_id, user=actor.user,
                         ip=actor.ip, service=service.number, profile_id=profile.id,
                         before=_snapshot(profile))


def queue_form(service: Service) -> dict[str, str]:
    return {"accept_queue_calls": "1" if service.accept_queue_calls else "",
            "backup_number": phones.display(service.backup_number)}


def set_queue_settings(service: Service, form: dict, actor: Actor) -> Outcome:
    """LINE-3: "Autoriser les appels provenant d'un numéro d'accueil" and "Numéro de secours".

    The backup number becomes the unavailability target of the profile in force.
    """
    values = {"accept_queue_calls": "1" if form.get("accept_queue_calls") else "",
              "backup_number": (form.get("backup_number") or "").strip()}
    accept = bool(values["accept_queue_calls"])
    backup = phones.normalize(values["backup_number"])
    if values["backup_number"] and backup is None:
        raise FormError({"backup_number": phones.INVALID_MESSAGE}, values)
    if backup is not None and backup == service.number:
        raise FormError({"backup_number": "Le numéro de secours doit être un autre numéro "
                                          "que celui de la ligne."}, values)
    active = active_profile(service)
    planned = _snapshot(active)
    planned.update(unavailable_kind=TARGET_NUMBER if backup else TARGET_NONE,
                   unavailable_number=backup, unavailable_line=None)
    if backup is None and active.unavailable_kind == TARGET_VOICEMAIL:
        planned.update(unavailable_kind=TARGET_VOICEMAIL)
    loop = find_loop(service, planned)
    if loop:
        raise FormError({"backup_number": _loop_message(loop)}, values)
    before = {"accept_queue_calls": service.accept_queue_calls,
              "backup_number": service.backup_number}
    after = {"accept_queue_calls": accept, "backup_number": backup}
    if before == after:
        return Outcome(active)
    with db.atomic():
        ForwardingProfile.update(
            unavailable_kind=planned["unavailable_kind"], unavailable_number=backup,
            unavailable_line=None).where(ForwardingProfile.id == active.id).execute()
        Service.update(accept_queue_calls=accept, backup_number=backup).where(
            Service.id == service.id).execute()
        audit.record("line.queue_settings.updated", account=service.account_id,
                     user=actor.user, ip=actor.ip, service=service.number,
                     before=before, after=after)
    outcome = Outcome(active, engine_changed=True)
    outcome.engine_notified = _notify(actor, service)
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
