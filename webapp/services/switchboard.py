"""The reception-desk switchboard (SWB-1, SWB-2, SWB-4..8): the engine's snapshots
(`acd:{N}:state`, engine/README.md) turned into view rows, callers identified from the
directory, today's counters and callbacks from the call log, and supervisor actions sent
as docs/protocol.md events on `acd:{N}:in`. No Flask here.

Live updates are server-sent events (`changes()`): the snapshots of the numbers on the
page are polled (one HMGET every 250 ms, well inside SWB-1's 1 s with the engine writing
at most every 100 ms) and only the *items* whose rendering changed are sent — one call,
one agent, one summary strip —, each a small HTML element with an id that the page
upserts (or removes, `data-del`) in place; positions in the queue are numbered by the
page, so a call leaving does not resend the others. The first message after a
(re)connection (`full`) carries every item: the page drops what it does not list (full
resync, SWB-7). A quiet stream sends a `hb` event (the server's clock) every heartbeat
interval, so a page that hears nothing for twice that knows the link is dead.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from peewee import JOIN
from redis import Redis

from webapp.i18n import N_, _
from webapp.models import (
    Account,
    CallbackMark,
    CallLogEntry,
    Contact,
    Service,
    WelcomeLine,
    WelcomeProfile,
)
from webapp.services import phones

POLL_S = 0.25
HEARTBEAT_S = 25.0
MAX_STREAM_S = 300.0  # then the browser reconnects: sessions are re-checked, threads freed
REFRESH_S = 5.0  # the database side (names, profiles, counters) is re-read at most this often
ACTIONS = {"decrocher": "call.pickup", "transferer": "call.transfer",
           "attente": "call.hold", "reprendre": "call.resume"}
AGENT_STATES = {
    "available": N_("Disponible"), "ringing": N_("Sonne"), "in_call": N_("En communication"),
    "resting": N_("Au repos"), "paused": N_("En pause"), "offline": N_("Hors ligne"),
    "not_accepting": N_("N'accepte pas les appels de la file"),
}
# SWB-8: the wallboard's columns of agents
WALL_STATES = (("available", N_("Disponibles")), ("in_call", N_("En communication")),
               ("resting", N_("Au repos")), ("paused", N_("En pause")),
               ("offline", N_("Hors ligne")))
DEFAULT_SLA_S = 20
SHORT_ABANDON_MS = 5_000  # statistics: abandons under 5 s are counted apart
CALLBACK_TYPES = ("abandoned", "rejected", "closed")


def now_ms() -> int:
    return int(time.time() * 1000)


def state_key(shard: int) -> str:
    return f"acd:{{{shard}}}:state"


@dataclass
class Person:
    name: str
    company: str = ""


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
    today: dict = field(default_factory=dict)  # counters (see `today_counters`)
    callbacks: list = field(default_factory=list)
    # SEC-8: the viewer's site scope (None = every site): agents are named only from the
    # lines in it, others show their number.
    site_ids: frozenset[int] | None = None

    @property
    def sla_s(self) -> int:
        return min(self.sla.values(), default=DEFAULT_SLA_S)


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
    query = (Service.select(Service, Contact).join(
        Contact, JOIN.LEFT_OUTER, on=(Service.holder == Contact.id))
        .where((Service.account == account_id) & (Service.kind.in_(("fixed", "mobile")))))
    if site_ids is not None:
        query = query.where(Service.site.in_(list(site_ids) or [0]))
    return {s.number: (s.holder.full_name if s.holder_id else (s.label or s.number))
            for s in query}


def _today_ms(zone: str) -> int:
    z = ZoneInfo(zone)
    return int(dt.datetime.combine(dt.datetime.now(z).date(), dt.time(), z).timestamp() * 1000)


def today_counters(b: Board) -> dict:
    """SWB-6: today's received / answered / abandoned (short ones apart) / service level
    against each queue's threshold, from the call log (the same rows as SWB-3)."""
    rows = CallLogEntry.select(CallLogEntry.type, CallLogEntry.wait_ms,
                               CallLogEntry.profile).where(
        (CallLogEntry.account == b.account_id) & (CallLogEntry.number == b.number)
        & (CallLogEntry.ts_ms >= _today_ms(b.zone))
        & CallLogEntry.type.in_(("answered", "abandoned", "rejected", "forwarded",
                                 "transferred", "closed"))).tuples()
    received = answered = abandoned = short = within = 0
    for kind, wait, profile in rows:
        received += 1
        if kind == "answered":
            answered += 1
            if (wait or 0) <= b.sla.get(profile or "", b.sla_s) * 1000:
                within += 1
        elif kind == "abandoned":
            if (wait or 0) < SHORT_ABANDON_MS:
                short += 1
            else:
                abandoned += 1
    counted = received - short
    return {"received": received, "answered": answered, "abandoned": abandoned,
            "short": short, "sl": (within / counted) if counted else None}


def callbacks(b: Board) -> list[dict]:
    """SWB-6: today's callers who were not answered (abandoned, refused busy, nobody
    answered), newest first, one row per caller, with the shared "traité" mark."""
    rows = list(CallLogEntry.select(CallLogEntry.call, CallLogEntry.type, CallLogEntry.caller,
                                    CallLogEntry.ts_ms, CallLogEntry.wait_ms).where(
        (CallLogEntry.account == b.account_id) & (CallLogEntry.number == b.number)
        & (CallLogEntry.ts_ms >= _today_ms(b.zone))
        & CallLogEntry.type.in_(CALLBACK_TYPES)).order_by(CallLogEntry.ts_ms.desc()).limit(50))
    answered_callers = {c for (c,) in CallLogEntry.select(CallLogEntry.caller).where(
        (CallLogEntry.account == b.account_id) & (CallLogEntry.number == b.number)
        & (CallLogEntry.ts_ms >= _today_ms(b.zone)) & (CallLogEntry.type == "answered")
        & CallLogEntry.caller.is_null(False)).tuples()}
    marks = {m.call: m for m in CallbackMark.select().where(
        (CallbackMark.account == b.account_id)
        & CallbackMark.call.in_([r.call for r in rows] or [""]))}
    seen: set[str] = set()
    out = []
    for r in rows:
        caller = r.caller or ""
        if caller in seen or caller in ("", "anonymous"):
            continue
        seen.add(caller)
        out.append({"call": r.call, "type": r.type, "caller": caller, "ts_ms": r.ts_ms,
                    "done": r.call in marks, "called_back": caller in answered_callers})
    return out


class Directory:
    """Callers identified from the account's directory (SWB-5), cached per stream."""

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self.cache: dict[str, Person | None] = {}

    def who(self, number: str) -> Person | None:
        if not number or number == "anonymous":
            return None
        if number not in self.cache:
            self.cache[number] = identify(self.account_id, number)
        return self.cache[number]


def identify(account_id: int, number: str) -> Person | None:
    c = Contact.get_or_none((Contact.account == account_id) & (
        (Contact.phone_work == number) | (Contact.phone_mobile == number)
        | (Contact.phone_home == number)))
    if c is None:
        line = Service.get_or_none((Service.account == account_id) & (Service.number == number))
        if line is None or not line.holder_id:
            return None
        c = line.holder
    return Person(c.full_name, c.company or "")


def read(conn: Redis, shard: int, numbers: list[str]) -> dict[str, bytes | None]:
    if not numbers:
        return {}
    return dict(zip(numbers, conn.hmget(state_key(shard), numbers), strict=True))


def caller_label(value: str, directory: Directory | None) -> tuple[str, str]:
    """(who, detail): the directory name and company when known, else the number."""
    if value in ("", "anonymous"):
        return _("Numéro masqué"), ""
    person = directory.who(value) if directory else None
    if person:
        return person.name, " · ".join(x for x in (person.company, phones.display(value)) if x)
    return phones.display(value), ""


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


def call_on_board(conn: Redis, shard: int, number: str, call: str) -> tuple[str, dict] | None:
    """Where the call is on this number right now (`waiting`, `ringing`, `menu`,
    `bridged`) and its snapshot entry, or None: actions only target calls the page shows."""
    raw = conn.hget(state_key(shard), number)
    snap = json.loads(raw) if raw else {}
    for part in ("waiting", "ringing", "menu", "bridged"):
        for c in snap.get(part, []):
            if c.get("call") == call:
                return part, c
    return None


def agent_on_board(conn: Redis, shard: int, number: str, line: str) -> dict | None:
    raw = conn.hget(state_key(shard), number)
    snap = json.loads(raw) if raw else {}
    return next((a for a in snap.get("agents", []) if a.get("line") == line), None)


def send(conn: Redis, shard: int, kind: str, call: str, **fields: str) -> str:
    entry = {"type": kind, "ts": str(int(time.time() * 1000)), "call": call, **fields}
    return conn.xadd(f"acd:{{{shard}}}:in", entry).decode()


_SPACES = re.compile(r">\s+<")


def compact(html: str) -> str:
    """One line of HTML: indentation and line breaks between tags dropped."""
    return _SPACES.sub("><", " ".join(line.strip() for line in html.splitlines()
                                      if line.strip()))


# --- SEC-8: where a supervisor may send a call ---------------------------------------

# French numbers: 01-05 geographic, 06/07 mobile, 09 internet boxes, 080x free of charge.
# 081x/082x (shared cost) and 089x (premium rate) are refused, as are short numbers.
NATIONAL_OK = re.compile(r"^\+33(?:[1-79]\d{8}|80\d{7})$")


def transfer_refusal(account_id: int, number: str) -> str | None:
    """Why a call may not be transferred to `number` (E.164), or None. Allowed: the
    account's own lines and numbers, its directory's numbers, French national numbers
    outside the premium and shared-cost ranges — anything when the account allows more
    (`Account.transfer_anywhere`, `flask transfer-policy`)."""
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        return N_("Numéro refusé.")
    if account.transfer_anywhere or NATIONAL_OK.match(number):
        return None
    if Service.select().where((Service.account == account_id)
                              & (Service.number == number)).exists():
        return None
    if Contact.select().where((Contact.account == account_id) & (
            (Contact.phone_work == number) | (Contact.phone_mobile == number)
            | (Contact.phone_home == number))).exists():
        return None
    return N_("Transfert refusé : seuls les numéros de votre compte et de votre annuaire, et "
              "les numéros français hors numéros surtaxés (081, 082, 089) ou courts, sont "
              "autorisés. Votre administrateur peut demander à élargir cette règle.")


# --- SEC-4: at most MAX_STREAMS_PER_USER open streams per user -----------------------

MAX_STREAMS_PER_USER = 3
CLOSED_EVENT = "closed"  # the page shows the message and stops reconnecting


class StreamSlot:
    """One open stream of a user, registered in a Redis sorted set (score: opening time)
    shared by every web worker. Opening one more than MAX_STREAMS_PER_USER evicts the
    oldest; an evicted stream notices at its next poll, says so and ends."""

    def __init__(self, conn: Redis, user_id, limit: int = MAX_STREAMS_PER_USER,
                 ttl_s: float = MAX_STREAM_S + 60) -> None:
        self.conn, self.limit, self.ttl_s = conn, limit, ttl_s
        self.key = f"sse:open:{user_id}"
        self.id = secrets.token_hex(8)

    def open(self) -> None:
        now = time.time()
        pipe = self.conn.pipeline()
        pipe.zremrangebyscore(self.key, 0, now - self.ttl_s)  # streams of a dead worker
        pipe.zadd(self.key, {self.id: now})
        pipe.expire(self.key, int(self.ttl_s))
        pipe.zcard(self.key)
        count = pipe.execute()[-1]
        if count > self.limit:
            self.conn.zpopmin(self.key, count - self.limit)

    def alive(self) -> bool:
        return self.conn.zscore(self.key, self.id) is not None

    def release(self) -> None:
        self.conn.zrem(self.key, self.id)


def sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


ItemsFn = Callable[[Board, dict], dict[str, str]]


def changes(conn: Redis, shard: int, boards_: list[Board], render: ItemsFn, *,
            refresh_fn: Callable[[list[Board]], None] | None = None,
            directory: Directory | None = None,
            poll_s: float = POLL_S, heartbeat_s: float = HEARTBEAT_S,
            max_s: float = MAX_STREAM_S, refresh_s: float = REFRESH_S,
            sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.monotonic, slot: StreamSlot | None = None,
            closed_html: str = "") -> Iterator[str]:
    """The SSE body. `render(board, view)` gives {item id: one-line HTML} for a number;
    every item once at (re)connection (`full`), then only items that changed (`u`), an
    item gone as `<i id=… data-del></i>`.

    With a `slot` (SEC-4) the stream ends as soon as a newer stream of the same user
    evicted it, after a last `closed` message carrying `closed_html`."""
    try:
        yield from _changes(conn, shard, boards_, render, refresh_fn, directory, poll_s,
                            heartbeat_s, max_s, refresh_s, sleep, clock, slot, closed_html)
    finally:
        if slot is not None:
            slot.release()


def _changes(conn, shard, boards_, render, refresh_fn, directory, poll_s, heartbeat_s,
             max_s, refresh_s, sleep, clock, slot, closed_html) -> Iterator[str]:
    by_number = {b.number: b for b in boards_}
    raw_seen: dict[str, bytes | None | int] = dict.fromkeys(by_number, -1)
    sent: dict[str, dict[str, str]] = {n: {} for n in by_number}
    started = last = refreshed = clock()
    first = True
    yield "retry: 2000\n\n"
    while clock() - started < max_s:
        if slot is not None and not slot.alive():
            yield sse(CLOSED_EVENT, " ".join(closed_html.split()))
            return
        force = False
        if refresh_fn is not None and clock() - refreshed >= refresh_s:
            refreshed = clock()
            before = [(b.names, b.profiles, b.sla, b.today, b.callbacks) for b in boards_]
            refresh_fn(boards_)
            force = before != [(b.names, b.profiles, b.sla, b.today, b.callbacks)
                               for b in boards_]
        out = []
        for number, raw in read(conn, shard, list(by_number)).items():
            if raw == raw_seen[number] and not force:
                continue
            raw_seen[number] = raw
            board = by_number[number]
            items = render(board, view(board, raw, directory))
            old = sent[number]
            for key, html in items.items():
                if old.get(key) != html:
                    out.append(html)
            out.extend(f'<i id="{key}" data-del></i>' for key in old if key not in items)
            sent[number] = items
        if first:
            out.append(f'<i id="sb-now" data-ms="{now_ms()}"></i>')
            yield sse("full", "".join(out))
            first, last = False, clock()
        elif out:
            yield sse("u", "".join(out))
            last = clock()
        elif clock() - last >= heartbeat_s:
            yield sse("hb", str(now_ms()))
            last = clock()
        sleep(poll_s)


def directory_results(contacts, q: str) -> list[dict]:
    """SWB-5: contacts in scope by name, company or number (any format), each with every
    number: work, mobile, the lines they hold (with their extension). `contacts`: the
    person's scoped contacts query."""
    q = " ".join((q or "").split())
    if len(q) < 2:
        return []
    query = contacts
    for word in q.split()[:4]:
        like = f"%{word}%"
        cond = (Contact.first_name ** like) | (Contact.last_name ** like) | (
            Contact.company ** like)
        digits = re.sub(r"\D", "", word)
        if len(digits) >= 2:
            tail = f"%{digits.lstrip('0')[-9:]}%"
            cond = cond | (Contact.phone_work ** tail) | (Contact.phone_mobile ** tail) | (
                Contact.id.in_(Service.select(Service.holder).where(
                    (Service.number ** tail) | (Service.extension == digits))))
        query = query.where(cond)
    out = []
    for c in query.order_by(Contact.last_name, Contact.first_name).limit(8):
        numbers: list[tuple[str, str]] = []
        for s in Service.select().where((Service.holder == c.id)
                                        & Service.kind.in_(("fixed", "mobile"))):
            label = _("Ligne fixe") if s.kind == "fixed" else _("Mobile")
            if s.extension:
                label += " · " + _("poste %(e)s", e=s.extension)
            numbers.append((s.number, label))
        for value, label in ((c.phone_work, _("Travail")), (c.phone_mobile, _("Mobile"))):
            if value and value not in [n for n, _l in numbers]:
                numbers.append((value, label))
        out.append({"name": c.full_name, "company": c.company or "", "numbers": numbers})
    return out


def agent_line(lines, service: Service, line: str) -> Service | None:
    """Among `lines` (the person's scoped fixed lines), `line` when it is an agent of one
    of this number's profiles."""
    return lines.where((Service.number == line) & Service.id.in_(
        WelcomeLine.select(WelcomeLine.line).join(WelcomeProfile).where(
            WelcomeProfile.service == service.id))).first()


def mark_callback_done(service: Service, call: str, contact_id: int) -> bool:
    """SWB-6: the missed call `call` of this number is called back; False if unknown."""
    entry = CallLogEntry.get_or_none((CallLogEntry.account == service.account_id)
                                     & (CallLogEntry.number == service.number)
                                     & (CallLogEntry.call == call))
    if entry is None:
        return False
    CallbackMark.insert(account=service.account_id, call=call,
                        by=contact_id).on_conflict_ignore().execute()
    return True
