"""The configuration model (docs/protocol.md "Configuration document"), pure.

Frozen dataclasses of one parsed document, and `route()`: which profile a
welcome number's time rules choose at an instant. `engine/config.py` validates
a JSON document into these; the state machine, the simulator and the scenario
player read them. No I/O and no project import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Paris"

# Profile types (docs/requirements.md WN-2)
QUEUE = "queue"
RING_ALL = "ring_all"
SEQUENTIAL = "sequential"
MENU = "menu"
ANNOUNCEMENT = "announcement"
PROFILE_TYPES = (QUEUE, RING_ALL, SEQUENTIAL, MENU, ANNOUNCEMENT)

# Queue modes (docs/requirements.md)
INACTIVITY = "inactivity"
RANDOM = "random"


@dataclass(frozen=True)
class AgentCfg:
    line: str
    priority: int = 1
    weight: int = 1


@dataclass(frozen=True)
class Profile:
    """One routing profile; fields irrelevant to its type keep their defaults."""

    name: str
    type: str
    size: int = 10
    rest_s: int = 0
    ring_s: int = 20
    mode: str = "inactivity"
    confirm: bool = False
    caller_preanswer: str | None = None
    callee_preanswer: str | None = None
    music: str | None = None
    agents: tuple[AgentCfg, ...] = ()
    lines: tuple[str, ...] = ()
    media: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    timeout_s: int = 10
    then: str | None = None
    autopause: int = 0  # pause the line after that many missed offers in a row (0: off)


@dataclass(frozen=True)
class TimeRule:
    profile: str
    date: str | None = None  # "YYYY-MM-DD" (dated) ...
    days: tuple[int, ...] = ()  # ... or weekly, 0 = Monday
    start: str = "00:00"  # "HH:MM", inclusive
    end: str = "24:00"  # "HH:MM", exclusive


@dataclass(frozen=True)
class NumberCfg:
    number: str
    entry: str
    rules: tuple[TimeRule, ...]
    profiles: dict[str, Profile]
    timezone: str | None = None  # IANA name for its time rules; None: the document's


@dataclass(frozen=True)
class LineCfg:
    accept_queue_calls: bool = True
    backup: str | None = None


@dataclass(frozen=True)
class Config:
    timezone: str
    lines: dict[str, LineCfg]
    numbers: dict[str, NumberCfg]


def zone_of(config: Config, number: NumberCfg) -> str:
    """The time zone of the number's time rules: its own, else the document's."""
    return number.timezone or config.timezone


def route(config: Config, number: NumberCfg, now_ms: int) -> str:
    """Entry profile at `now_ms`: dated rules first, then weekly, else `entry`; the
    rules read the local date and time of the number's zone at that instant, so a
    rule follows the zone's daylight-saving changes (09:00 is 09:00 on both sides)."""
    if not number.rules:
        return number.entry
    local = datetime.fromtimestamp(now_ms / 1000, ZoneInfo(zone_of(config, number)))
    day, hhmm, weekday = local.date().isoformat(), local.strftime("%H:%M"), local.weekday()
    for rule in number.rules:
        if rule.date == day and rule.start <= hhmm < rule.end:
            return rule.profile
    for rule in number.rules:
        if rule.date is None and weekday in rule.days and rule.start <= hhmm < rule.end:
            return rule.profile
    return number.entry
