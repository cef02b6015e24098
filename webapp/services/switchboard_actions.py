"""Supervisor actions of the switchboard (SWB-2, SWB-4, Q-13): what a call or an agent is
right now on a number, and the docs/protocol.md events sent to the engine on
`acd:{N}:in`. No Flask here."""

from __future__ import annotations

import json
import time

from redis import Redis

from webapp.models import Service, WelcomeLine, WelcomeProfile

ACTIONS = {"decrocher": "call.pickup", "transferer": "call.transfer",
           "attente": "call.hold", "reprendre": "call.resume"}
CALL_PARTS = ("waiting", "ringing", "menu", "bridged")


def state_key(shard: int) -> str:
    return f"acd:{{{shard}}}:state"


def _snapshot(conn: Redis, shard: int, number: str) -> dict:
    raw = conn.hget(state_key(shard), number)
    return json.loads(raw) if raw else {}


def call_on_board(conn: Redis, shard: int, number: str, call: str) -> tuple[str, dict] | None:
    """Where the call is on this number right now (`waiting`, `ringing`, `menu`,
    `bridged`) and its snapshot entry, or None: actions only target calls the page shows."""
    snap = _snapshot(conn, shard, number)
    for part in CALL_PARTS:
        for c in snap.get(part, []):
            if c.get("call") == call:
                return part, c
    return None


def agent_on_board(conn: Redis, shard: int, number: str, line: str) -> dict | None:
    snap = _snapshot(conn, shard, number)
    return next((a for a in snap.get("agents", []) if a.get("line") == line), None)


def send(conn: Redis, shard: int, kind: str, call: str, **fields: str) -> str:
    entry = {"type": kind, "ts": str(int(time.time() * 1000)), "call": call, **fields}
    return conn.xadd(f"acd:{{{shard}}}:in", entry).decode()


def refusal_for_state(action: str, part: str) -> bool:
    """True when `action` makes no sense for a call in `part` (pick up a call already
    answered, hold one that is not)."""
    return (action in ("decrocher", "transferer") and part == "bridged") or (
        action in ("attente", "reprendre") and part != "bridged")


def agent_line(lines, service: Service, line: str) -> Service | None:
    """Among `lines` (the person's scoped fixed lines), `line` when it is an agent of one
    of this number's profiles."""
    return lines.where((Service.number == line) & Service.id.in_(
        WelcomeLine.select(WelcomeLine.line).join(WelcomeProfile).where(
            WelcomeProfile.service == service.id))).first()
