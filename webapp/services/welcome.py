"""Welcome numbers (SPEC WN-1..4): routing profiles, their lines, menu keys, time rules.

Every change goes through one pattern: validate the form (French message per field,
typed values kept), then in one transaction write the rows, re-check the whole number
(the engine's own validator on the document this number produces, plus the WN-3 rule
that a non-entry profile needs a caller pre-answer for its music), audit, commit, and
only then publish `config.reload`. A refusal raises FormError and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from peewee import fn

from webapp.db import db
from webapp.models import (
    PROFILE_TYPES,
    QUEUE_MODES,
    Account,
    AudioFile,
    Service,
    WelcomeLine,
    WelcomeMenuKey,
    WelcomeProfile,
    WelcomeTimeRule,
    utcnow,
)
from webapp.services import audit, phones
from webapp.services.actor import Actor
from webapp.services.engine_notify import publish_config_reload
from webapp.services.errors import FormError

SIZE = (1, 10)
REST = (0, 240)
RING = (5, 120)
SLA = (5, 600)  # SWB-6 service-level threshold, seconds
AUTOPAUSE = (0, 5)  # 0 = off
PRIORITY = (1, 5)
WEIGHT = (1, 5)
TIMEOUT = (1, 120)
NAME_MAX = 60
MENU_KEYS = "123456789*0#"
DAY_NAMES = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
DAY_SHORT = ("Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim")
MEDIA_FIELDS = ("caller_preanswer", "music", "callee_preanswer", "media")
WITH_LINES = ("queue", "ring_all", "sequential")
WITH_THEN = ("ring_all", "sequential", "menu")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class OutOfScope(LookupError):
    """A posted line id that is not a fixed line this person may use: the view answers 404."""


@dataclass
class Outcome:
    profile: WelcomeProfile | None = None
    engine_notified: bool = True


# --- reading -----------------------------------------------------------------------------

def profiles_of(service: Service) -> list[WelcomeProfile]:
    return list(WelcomeProfile.select().where(WelcomeProfile.service == service.id)
                .order_by(WelcomeProfile.is_entry.desc(), WelcomeProfile.name))


def rules_of(service: Service) -> list[WelcomeTimeRule]:
    """Dated exceptions first (by date), then weekly slots: the order the engine applies."""
    rows = list(WelcomeTimeRule.select().where(WelcomeTimeRule.service == service.id))
    return sorted(rows, key=lambda r: (r.date is None, r.date or dt.date.min,
                                       r.days or "", r.start or "", r.id))


def lines_of(profile: WelcomeProfile) -> list[WelcomeLine]:
    return list(WelcomeLine.select(WelcomeLine, Service).join(Service)
                .where(WelcomeLine.profile == profile.id)
                .order_by(WelcomeLine.position, WelcomeLine.id))


def keys_of(profile: WelcomeProfile) -> list[WelcomeMenuKey]:
    rows = list(WelcomeMenuKey.select().where(WelcomeMenuKey.profile == profile.id))
    return sorted(rows, key=lambda k: MENU_KEYS.index(k.key))


def entry_level_ids(service_id: int) -> set[int]:
    """Profiles a call can start in: the entry profile and every time rule's profile."""
    ids = {p.id for p in WelcomeProfile.select(WelcomeProfile.id).where(
        (WelcomeProfile.service == service_id) & WelcomeProfile.is_entry)}
    ids |= {r.profile_id for r in WelcomeTimeRule.select(WelcomeTimeRule.profile).where(
        WelcomeTimeRule.service == service_id)}
    return ids


def audio_choices(account_id: int) -> dict[str, list[AudioFile]]:
    files = list(AudioFile.select().where(AudioFile.account == account_id)
                 .order_by(AudioFile.name))
    return {"announcement": [f for f in files if f.kind == "announcement"],
            "music": [f for f in files if f.kind == "music"]}


def is_queue_agent(service: Service) -> bool:
    """Whether this fixed line is a line of any welcome-number profile (SPEC "agent")."""
    return WelcomeLine.select().where(WelcomeLine.line == service.id).exists()


def uses_of_audio(audio: AudioFile) -> list:
    """Where profiles play this file (the audio library refuses to delete it meanwhile)."""
    from webapp.services.audio import Usage

    found = []
    query = (WelcomeProfile.select(WelcomeProfile, Service).join(Service)
             .where((WelcomeProfile.caller_preanswer == audio.id)
                    | (WelcomeProfile.music == audio.id)
                    | (WelcomeProfile.callee_preanswer == audio.id)
                    | (WelcomeProfile.media == audio.id)))
    for profile in query:
        found.append(Usage(f"Numéro d'accueil {phones.display(profile.service.number)} — "
                           f"profil « {profile.name} »", profile.service.site_id))
    return found


def describe_rule(rule: WelcomeTimeRule) -> str:
    hours = (f"{rule.start}–{rule.end}" if rule.start and (rule.start, rule.end)
             != ("00:00", "24:00") else "toute la journée")
    if rule.date:
        return f"Le {rule.date.strftime('%d/%m/%Y')}, {hours}"
    days = [int(d) for d in (rule.days or "").split(",") if d]
    return f"{', '.join(DAY_SHORT[d] for d in days)} {hours}"


# --- forms -------------------------------------------------------------------------------

def profile_to_form(profile: WelcomeProfile | None, kind: str = "queue") -> dict:
    """Form values (strings; `lines` a list of row dicts; `keys` key → target id)."""
    if profile is None:
        return {"name": "", "kind": kind if kind in PROFILE_TYPES else "queue",
                "caller_preanswer": "", "music": "", "callee_preanswer": "", "confirm": "",
                "size": "5", "rest_s": "10", "ring_s": "20", "mode": "inactivity",
                "sla_s": "20", "autopause": "0", "media": "", "timeout_s": "10", "then": "",
                "lines": [], "keys": {}}
    return {
        "name": profile.name, "kind": profile.kind,
        **{m: str(getattr(profile, f"{m}_id") or "") for m in MEDIA_FIELDS},
        "confirm": "1" if profile.confirm else "",
        "size": str(profile.size), "rest_s": str(profile.rest_s), "ring_s": str(profile.ring_s),
        "mode": profile.mode, "timeout_s": str(profile.timeout_s),
        "sla_s": str(profile.sla_s), "autopause": str(profile.autopause),
        "then": str(profile.then_id or ""),
        "lines": [{"line": str(r.line_id), "priority": str(r.priority), "weight": str(r.weight)}
                  for r in lines_of(profile)],
        "keys": {k.key: str(k.target_id) for k in keys_of(profile)},
    }


def form_from_post(post) -> dict:
    """The typed values of a posted profile form, as `profile_to_form` shapes them."""
    form = {k: (post.get(k) or "").strip() for k in
            ("name", "kind", *MEDIA_FIELDS, "size", "rest_s", "ring_s", "mode",
             "timeout_s", "then", "sla_s", "autopause")}
    form["confirm"] = "1" if post.get("confirm") else ""
    lines, prios, weights = (post.getlist("line"), post.getlist("priority"),
                             post.getlist("weight"))
    form["lines"] = [{"line": (lines[i] or "").strip(),
                      "priority": (prios[i] if i < len(prios) else "1").strip(),
                      "weight": (weights[i] if i < len(weights) else "1").strip()}
                     for i in range(len(lines))]
    form["keys"] = {k: (post.get(f"key_{_key_field(k)}") or "").strip() for k in MENU_KEYS
                    if (post.get(f"key_{_key_field(k)}") or "").strip()}
    return form


def _key_field(key: str) -> str:
    return {"*": "star", "#": "hash"}.get(key, key)


def key_field(key: str) -> str:
    return _key_field(key)


def apply_row_op(form: dict, op: str, add_line: str = "") -> dict:
    """Add / remove / move a line row in the typed form (nothing saved): "add",
    "remove:i", "up:i", "down:i". Unknown ops leave the form as it is."""
    rows = list(form["lines"])
    name, _, index = op.partition(":")
    if name == "add" and add_line and add_line not in [r["line"] for r in rows]:
        rows.append({"line": add_line, "priority": "1", "weight": "1"})
    elif index.isdigit() and int(index) < len(rows):
        i = int(index)
        if name == "remove":
            rows.pop(i)
        elif name == "up" and i > 0:
            rows[i - 1], rows[i] = rows[i], rows[i - 1]
        elif name == "down" and i < len(rows) - 1:
            rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return {**form, "lines": rows}


def _int(form: dict, key: str, bounds: tuple[int, int], label: str,
         errors: dict[str, str], field: str | None = None) -> int:
    raw = form.get(key, "")
    lo, hi = bounds
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not lo <= value <= hi:
        errors[field or key] = f"{label} : saisissez un nombre entier entre {lo} et {hi}."
        return lo
    return value


@dataclass
class Cleaned:
    name: str
    kind: str
    media: dict[str, int | None]
    confirm: bool
    size: int
    rest_s: int
    ring_s: int
    mode: str
    timeout_s: int
    then_id: int | None
    lines: list[tuple[int, int, int]]  # (service id, priority, weight) in order
    keys: dict[str, int]
    sla_s: int = 20
    autopause: int = 0


def clean_profile(service: Service, profile: WelcomeProfile | None, form: dict,
                  allowed_lines: dict[int, Service]) -> Cleaned:
    """Validate every field of the profile form (WN-2..4); FormError lists them all.

    `allowed_lines`: the account's internal fixed lines in this person's scope; a line
    already in the profile stays allowed (someone else may have added it)."""
    errors: dict[str, str] = {}
    name = form["name"]
    if not name:
        errors["name"] = "Donnez un nom au profil (ex. « Journée »)."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Le nom du profil ne peut dépasser {NAME_MAX} caractères."
    elif WelcomeProfile.select().where(
            (WelcomeProfile.service == service.id) & (fn.LOWER(WelcomeProfile.name) == name.lower())
            & (WelcomeProfile.id != (profile.id if profile else 0))).exists():
        errors["name"] = "Un autre profil de ce numéro porte déjà ce nom."
    kind = form["kind"]
    if kind not in PROFILE_TYPES:
        errors["kind"] = "Choisissez le type de profil."
        kind = "queue"
    media: dict[str, int | None] = {}
    account_id = service.account_id
    for field in MEDIA_FIELDS:
        raw = form.get(field, "")
        if not raw:
            media[field] = None
            continue
        want = "music" if field == "music" else "announcement"
        audio = (AudioFile.get_or_none((AudioFile.id == int(raw))
                                       & (AudioFile.account == account_id))
                 if raw.isdigit() else None)
        if audio is None or audio.kind != want:
            errors[field] = "Choisissez un fichier audio de la bibliothèque du compte."
            media[field] = None
        else:
            media[field] = audio.id
    if kind in ("menu", "announcement") and not media["media"] and "media" not in errors:
        errors["media"] = ("Choisissez le message à diffuser."
                           if kind == "announcement" else "Choisissez le message du menu.")
    if kind not in ("menu", "announcement"):
        media["media"] = None
    if kind == "announcement":
        media.update(caller_preanswer=None, music=None, callee_preanswer=None)
    if kind == "menu":
        media.update(callee_preanswer=None)
    size = _int(form, "size", SIZE, "Taille de la file", errors) if kind == "queue" else 5
    rest_s = _int(form, "rest_s", REST, "Délai de repos", errors) if kind == "queue" else 10
    ring_s = (_int(form, "ring_s", RING, "Durée de sonnerie maximale", errors)
              if kind in WITH_LINES else 20)
    mode = form.get("mode") or "inactivity"
    if kind == "queue" and mode not in QUEUE_MODES:
        errors["mode"] = "Choisissez le mode : « Inactivité » ou « Aléatoire »."
        mode = "inactivity"
    timeout_s = (_int(form, "timeout_s", TIMEOUT, "Délai de saisie", errors)
                 if kind == "menu" else 10)
    if not form.get("sla_s"):
        form["sla_s"] = "20"
    if not form.get("autopause"):
        form["autopause"] = "0"
    sla_s = (_int(form, "sla_s", SLA, "Seuil de qualité de service", errors)
             if kind == "queue" else 20)
    autopause = (_int(form, "autopause", AUTOPAUSE, "Pause automatique", errors)
                 if kind == "queue" else 0)
    others = {p.id: p for p in WelcomeProfile.select().where(
        (WelcomeProfile.service == service.id)
        & (WelcomeProfile.id != (profile.id if profile else 0)))}
    then_id = None
    if kind in WITH_THEN and form.get("then"):
        raw = form["then"]
        if not raw.isdigit() or int(raw) not in others:
            errors["then"] = "Choisissez un autre profil de ce numéro, ou « Raccrocher »."
        else:
            then_id = int(raw)
    keys: dict[str, int] = {}
    if kind == "menu":
        for key, raw in form.get("keys", {}).items():
            if key not in MENU_KEYS:
                continue
            if not raw.isdigit() or int(raw) not in others:
                errors[f"key_{_key_field(key)}"] = (
                    f"Touche {key} : choisissez un autre profil de ce numéro.")
            else:
                keys[key] = int(raw)
        if not keys and not any(k.startswith("key_") for k in errors):
            errors["keys"] = "Associez au moins une touche à un profil."
    lines: list[tuple[int, int, int]] = []
    if kind in WITH_LINES:
        existing = ({r.line_id for r in WelcomeLine.select(WelcomeLine.line)
                     .where(WelcomeLine.profile == profile.id)} if profile else set())
        seen: set[int] = set()
        for i, row in enumerate(form["lines"]):
            raw = row["line"]
            if not raw.isdigit():
                raise OutOfScope(raw)
            line_id = int(raw)
            if line_id not in allowed_lines and line_id not in existing:
                raise OutOfScope(raw)
            if line_id in seen:
                errors[f"line_{i}"] = "Cette ligne figure déjà dans la liste."
                continue
            seen.add(line_id)
            prio = _int(row, "priority", PRIORITY, "Priorité", errors, f"priority_{i}")
            if kind == "queue" and mode == "random":
                weight = _int(row, "weight", WEIGHT, "Poids", errors, f"weight_{i}")
            else:  # WN-4: the weight exists only in "Aléatoire"; kept as it was otherwise
                weight = int(row["weight"]) if row["weight"].isdigit() and 1 <= int(
                    row["weight"]) <= 5 else 1
            lines.append((line_id, prio if kind == "queue" else 1, weight))
        if not form["lines"]:
            errors["lines"] = "Ajoutez au moins une ligne associée."
    if errors:
        raise FormError(errors, form)
    return Cleaned(name, kind, media, bool(form.get("confirm")) and kind in WITH_LINES,
                   size, rest_s, ring_s, mode, timeout_s, then_id, lines, keys, sla_s,
                   autopause)


def _slug(service_id: int, name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:32] or "profil"
    key, n = base, 1
    while WelcomeProfile.select().where((WelcomeProfile.service == service_id)
                                        & (WelcomeProfile.key == key)).exists():
        n += 1
        key = f"{base}-{n}"
    return key


# --- whole-number check -------------------------------------------------------------------

def check_number(service: Service) -> dict[str, str]:
    """French errors for a number whose profiles no longer hold together (inside the
    transaction, before commit): WN-3's music rule, then the engine's own validation."""
    from engine.config import ConfigError, parse

    errors: dict[str, str] = {}
    entry_level = entry_level_ids(service.id)
    for p in WelcomeProfile.select().where(WelcomeProfile.service == service.id):
        if p.music_id and not p.caller_preanswer_id and p.id not in entry_level:
            errors["caller_preanswer"] = (
                f"Le profil « {p.name} » n'est pas le niveau d'entrée du numéro d'accueil : "
                "un prédécroché pour l'appelant est nécessaire pour que sa musique d'attente "
                "soit jouée. Choisissez un prédécroché ou retirez la musique.")
    section = number_section(service)
    if section is None:
        return errors
    doc = {"timezone": "Europe/Paris", "lines": {}, "numbers": {service.number: section}}
    try:
        parse(doc)
    except ConfigError as exc:
        errors.setdefault("form", "Configuration refusée par le distributeur d'appels : "
                          + "; ".join(exc.errors))
    return errors


def _commit_checked(service: Service, values: dict) -> None:
    errors = check_number(service)
    if errors:
        raise FormError(errors, values)


def _notify(actor: Actor, service: Service) -> bool:
    """`config.reload` of this welcome number only (SCALE-2)."""
    return publish_config_reload(actor.engine_url, actor.engine_shard, [service.number])


# --- profile changes ---------------------------------------------------------------------

def save_profile(service: Service, profile: WelcomeProfile | None, form: dict,
                 allowed_lines: dict[int, Service], actor: Actor) -> Outcome:
    cleaned = clean_profile(service, profile, form, allowed_lines)
    before = profile_to_form(profile) if profile else None
    with db.atomic():
        if profile is None:
            first = not WelcomeProfile.select().where(
                WelcomeProfile.service == service.id).exists()
            profile = WelcomeProfile.create(service=service.id, key=_slug(service.id, cleaned.name),
                                            name=cleaned.name, kind=cleaned.kind, is_entry=first)
        fields = dict(name=cleaned.name, kind=cleaned.kind, confirm=cleaned.confirm,
                      size=cleaned.size, rest_s=cleaned.rest_s, ring_s=cleaned.ring_s,
                      mode=cleaned.mode, timeout_s=cleaned.timeout_s, then=cleaned.then_id,
                      sla_s=cleaned.sla_s, autopause=cleaned.autopause,
                      updated_at=utcnow(), **cleaned.media)
        WelcomeProfile.update(**fields).where(WelcomeProfile.id == profile.id).execute()
        WelcomeLine.delete().where(WelcomeLine.profile == profile.id).execute()
        for pos, (line_id, prio, weight) in enumerate(cleaned.lines):
            WelcomeLine.create(profile=profile.id, line=line_id, priority=prio, weight=weight,
                               position=pos)
        WelcomeMenuKey.delete().where(WelcomeMenuKey.profile == profile.id).execute()
        for key, target in cleaned.keys.items():
            WelcomeMenuKey.create(profile=profile.id, key=key, target=target)
        _commit_checked(service, form)  # a FormError here rolls everything back
        profile = WelcomeProfile.get_by_id(profile.id)
        audit.record("welcome.profile_saved", account=service.account_id, user=actor.user,
                     ip=actor.ip, service_id=service.id, profile_id=profile.id,
                     before=before, after=profile_to_form(profile))
    return Outcome(profile, _notify(actor, service))


def set_entry(service: Service, profile: WelcomeProfile, actor: Actor) -> Outcome:
    with db.atomic():
        WelcomeProfile.update(is_entry=False).where(
            (WelcomeProfile.service == service.id) & WelcomeProfile.is_entry).execute()
        WelcomeProfile.update(is_entry=True).where(WelcomeProfile.id == profile.id).execute()
        _commit_checked(service, {})
        audit.record("welcome.entry_set", account=service.account_id, user=actor.user,
                     ip=actor.ip, service_id=service.id, profile_id=profile.id)
    return Outcome(profile, _notify(actor, service))


def delete_profile(service: Service, profile: WelcomeProfile, actor: Actor) -> Outcome:
    """Refused while the profile is the entry or something leads to it (no silent cascade)."""
    uses = []
    if profile.is_entry:
        uses.append("c'est le profil d'entrée du numéro")
    if WelcomeTimeRule.select().where(WelcomeTimeRule.profile == profile.id).exists():
        uses.append("des règles horaires y mènent")
    if WelcomeMenuKey.select().where(WelcomeMenuKey.target == profile.id).exists():
        uses.append("une touche de serveur vocal y mène")
    if WelcomeProfile.select().where(WelcomeProfile.then == profile.id).exists():
        uses.append("un autre profil s'y poursuit")
    if uses:
        raise FormError({"form": f"Le profil « {profile.name} » ne peut pas être supprimé : "
                         + ", ".join(uses) + "."})
    with db.atomic():
        before = profile_to_form(profile)
        profile.delete_instance()
        audit.record("welcome.profile_deleted", account=service.account_id, user=actor.user,
                     ip=actor.ip, service_id=service.id, before=before)
    return Outcome(None, _notify(actor, service))


# --- time rules --------------------------------------------------------------------------

def rule_form(post=None) -> dict:
    if post is None:
        return {"kind": "weekly", "days": [], "date": "", "start": "09:00", "end": "18:00",
                "whole_day": "", "profile": "", "label": ""}
    return {"kind": post.get("kind", "weekly"), "days": post.getlist("days"),
            "date": (post.get("date") or "").strip(), "start": (post.get("start") or "").strip(),
            "end": (post.get("end") or "").strip(), "whole_day": post.get("whole_day") or "",
            "profile": post.get("profile") or "", "label": (post.get("label") or "").strip()}


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def rule_to_form(rule: WelcomeTimeRule) -> dict:
    """The edit form of an existing rule, in the shape `rule_form` parses."""
    whole_day = rule.date is not None and rule.start == "00:00" and rule.end == "24:00"
    return {"kind": "dated" if rule.date else "weekly",
            "days": (rule.days or "").split(",") if rule.days else [],
            "date": rule.date.isoformat() if rule.date else "",
            "start": rule.start, "end": rule.end, "whole_day": "1" if whole_day else "",
            "profile": str(rule.profile_id), "label": rule.label or ""}


def add_rule(service: Service, form: dict, actor: Actor,
             rule: WelcomeTimeRule | None = None) -> Outcome:
    """Add a time rule, or change `rule` in place (same checks, overlap with the others)."""
    errors: dict[str, str] = {}
    profiles = {p.id: p for p in WelcomeProfile.select().where(
        WelcomeProfile.service == service.id)}
    profile_id = int(form["profile"]) if form["profile"].isdigit() else None
    if profile_id not in profiles:
        errors["profile"] = "Choisissez le profil qui répond pendant ce créneau."
    if len(form["label"]) > 60:
        errors["label"] = "Le libellé ne peut dépasser 60 caractères."
    start, end = form["start"], form["end"]
    if form["kind"] == "dated" and form["whole_day"]:
        start, end = "00:00", "24:00"
    else:
        if not _HHMM.match(start or "") or start == "24:00":
            errors["start"] = "Heure de début au format HH:MM (ex. 09:00)."
        if not _HHMM.match(end or ""):
            errors["end"] = "Heure de fin au format HH:MM (ex. 18:00 ; 24:00 pour minuit)."
        if "start" not in errors and "end" not in errors and _minutes(end) <= _minutes(start):
            errors["end"] = "L'heure de fin doit être après l'heure de début."
    day = None
    days: list[int] = []
    if form["kind"] == "dated":
        try:
            day = dt.date.fromisoformat(form["date"])
        except ValueError:
            errors["date"] = "Saisissez la date de l'exception (ex. 25/12/2026)."
    elif form["kind"] == "weekly":
        days = sorted({int(d) for d in form["days"] if d.isdigit() and 0 <= int(d) <= 6})
        if not days:
            errors["days"] = "Cochez au moins un jour de la semaine."
    else:
        errors["kind"] = "Choisissez un créneau hebdomadaire ou une exception datée."
    if not errors:
        clash = _overlap(service, day, days, start, end, ignore=rule.id if rule else None)
        if clash:
            errors["start"] = (f"Ce créneau chevauche une règle existante ({describe_rule(clash)} "
                               f"→ {clash.profile.name}). Modifiez les horaires.")
    if errors:
        raise FormError(errors, form)
    values = {"profile": profile_id, "label": form["label"], "date": day,
              "days": ",".join(map(str, days)) or None, "start": start, "end": end}
    after = {"date": str(day) if day else None, "days": days, "start": start, "end": end,
             "profile": profiles[profile_id].name}
    with db.atomic():
        if rule is None:
            rule = WelcomeTimeRule.create(service=service.id, **values)
            audit.record("welcome.rule_added", account=service.account_id, user=actor.user,
                         ip=actor.ip, service_id=service.id, rule_id=rule.id, after=after)
        else:
            before = describe_rule(rule)
            WelcomeTimeRule.update(**values).where(WelcomeTimeRule.id == rule.id).execute()
            _commit_checked(service, {})
            audit.record("welcome.rule_changed", account=service.account_id, user=actor.user,
                         ip=actor.ip, service_id=service.id, rule_id=rule.id, before=before,
                         after=after)
    return Outcome(profiles[profile_id], _notify(actor, service))


def _overlap(service: Service, day: dt.date | None, days: list[int], start: str,
             end: str, ignore: int | None = None) -> WelcomeTimeRule | None:
    lo, hi = _minutes(start), _minutes(end)
    for rule in rules_of(service):
        if rule.id == ignore:
            continue
        same = (rule.date == day) if day else (
            rule.date is None and set(days) & {int(d) for d in rule.days.split(",")})
        if same and _minutes(rule.start) < hi and lo < _minutes(rule.end):
            return rule
    return None


def delete_rule(service: Service, rule: WelcomeTimeRule, actor: Actor) -> Outcome:
    with db.atomic():
        text = describe_rule(rule)
        rule.delete_instance()
        _commit_checked(service, {})
        audit.record("welcome.rule_deleted", account=service.account_id, user=actor.user,
                     ip=actor.ip, service_id=service.id, rule=text)
    return Outcome(None, _notify(actor, service))


def preview(service: Service, when_local: dt.datetime | None = None) -> tuple[
        WelcomeProfile | None, dt.datetime]:
    """Which profile answers at `when_local` (naive, account time zone; default now),
    computed by the engine's own `route` on this number's document section."""
    from engine.config import ConfigError, parse
    from engine.model import route

    account = Account.get_by_id(service.account_id)
    zone = ZoneInfo(account.timezone or "Europe/Paris")
    if when_local is None:
        when_local = dt.datetime.now(zone).replace(tzinfo=None, second=0, microsecond=0)
    section = number_section(service)
    if section is None:
        return None, when_local
    try:
        config = parse({"timezone": zone.key, "lines": {},
                        "numbers": {service.number: section}})
    except ConfigError:
        return None, when_local
    now_ms = int(when_local.replace(tzinfo=zone).timestamp() * 1000)
    key = route(config, config.numbers[service.number], now_ms)
    return WelcomeProfile.get_or_none((WelcomeProfile.service == service.id)
                                      & (WelcomeProfile.key == key)), when_local


# --- the engine's document (PROTOCOL.md) --------------------------------------------------

def media_id(audio_id: int | None) -> str | None:
    """The media id the PBX plays: the audio library's file, by id."""
    return f"audio-{audio_id}" if audio_id else None


def number_section(service: Service, timezone: str | None = None) -> dict | None:
    """`numbers[<number>]` of the document; None while the number has no entry profile.
    It carries the account's time zone (`timezone`, SCALE-3: its time rules run there)."""
    profiles = list(WelcomeProfile.select().where(WelcomeProfile.service == service.id))
    entry = next((p for p in profiles if p.is_entry), None)
    if entry is None:
        return None
    keys = {p.id: p.key for p in profiles}
    lines: dict[int, list] = {}
    for row in (WelcomeLine.select(WelcomeLine, Service.number).join(Service)
                .where(WelcomeLine.profile.in_(list(keys)))
                .order_by(WelcomeLine.position, WelcomeLine.id)):
        lines.setdefault(row.profile_id, []).append(row)
    menu: dict[int, dict] = {}
    for k in WelcomeMenuKey.select().where(WelcomeMenuKey.profile.in_(list(keys))):
        menu.setdefault(k.profile_id, {})[k.key] = keys[k.target_id]
    out: dict[str, dict] = {}
    for p in sorted(profiles, key=lambda p: p.key):
        common = {"caller_preanswer": media_id(p.caller_preanswer_id),
                  "callee_preanswer": media_id(p.callee_preanswer_id),
                  "music": media_id(p.music_id)}
        rows = lines.get(p.id, [])
        if p.kind == "queue":
            out[p.key] = {"type": "queue", "size": p.size, "rest_s": p.rest_s,
                          "ring_s": p.ring_s, "mode": p.mode, "confirm": p.confirm, **common,
                          **({"autopause": p.autopause} if p.autopause else {}),
                          "agents": [{"line": r.line.number, "priority": r.priority,
                                      "weight": r.weight if p.mode == "random" else 1}
                                     for r in rows]}
        elif p.kind in ("ring_all", "sequential"):
            out[p.key] = {"type": p.kind, "lines": [r.line.number for r in rows],
                          "ring_s": p.ring_s, "confirm": p.confirm,
                          "then": keys.get(p.then_id), **common}
        elif p.kind == "menu":
            out[p.key] = {"type": "menu", "media": media_id(p.media_id),
                          "keys": dict(sorted(menu.get(p.id, {}).items())),
                          "timeout_s": p.timeout_s, "then": keys.get(p.then_id), **common}
        else:
            out[p.key] = {"type": "announcement", "media": media_id(p.media_id)}
    rules = []
    for r in rules_of(service):
        if r.date:
            rule = {"date": r.date.isoformat(), "profile": keys[r.profile_id]}
            if (r.start, r.end) != ("00:00", "24:00"):
                rule.update({"from": r.start, "to": r.end})
        else:
            rule = {"days": [int(d) for d in r.days.split(",")], "from": r.start, "to": r.end,
                    "profile": keys[r.profile_id]}
        rules.append(rule)
    if timezone is None:
        timezone = Account.select(Account.timezone).where(
            Account.id == service.account_id).scalar()
    return {"entry": entry.key, "rules": rules, "profiles": out,
            "timezone": timezone or "Europe/Paris"}


def numbers_section(shard: int = 0, numbers: list[str] | None = None) -> dict[str, dict]:
    """Every welcome number of the shard's accounts that has an entry profile (only those
    of `numbers` when given: a scoped reload queries just them)."""
    from webapp.services.engine_config import shard_accounts

    found: dict[str, dict] = {}
    where = (Service.kind == "welcome") & Service.account.in_(shard_accounts(shard))
    if numbers is not None:
        where &= Service.number.in_(sorted(set(numbers)))
    services = list(Service.select().where(where).order_by(Service.number))
    zones = dict(Account.select(Account.id, Account.timezone).where(
        Account.id.in_({s.account_id for s in services})).tuples())
    for service in services:
        section = number_section(service, zones[service.account_id])
        if section is not None:
            found[service.number] = section
    return found


def _register() -> None:
    from webapp.services.audio import register_usage_finder

    register_usage_finder(uses_of_audio)


_register()
