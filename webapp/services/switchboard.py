"""The reception-desk switchboard (SPEC SWB-1, SWB-2): the engine's snapshots
(`acd:{N}:state`, engine/README.md) turned into view rows, and supervisor actions sent as
PROTOCOL events on `acd:{N}:in`. No Flask here.

Live updates are pushed as server-sent events: `changes()` polls the snapshots of the
numbers on the page (one HMGET every 250 ms, well inside SWB-1's 1 s with the engine
writing at most every 100 ms) and yields only the parts whose rendering changed; a
quiet page gets a comment line every 25 s and nothing else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from redis import Redis

from webapp.models import Service, WelcomeProfile
from webapp.services import phones

POLL_S = 0.25
HEARTBEAT_S = 25.0
MAX_STREAM_S = 300.0  # then the browser reconnects: sessions are re-checked, threads freed
ACTIONS = {"decrocher": "call.pickup", "transferer": "call.transfer",
           "attente": "call.hold", "reprendre": "call.resume"}
AGENT_STATES = {
    "available": "Disponible", "ringing": "Sonne", "in_call": "En communication",
    "resting": "Au repos", "offline": "Hors ligne",
    "not_accepting": "N'accepte pas les appels de la file",
}


def now_ms() -> int:
    return int(time.time() * 1000)


def state_key(shard: int) -> str:
    return f"acd:{{{shard}}}:state"


@dataclass
class Board:
    """What the page knows about one welcome number, fetched once before streaming."""

    service_id: int
    number: str
    label: str
    names: dict[str, str] = field(default_factory=dict)  # line → person / label
    profiles: dict[str, str] = field(default_factory=dict)  # profile key → name


def boards(services: list[Service]) -> list[Board]:
    found = []
    for s in services:
        board = Board(s.id, s.number, s.label or phones.display(s.number))
        for p in WelcomeProfile.select().where(WelcomeProfile.service == s.id):
            board.profiles[p.key] = p.name
        found.append(board)
    lines = {svc.number: svc for svc in Service.select().where(
        (Service.account == (services[0].account_id if services else 0))
        & (Service.kind.in_(("fixed", "mobile"))))}
    for b in found:
        b.names = {n: (line.holder.full_name if line.holder_id else (line.label or n))
                   for n, line in lines.items()}
    return found


def read(conn: Redis, shard: int, numbers: list[str]) -> dict[str, bytes | None]:
    if not numbers:
        return {}
    return dict(zip(numbers, conn.hmget(state_key(shard), numbers), strict=True))


def view(board: Board, raw: bytes | str | None) -> dict:
    """Rows for the templates; durations are left to the page (`*_ms` epoch values)."""
    snap = json.loads(raw) if raw else {}

    def who(line: str | None) -> str:
        return board.names.get(line or "", phones.display(line)) if line else ""

    def caller(c: dict) -> str:
        value = c.get("caller") or ""
        return "Numéro masqué" if value in ("", "anonymous") else phones.display(value)

    def profile(c: dict) -> str:
        return board.profiles.get(c.get("profile", ""), c.get("profile", ""))

    waiting = [{**c, "who": caller(c), "profile_name": profile(c)}
               for c in snap.get("waiting", [])]
    ringing = [{**c, "who": caller(c), "profile_name": profile(c),
                "agents": ", ".join(who(li) for li in c.get("lines", []))}
               for c in snap.get("ringing", [])]
    menu = [{**c, "who": caller(c), "profile_name": profile(c)} for c in snap.get("menu", [])]
    bridged = [{**c, "who": caller(c), "profile_name": profile(c), "agent": who(c.get("line"))}
               for c in snap.get("bridged", [])]
    agents = [{**a, "name": who(a["line"]), "number": phones.display(a["line"]),
               "state_label": AGENT_STATES.get(a.get("state"), a.get("state", "")),
               "state_class": a.get("state", "offline") if not a.get("external")
               else "external"}
              for a in snap.get("agents", [])]
    return {"known": bool(snap), "waiting": waiting, "ringing": ringing, "menu": menu,
            "bridged": bridged, "agents": agents}


def call_on_board(conn: Redis, shard: int, number: str, call: str) -> str | None:
    """Where the call is on this number right now (`waiting`, `ringing`, `menu`,
    `bridged`), or None: actions only target calls the page shows (scope)."""
    raw = conn.hget(state_key(shard), number)
    snap = json.loads(raw) if raw else {}
    for part in ("waiting", "ringing", "menu", "bridged"):
        if any(c.get("call") == call for c in snap.get(part, [])):
            return part
    return None


def send(conn: Redis, shard: int, kind: str, call: str, **fields: str) -> str:
    entry = {"type": kind, "ts": str(int(time.time() * 1000)), "call": call, **fields}
    return conn.xadd(f"acd:{{{shard}}}:in", entry).decode()


def sse(event: str, html: str) -> str:
    """One SSE message; indentation and blank lines are dropped (each line break stays a
    line break, i.e. whitespace, in the swapped HTML)."""
    lines = [line.strip() for line in html.splitlines() if line.strip()] or [""]
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


def changes(conn: Redis, shard: int, boards_: list[Board],
            render: Callable[[Board, dict], dict[str, str]], *,
            poll_s: float = POLL_S, heartbeat_s: float = HEARTBEAT_S,
            max_s: float = MAX_STREAM_S, sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.monotonic) -> Iterator[str]:
    """The SSE body: every part once at (re)connection, then only parts that changed."""
    by_number = {b.number: b for b in boards_}
    raw_seen: dict[str, bytes | None | int] = dict.fromkeys(by_number, -1)
    sent: dict[str, str] = {}
    started = last = clock()
    yield "retry: 2000\n\n"
    while clock() - started < max_s:
        out = []
        for number, raw in read(conn, shard, list(by_number)).items():
            if raw == raw_seen[number]:
                continue
            raw_seen[number] = raw
            for event, html in render(by_number[number], view(by_number[number], raw)).items():
                if sent.get(event) != html:
                    sent[event] = html
                    out.append(sse(event, html))
        if out:
            out.append(sse("clock", f'<span data-server-ms="{int(time.time() * 1000)}"></span>'))
            yield "".join(out)
            last = clock()
        elif clock() - last >= heartbeat_s:
            yield ": \n\n"
            last = clock()
        sleep(poll_s)
