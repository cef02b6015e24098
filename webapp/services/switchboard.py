"""The reception-desk switchboard (SWB-1, SWB-4..8): the engine's snapshots
(`acd:{N}:state`, engine/README.md) turned into view rows for the board and the wallboard,
with what the page knows of each welcome number from the database (names of the lines in
the viewer's scope, profile names and thresholds, today's counters and callbacks). No Flask
here.

Next to it: switchboard_stream (the live feed), switchboard_directory (callers, search,
transfer policy), switchboard_attention (today's counters, callbacks), switchboard_actions
(events sent to the engine).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from peewee import JOIN
from redis import Redis

from webapp.i18n import N_
from webapp.models import Contact, Service, WelcomeProfile
from webapp.services import phones
from webapp.services.switchboard_actions import state_key
from webapp.services.switchboard_attention import DEFAULT_SLA_S, callbacks, today_counters
from webapp.services.switchboard_directory import Directory, caller_label, scoped_lines

AGENT_STATES = {
    "available": N_("Disponible"), "ringing": N_("Sonne"), "in_call": N_("En communication"),
    "resting": N_("Au repos"), "paused": N_("En pause"), "offline": N_("Hors ligne"),
    "not_accepting": N_("N'accepte pas les appels de la file"),
}
# SWB-8: the wallboard's columns of agents
WALL_STATES = (("available", N_("Disponibles")), ("in_call", N_("En communication")),
               ("resting", N_("Au repos")), ("paused", N_("En pause")),
               ("offline", N_("Hors ligne")))


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Board:
    """What the page knows about one welcome number from the database; `refresh()`
    re-reads it (a renamed profile or agent shows within seconds, SWB-7)."""

    service_id: int
    number: str
    label: str
    account_id: int = 0
    zone: str = "Europe/Paris"
    names: dict[str, str] = field(default_factory=dict)  # line → person / label
    profiles: dict[str, str] = field(default_factory=dict)  # profile key → name
    sla: dict[str, int] = field(default_factory=dict)  # profile key → threshold (s)
    today: dict = field(default_factory=dict)  # counters (switchboard_attention)
    callbacks: list = field(default_factory=list)
    # SEC-8: the viewer's site scope (None = every site): agents and callers are named
    # only from the lines and contacts in it, others show their number.
    site_ids: frozenset[int] | None = None

    @property
    def sla_s(self) -> int:
        return min(self.sla.values(), default=DEFAULT_SLA_S)

    def directory(self) -> Directory:
        """Callers identified within this viewer's scope."""
        return Directory(self.account_id, self.site_ids)


def boards(services: list[Service], site_ids: frozenset[int] | None = None) -> list[Board]:
    found = [Board(s.id, s.number, s.label or phones.display(s.number), s.account_id,
                   s.account.timezone or "Europe/Paris", site_ids=site_ids)
             for s in services]
    refresh(found)
    return found


def refresh(found: list[Board]) -> None:
    """Names, profiles, thresholds, today's counters and callbacks, from the database."""
    if not found:
        return
    by_id = {b.service_id: b for b in found}
    for b in found:
        b.profiles, b.sla = {}, {}
    for p in WelcomeProfile.select(WelcomeProfile.service, WelcomeProfile.key,
                                   WelcomeProfile.name, WelcomeProfile.kind,
                                   WelcomeProfile.sla_s).where(
            WelcomeProfile.service.in_(list(by_id))):
        b = by_id[p.service_id]
        b.profiles[p.key] = p.name
        if p.kind == "queue":
            b.sla[p.key] = p.sla_s or DEFAULT_SLA_S
    names = line_names(found[0].account_id, found[0].site_ids)
    for b in found:
        b.names = names
        b.today = today_counters(b)
        b.callbacks = callbacks(b)


def line_names(account_id: int, site_ids: frozenset[int] | None = None) -> dict[str, str]:
    """Who holds each line, for the lines in `site_ids` only (None: every site; SEC-8)."""
    # One query (the holder joined), not one per line: every open stream re-reads this
    # every few seconds (SEC-4).
    lines = (scoped_lines(account_id, site_ids)
             .select(Service.number, Service.label, Contact.id, Contact.first_name,
                     Contact.last_name)
             .join(Contact, JOIN.LEFT_OUTER, on=(Service.holder == Contact.id)))
    return {s.number: (s.holder.full_name if s.holder_id else (s.label or s.number))
            for s in lines}


def read(conn: Redis, shard: int, numbers: list[str]) -> dict[str, bytes | None]:
    if not numbers:
        return {}
    return dict(zip(numbers, conn.hmget(state_key(shard), numbers), strict=True))


def view(board: Board, raw: bytes | str | None, directory: Directory | None = None) -> dict:
    """Rows for the templates; durations are left to the page (`*_ms` epoch values)."""
    snap = json.loads(raw) if raw else {}

    def who(line: str | None) -> str:
        return board.names.get(line or "", phones.display(line)) if line else ""

    def call(c: dict, **extra) -> dict:
        name, detail = caller_label(c.get("caller") or "", directory)
        return {**c, "who": name, "detail": detail,
                "profile_name": board.profiles.get(c.get("profile", ""), c.get("profile", "")),
                "sla_ms": board.sla.get(c.get("profile", ""), board.sla_s) * 1000, **extra}

    waiting = [call(c) for c in snap.get("waiting", [])]
    ringing = [call(c, agents=", ".join(who(li) for li in c.get("lines", [])))
               for c in snap.get("ringing", [])]
    menu = [call(c) for c in snap.get("menu", [])]
    bridged = [call(c, agent=who(c.get("line"))) for c in snap.get("bridged", [])]
    agents = []
    for a in snap.get("agents", []):
        rests = [{"name": board.profiles.get(k, k), "until_ms": v}
                 for k, v in sorted((a.get("rests") or {}).items(), key=lambda kv: kv[1])]
        agents.append({**a, "name": who(a["line"]), "number": phones.display(a["line"]),
                       "state_label": AGENT_STATES.get(a.get("state"), a.get("state", "")),
                       "state_class": a.get("state", "offline") if not a.get("external")
                       else "external", "rests": rests})
    return {"known": bool(snap), "waiting": waiting, "ringing": ringing, "menu": menu,
            "bridged": bridged, "agents": agents}


def wall(v: dict) -> dict:
    """SWB-8: one number's figures for the wallboard."""
    counts = dict.fromkeys([k for k, _ in WALL_STATES], 0)
    for a in v["agents"]:
        state = a.get("state", "offline")
        state = "in_call" if state == "ringing" else state
        if state in counts:
            counts[state] += 1
    oldest = min((c.get("arrived_ms") or 0 for c in v["waiting"]), default=None)
    return {"waiting": len(v["waiting"]), "oldest_ms": oldest, "agents": counts,
            "sla_ms": min((c["sla_ms"] for c in v["waiting"]), default=None)}
