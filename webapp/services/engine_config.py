"""The engine's configuration document, built from the database (docs/protocol.md).

This is "the one function" the engine calls when started without `--config`
and again on every `config.reload`. Same shape as the JSON file: `lines` from
the fixed lines' queue settings (LINE-3), `numbers` from the welcome numbers'
routing profiles and time rules (WN-1..4) as their tables provide them.
"""

from __future__ import annotations

from engine.config import ConfigError, parse
from webapp.db import db, init_db
from webapp.i18n import _
from webapp.models import Account, Service, WelcomeLine, WelcomeMenuKey, WelcomeProfile
from webapp.services.welcome_numbers import entry_level_ids, rules_of
from webapp.settings import load

DOCUMENT_TIMEZONE = "Europe/Paris"



def shard_accounts(shard: int):
    """The ids of the accounts on `shard` (SCALE-1), as a subquery."""
    return Account.select(Account.id).where(Account.shard == shard)


def lines_section(shard: int = 0, only: set[str] | None = None) -> dict[str, dict]:
    """The shard's fixed lines' queue settings (or only those of the lines in `only`)."""
    lines: dict[str, dict] = {}
    where = (Service.kind == "fixed") & Service.account.in_(shard_accounts(shard))
    if only is not None:
        where &= Service.number.in_(sorted(only))
    query = Service.select(Service.number, Service.accept_queue_calls,
                           Service.backup_number).where(where)
    for number, accept, backup in query.tuples():
        entry: dict = {"accept_queue_calls": bool(accept)}
        if backup:
            entry["backup"] = backup
        lines[number] = entry
    return lines


def named_lines(sections: dict[str, dict]) -> set[str]:
    """The lines the profiles of these number sections name (agents, rung lines)."""
    return {line for section in sections.values() for prof in section["profiles"].values()
            for line in [a["line"] for a in prof.get("agents", ())] + list(prof.get("lines", ()))}


def numbers_naming(lines: list[str]) -> list[str]:
    """The welcome numbers one of whose profiles names one of `lines` (agent or rung line):
    what an edit of those lines' queue settings touches (SCALE-2)."""
    if not lines:
        return []
    query = (WelcomeLine.select(Service.number).distinct()
             .join(WelcomeProfile, on=WelcomeLine.profile == WelcomeProfile.id)
             .join(Service, on=WelcomeProfile.service == Service.id)
             .where(WelcomeLine.line.in_(Service.select(Service.id).where(
                 Service.number.in_(lines)))))
    return sorted(number for (number,) in query.tuples())


def build_document(shard: int = 0, numbers: list[str] | None = None) -> dict:
    """The whole document for `shard` (only its accounts' numbers and lines, SCALE-1); the
    engine validates it before use. With `numbers` (a scoped `config.reload`, SCALE-2),
    only those welcome numbers' sections (one without a section is left out: gone) and
    the lines they name: it costs what they cost, whatever the size of the shard."""
    if db.obj is None:  # the engine process: point the database proxy at DATABASE_URL
        init_db(load().DATABASE_URL)
    with db.connection_context():
        sections = numbers_section(shard, numbers)
        lines = lines_section(shard, None if numbers is None else named_lines(sections))
        return {"timezone": DOCUMENT_TIMEZONE, "lines": lines, "numbers": sections}


# --- welcome numbers (WN-1..4) ------------------------------------------------------------

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


def check_number(service: Service) -> dict[str, str]:
    """French errors for a number whose profiles no longer hold together (inside the
    transaction, before commit): WN-3's music rule, then the engine's own validation."""
    errors: dict[str, str] = {}
    entry_level = entry_level_ids(service.id)
    for p in WelcomeProfile.select().where(WelcomeProfile.service == service.id):
        if p.music_id and not p.caller_preanswer_id and p.id not in entry_level:
            errors["caller_preanswer"] = (
                _("Le profil « %(name)s » n'est pas le niveau d'entrée du numéro d'accueil : un "
                  "prédécroché pour l'appelant est nécessaire pour que sa musique d'attente "
                  "soit jouée. Choisissez un prédécroché ou retirez la musique.",
                  name=p.name))
    section = number_section(service)
    if section is None:
        return errors
    doc = {"timezone": "Europe/Paris", "lines": {}, "numbers": {service.number: section}}
    try:
        parse(doc)
    except ConfigError as exc:
        errors.setdefault("form", _("Configuration refusée par le distributeur d'appels : "
                                    "%(errors)s", errors="; ".join(exc.errors)))
    return errors
