"""The configuration document (docs/protocol.md): validation and parsing.

An invalid document is refused at start with messages naming the faulty path
(`numbers.+33100000001.profiles.jour.size: must be 1..10`), so whoever wrote it
(a person editing demo JSON, or the web side's builder) can act on it.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from engine.model import (
    DEFAULT_TIMEZONE,
    PROFILE_TYPES,
    AgentCfg,
    Config,
    LineCfg,
    NumberCfg,
    Profile,
    TimeRule,
)

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


@lru_cache(maxsize=65536)
def is_e164(value: str) -> bool:
    """The one E.164 rule (UI-2), the web app's too: a possible number (`phonenumbers`)
    written in its E.164 form ("+33123456789", not "+330123456789")."""
    if not E164.match(value):
        return False
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    if number.country_code == 33 and len(str(number.national_number)) != 9:
        return False
    return (phonenumbers.is_possible_number(number)
            and phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == value)


HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MEDIA_FIELDS = ("caller_preanswer", "callee_preanswer", "music")
MENU_KEYS = set("0123456789*#")


class ConfigError(ValueError):
    """Every problem found, one `path: message` per line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, path: str, msg: str) -> None:
        self.errors.append(f"{path}: {msg}")

    def int_in(self, obj: dict, key: str, path: str, lo: int, hi: int,
               default: int | None = None) -> int:
        value = obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.err(f"{path}.{key}", f"must be {lo}..{hi}")
            return lo
        return value

    def boolean(self, obj: dict, key: str, path: str, default: bool) -> bool:
        value = obj.get(key, default)
        if not isinstance(value, bool):
            self.err(f"{path}.{key}", "must be true or false")
            return default
        return value

    def media(self, obj: dict, key: str, path: str, required: bool = False) -> str | None:
        value = obj.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            self.err(f"{path}.{key}", "must be a media id" + ("" if required else " or null"))
            return None
        return value

    def e164(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not is_e164(value):
            self.err(path, "must be an E.164 number like +33100000001")
            return ""
        return value

    def zone(self, value: Any, path: str) -> str | None:
        """An IANA time zone name (Europe/Paris, Indian/Reunion), or None after an error."""
        try:
            if not isinstance(value, str) or not value:
                raise ZoneInfoNotFoundError(value)
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.err(path, "must be an IANA time zone like Europe/Paris")
            return None
        return value

    def obj(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            self.err(path, "must be an object")
            return {}
        return value


def load_file(path: str | Path) -> Config:
    """Read and validate a JSON document file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([f"{path}: cannot read JSON ({exc})"]) from exc
    return parse(doc)


def parse(doc: Any) -> Config:
    """Validate the whole document; raise ConfigError listing every faulty path."""
    ck = _Checker()
    doc = ck.obj(doc, "(document)")
    tz = ck.zone(doc.get("timezone", DEFAULT_TIMEZONE), "timezone") or "UTC"
    lines: dict[str, LineCfg] = {}
    for key, raw in ck.obj(doc.get("lines", {}), "lines").items():
        path = f"lines.{key}"
        ck.e164(key, path)
        raw = ck.obj(raw, path)
        backup = raw.get("backup")
        if backup is not None:
            backup = ck.e164(backup, f"{path}.backup") or None
        lines[key] = LineCfg(ck.boolean(raw, "accept_queue_calls", path, True), backup)
    numbers: dict[str, NumberCfg] = {}
    raw_numbers = doc.get("numbers")
    if raw_numbers is None:
        ck.err("numbers", "is required")
    for key, raw in ck.obj(raw_numbers or {}, "numbers").items():
        path = f"numbers.{key}"
        ck.e164(key, path)
        numbers[key] = _number(ck, key, ck.obj(raw, path), path)
    if ck.errors:
        raise ConfigError(ck.errors)
    return Config(tz, lines, numbers)


def _number(ck: _Checker, number: str, raw: dict, path: str) -> NumberCfg:
    raw_profiles = ck.obj(raw.get("profiles"), f"{path}.profiles")
    if not raw_profiles and isinstance(raw.get("profiles"), dict):
        ck.err(f"{path}.profiles", "must define at least one profile")
    names = set(raw_profiles)

    def ref(value: Any, where: str, nullable: bool) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or value not in names:
            tail = " or be null" if nullable else ""
            ck.err(where, "must name a profile of this number" + tail)
            return None
        return value

    profiles = {name: _profile(ck, name, ck.obj(p, f"{path}.profiles.{name}"),
                               f"{path}.profiles.{name}", ref)
                for name, p in raw_profiles.items()}
    entry = ref(raw.get("entry"), f"{path}.entry", nullable=False) or ""
    rules: list[TimeRule] = []
    raw_rules = raw.get("rules", [])
    if not isinstance(raw_rules, list):
        ck.err(f"{path}.rules", "must be a list")
        raw_rules = []
    for i, r in enumerate(raw_rules):
        rule = _rule(ck, ck.obj(r, f"{path}.rules.{i}"), f"{path}.rules.{i}", ref)
        if rule is not None:
            rules.append(rule)
    timezone = raw.get("timezone")
    if timezone is not None:
        timezone = ck.zone(timezone, f"{path}.timezone")
    return NumberCfg(number, entry, tuple(rules), profiles, timezone)


def _rule(ck: _Checker, raw: dict, path: str, ref: Any) -> TimeRule | None:
    profile = ref(raw.get("profile"), f"{path}.profile", nullable=False)
    start, end = raw.get("from"), raw.get("to")
    if (start is None) != (end is None):
        ck.err(path, "needs both from and to, or neither")
        return None
    if start is None:
        start, end = "00:00", "24:00"
    else:
        ok = True
        if not isinstance(start, str) or not HHMM.match(start):
            ck.err(f"{path}.from", "must be HH:MM")
            ok = False
        if not isinstance(end, str) or not (HHMM.match(end) or end == "24:00"):
            ck.err(f"{path}.to", "must be HH:MM")
            ok = False
        if ok and start >= end:
            ck.err(f"{path}.to", "must be after from")
    day = raw.get("date")
    days: tuple[int, ...] = ()
    if day is not None:
        try:
            date.fromisoformat(day if isinstance(day, str) and len(day) == 10 else "x")
        except ValueError:
            ck.err(f"{path}.date", "must be a date YYYY-MM-DD")
        if "days" in raw:
            ck.err(path, "has both date and days")
    else:
        raw_days = raw.get("days")
        if (not isinstance(raw_days, list) or not raw_days
                or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6
                       for d in raw_days)):
            ck.err(f"{path}.days", "must be a non-empty list of 0..6 (0 = Monday)")
        else:
            days = tuple(raw_days)
    if profile is None:
        return None
    return TimeRule(profile, day if isinstance(day, str) else None, days, start, end)


def _profile(ck: _Checker, name: str, raw: dict, path: str, ref: Any) -> Profile:
    kind = raw.get("type")
    if kind not in PROFILE_TYPES:
        ck.err(f"{path}.type", "must be one of " + ", ".join(PROFILE_TYPES))
        return Profile(name, "announcement")
    common: dict[str, Any] = {m: ck.media(raw, m, path) for m in MEDIA_FIELDS}
    if kind == "queue":
        mode = raw.get("mode", "inactivity")
        if mode not in ("inactivity", "random"):
            ck.err(f"{path}.mode", "must be inactivity or random")
        agents: list[AgentCfg] = []
        raw_agents = raw.get("agents")
        if not isinstance(raw_agents, list):
            ck.err(f"{path}.agents", "must be a list")
            raw_agents = []
        for i, a in enumerate(raw_agents):
            apath = f"{path}.agents.{i}"
            a = ck.obj(a, apath)
            line = ck.e164(a.get("line"), f"{apath}.line")
            if line and line in [x.line for x in agents]:
                ck.err(f"{apath}.line", "appears twice in this queue")
            agents.append(AgentCfg(line, ck.int_in(a, "priority", apath, 1, 5, 1),
                                   ck.int_in(a, "weight", apath, 1, 5, 1)))
        return Profile(name, kind, size=ck.int_in(raw, "size", path, 1, 10),
                       rest_s=ck.int_in(raw, "rest_s", path, 0, 240),
                       ring_s=ck.int_in(raw, "ring_s", path, 5, 120), mode=mode,
                       confirm=ck.boolean(raw, "confirm", path, False),
                       agents=tuple(agents),
                       autopause=ck.int_in(raw, "autopause", path, 0, 5, 0), **common)
    if kind in ("ring_all", "sequential"):
        raw_lines = raw.get("lines")
        lines: list[str] = []
        if not isinstance(raw_lines, list):
            ck.err(f"{path}.lines", "must be a list of lines")
            raw_lines = []
        for i, line in enumerate(raw_lines):
            line = ck.e164(line, f"{path}.lines.{i}")
            if line in lines:
                ck.err(f"{path}.lines.{i}", "appears twice")
            lines.append(line)
        return Profile(name, kind, ring_s=ck.int_in(raw, "ring_s", path, 5, 120, 20),
                       confirm=ck.boolean(raw, "confirm", path, False), lines=tuple(lines),
                       then=ref(raw.get("then"), f"{path}.then", nullable=True), **common)
    if kind == "menu":
        keys: dict[str, str] = {}
        for key, target in ck.obj(raw.get("keys", {}), f"{path}.keys").items():
            if key not in MENU_KEYS:
                ck.err(f"{path}.keys.{key}", "must be one key among 0-9, * and #")
            target = ref(target, f"{path}.keys.{key}", nullable=False)
            if target:
                keys[key] = target
        return Profile(name, kind, media=ck.media(raw, "media", path, required=True), keys=keys,
                       timeout_s=ck.int_in(raw, "timeout_s", path, 1, 120, 10),
                       then=ref(raw.get("then"), f"{path}.then", nullable=True), **common)
    return Profile(name, kind, media=ck.media(raw, "media", path, required=True), **common)
