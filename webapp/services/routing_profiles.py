"""A welcome number's routing profiles (WN-2..4): the form, its checks, the changes.

Every change goes through one pattern: validate the form (a message per field, typed
values kept), then in one transaction write the rows, re-check the whole number
(`engine_config.check_number`: the engine's own validator on the document this number
produces, plus the WN-3 rule that a non-entry profile needs a caller pre-answer for its
music), audit, commit, and only then publish `config.reload`. A refusal raises
FormError and writes nothing. (A line's *forwarding* profiles are `forwarding`'s.)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from peewee import fn

from webapp.db import db
from webapp.i18n import _
from webapp.models import (
    PROFILE_TYPES,
    QUEUE_MODES,
    AudioFile,
    Service,
    WelcomeLine,
    WelcomeMenuKey,
    WelcomeProfile,
    WelcomeTimeRule,
    utcnow,
)
from webapp.services import audit
from webapp.services.actor import Actor
from webapp.services.engine_config import check_number
from webapp.services.engine_notify import publish_config_reload
from webapp.services.errors import FormError
from webapp.services.welcome_numbers import MENU_KEYS, RoutingChange, keys_of, lines_of

SIZE = (1, 10)
REST = (0, 240)
RING = (5, 120)
SLA = (5, 600)  # SWB-6 service-level threshold, seconds
AUTOPAUSE = (0, 5)  # 0 = off
PRIORITY = (1, 5)
WEIGHT = (1, 5)
TIMEOUT = (1, 120)
NAME_MAX = 60
MEDIA_FIELDS = ("caller_preanswer", "music", "callee_preanswer", "media")
WITH_LINES = ("queue", "ring_all", "sequential")
WITH_THEN = ("ring_all", "sequential", "menu")


class OutOfScope(LookupError):
    """A posted line id that is not a fixed line this person may use: the view answers 404."""


# --- the form ---------------------------------------------------------------------------

def routing_profile_to_form(profile: WelcomeProfile | None, kind: str = "queue") -> dict:
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
    """The typed values of a posted profile form, as `routing_profile_to_form` shapes them."""
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
    name, _sep, index = op.partition(":")
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
        errors[field or key] = _("%(label)s : saisissez un nombre entier entre %(lo)s et %(hi)s.",
                                 label=label, lo=lo, hi=hi)
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
        errors["name"] = _("Donnez un nom au profil (ex. « Journée »).")
    elif len(name) > NAME_MAX:
        errors["name"] = _("Le nom du profil ne peut dépasser %(name_max)s caractères.",
                           name_max=NAME_MAX)
    elif WelcomeProfile.select().where(
            (WelcomeProfile.service == service.id) & (fn.LOWER(WelcomeProfile.name) == name.lower())
            & (WelcomeProfile.id != (profile.id if profile else 0))).exists():
        errors["name"] = _("Un autre profil de ce numéro porte déjà ce nom.")
    kind = form["kind"]
    if kind not in PROFILE_TYPES:
        errors["kind"] = _("Choisissez le type de profil.")
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
            errors[field] = _("Choisissez un fichier audio de la bibliothèque du compte.")
            media[field] = None
        else:
            media[field] = audio.id
    if kind in ("menu", "announcement") and not media["media"] and "media" not in errors:
        errors["media"] = (_("Choisissez le message à diffuser.")
                           if kind == "announcement" else _("Choisissez le message du menu."))
    if kind not in ("menu", "announcement"):
        media["media"] = None
    if kind == "announcement":
        media.update(caller_preanswer=None, music=None, callee_preanswer=None)
    if kind == "menu":
        media.update(callee_preanswer=None)
    size = _int(form, "size", SIZE, _("Taille de la file"), errors) if kind == "queue" else 5
    rest_s = _int(form, "rest_s", REST, _("Délai de repos"), errors) if kind == "queue" else 10
    ring_s = (_int(form, "ring_s", RING, _("Durée de sonnerie maximale"), errors)
              if kind in WITH_LINES else 20)
    mode = form.get("mode") or "inactivity"
    if kind == "queue" and mode not in QUEUE_MODES:
        errors["mode"] = _("Choisissez le mode : « Inactivité » ou « Aléatoire ».")
        mode = "inactivity"
    timeout_s = (_int(form, "timeout_s", TIMEOUT, _("Délai de saisie"), errors)
                 if kind == "menu" else 10)
    if not form.get("sla_s"):
        form["sla_s"] = "20"
    if not form.get("autopause"):
        form["autopause"] = "0"
    sla_s = (_int(form, "sla_s", SLA, _("Seuil de qualité de service"), errors)
             if kind == "queue" else 20)
    autopause = (_int(form, "autopause", AUTOPAUSE, _("Pause automatique"), errors)
                 if kind == "queue" else 0)
    others = {p.id: p for p in WelcomeProfile.select().where(
        (WelcomeProfile.service == service.id)
        & (WelcomeProfile.id != (profile.id if profile else 0)))}
    then_id = None
    if kind in WITH_THEN and form.get("then"):
        raw = form["then"]
        if not raw.isdigit() or int(raw) not in others:
            errors["then"] = _("Choisissez un autre profil de ce numéro, ou « Raccrocher ».")
        else:
            then_id = int(raw)
    keys: dict[str, int] = {}
    if kind == "menu":
        for key, raw in form.get("keys", {}).items():
            if key not in MENU_KEYS:
                continue
            if not raw.isdigit() or int(raw) not in others:
                errors[f"key_{_key_field(key)}"] = (
                    _("Touche %(key)s : choisissez un autre profil de ce numéro.", key=key))
            else:
                keys[key] = int(raw)
        if not keys and not any(k.startswith("key_") for k in errors):
            errors["keys"] = _("Associez au moins une touche à un profil.")
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
                errors[f"line_{i}"] = _("Cette ligne figure déjà dans la liste.")
                continue
            seen.add(line_id)
            prio = _int(row, "priority", PRIORITY, _("Priorité"), errors, f"priority_{i}")
            if kind == "queue" and mode == "random":
                weight = _int(row, "weight", WEIGHT, "Poids", errors, f"weight_{i}")
            else:  # WN-4: the weight exists only in "Aléatoire"; kept as it was otherwise
                weight = int(row["weight"]) if row["weight"].isdigit() and 1 <= int(
                    row["weight"]) <= 5 else 1
            lines.append((line_id, prio if kind == "queue" else 1, weight))
        if not form["lines"]:
            errors["lines"] = _("Ajoutez au moins une ligne associée.")
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


# --- changes -------------------------------------------------------------------------------

def commit_checked(service: Service, values: dict) -> None:
    """Inside the change's transaction: refuse (and so roll back) a number that no
    longer holds together."""
    errors = check_number(service)
    if errors:
        raise FormError(errors, values)


def notify_engine(actor: Actor, service: Service) -> bool:
    """`config.reload` of this welcome number only (SCALE-2)."""
    return publish_config_reload(actor.engine_url, actor.engine_shard, [service.number])


def save_routing_profile(service: Service, profile: WelcomeProfile | None, form: dict,
                 allowed_lines: dict[int, Service], actor: Actor) -> RoutingChange:
    cleaned = clean_profile(service, profile, form, allowed_lines)
    before = routing_profile_to_form(profile) if profile else None
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
        commit_checked(service, form)  # a FormError here rolls everything back
        profile = WelcomeProfile.get_by_id(profile.id)
        audit.record("welcome.profile_saved", account=service.account_id, actor=actor,
                     service_id=service.id, profile_id=profile.id,
                     before=before, after=routing_profile_to_form(profile))
    return RoutingChange(profile, notify_engine(actor, service))


def set_entry(service: Service, profile: WelcomeProfile, actor: Actor) -> RoutingChange:
    with db.atomic():
        WelcomeProfile.update(is_entry=False).where(
            (WelcomeProfile.service == service.id) & WelcomeProfile.is_entry).execute()
        WelcomeProfile.update(is_entry=True).where(WelcomeProfile.id == profile.id).execute()
        commit_checked(service, {})
        audit.record("welcome.entry_set", account=service.account_id, actor=actor,
                     service_id=service.id, profile_id=profile.id)
    return RoutingChange(profile, notify_engine(actor, service))


def delete_routing_profile(service: Service, profile: WelcomeProfile,
                           actor: Actor) -> RoutingChange:
    """Refused while the profile is the entry or something leads to it (no silent cascade)."""
    uses = []
    if profile.is_entry:
        uses.append(_("c'est le profil d'entrée du numéro"))
    if WelcomeTimeRule.select().where(WelcomeTimeRule.profile == profile.id).exists():
        uses.append(_("des règles horaires y mènent"))
    if WelcomeMenuKey.select().where(WelcomeMenuKey.target == profile.id).exists():
        uses.append(_("une touche de serveur vocal y mène"))
    if WelcomeProfile.select().where(WelcomeProfile.then == profile.id).exists():
        uses.append(_("un autre profil s'y poursuit"))
    if uses:
        raise FormError({"form": _("Le profil « %(name)s » ne peut pas être supprimé : %(uses)s.",
                                   name=profile.name, uses=", ".join(uses))})
    with db.atomic():
        before = routing_profile_to_form(profile)
        profile.delete_instance()
        audit.record("welcome.profile_deleted", account=service.account_id, actor=actor,
                     service_id=service.id, before=before)
    return RoutingChange(None, notify_engine(actor, service))
