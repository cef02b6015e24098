"""The switchboard's live feed (SWB-1, SWB-7, SEC-4): the server-sent events body and the
per-user stream slots. No Flask here.

The snapshots of the numbers on the page are polled (one HMGET every 250 ms, well inside
SWB-1's 1 s with the engine writing at most every 100 ms) and only the *items* whose
rendering changed are sent — one call, one agent, one summary strip —, each a small HTML
element with an id that the page upserts (or removes, `data-del`) in place; positions in
the queue are numbered by the page, so a call leaving does not resend the others. The
first message after a (re)connection (`full`) carries every item: the page drops what it
does not list (full resync, SWB-7). A quiet stream sends a `hb` event (the server's clock)
every heartbeat interval, so a page that hears nothing for twice that knows the link is
dead. `gzipped()` encodes the body for browsers that accept it, flushed after each message:
an item resent with one word changed costs a few bytes on the wire.
"""

from __future__ import annotations

import re
import secrets
import time
import zlib
from collections.abc import Callable, Iterator

from redis import Redis

from webapp.services.switchboard import Board, now_ms, read, view
from webapp.services.switchboard_directory import Directory

POLL_S = 0.25
HEARTBEAT_S = 25.0
MAX_STREAM_S = 300.0  # then the browser reconnects: sessions are re-checked, threads freed
REFRESH_S = 5.0  # the database side (names, profiles, counters) is re-read at most this often
SLOT_CHECK_S = 1.0  # an evicted stream ends within this (SEC-4): one Redis call a second
GZIP_WBITS = 16 + 13  # gzip framing, 8 KB window: ~50 KB of memory per open stream
GZIP_MEMLEVEL = 5

_SPACES = re.compile(r">\s+<")


def compact(html: str) -> str:
    """One line of HTML: indentation and line breaks between tags dropped."""
    return _SPACES.sub("><", " ".join(line.strip() for line in html.splitlines()
                                      if line.strip()))


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


# --- SEC-4: what a process's open streams read, read once for all of them ------------

class SharedSnapshots:
    """The engine's snapshots as this process's open streams last read them: a number
    read less than `max_age_s` ago is served from here, so a hundred pages watching the
    same numbers cost one HMGET per interval, not one per page (each page still sees a
    change within its poll plus `max_age_s`, well inside SWB-1's second)."""

    def __init__(self, max_age_s: float = POLL_S / 2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s, self.clock = max_age_s, clock
        self._seen: dict[tuple[str, int, str], tuple[float, bytes | None]] = {}

    def read(self, source: str, conn: Redis, shard: int, numbers: list[str]
             ) -> dict[str, bytes | None]:
        """`source` names the Redis (its URL): one process may serve several."""
        now = self.clock()
        stale = [n for n in numbers if now - self._seen.get((source, shard, n), (-1e18,))[0]
                 > self.max_age_s]
        if stale:
            if len(self._seen) > 10_000:  # numbers nobody watches any more
                self._seen = {k: v for k, v in self._seen.items()
                              if now - v[0] <= self.max_age_s}
            for number, raw in read(conn, shard, stale).items():
                self._seen[(source, shard, number)] = (now, raw)
        return {n: self._seen[(source, shard, n)][1] for n in numbers}


class Recent:
    """Values computed at most once per `max_age_s` and key in this process: the
    database side of the boards (names, profiles, today's counters), shared by the open
    streams of the same numbers and scope."""

    def __init__(self, max_age_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s, self.clock = max_age_s, clock
        self._values: dict = {}

    def get(self, key, compute: Callable[[], object]):
        now = self.clock()
        hit = self._values.get(key)
        if hit is not None and now - hit[0] <= self.max_age_s:
            return hit[1]
        value = compute()
        if len(self._values) > 1_000:
            self._values = {k: v for k, v in self._values.items()
                            if now - v[0] <= self.max_age_s}
        self._values[key] = (now, value)
        return value


def sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


def gzipped(body: Iterator[str]) -> Iterator[bytes]:
    """`body` gzip-encoded, each message flushed at once (Z_SYNC_FLUSH). Closing this
    closes `body` (its slot is released)."""
    encoder = zlib.compressobj(6, zlib.DEFLATED, GZIP_WBITS, GZIP_MEMLEVEL)
    try:
        for chunk in body:
            yield encoder.compress(chunk.encode()) + encoder.flush(zlib.Z_SYNC_FLUSH)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


ItemsFn = Callable[[Board, dict], dict[str, str]]


def changes(conn: Redis, shard: int, boards_: list[Board], render: ItemsFn, *,
            refresh_fn: Callable[[list[Board]], None] | None = None,
            directory: Directory | None = None,
            poll_s: float = POLL_S, heartbeat_s: float = HEARTBEAT_S,
            max_s: float = MAX_STREAM_S, refresh_s: float = REFRESH_S,
            sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.monotonic, slot: StreamSlot | None = None,
            closed_html: str = "", gone: Callable[[], bool] | None = None,
            snapshots: Callable[[list[str]], dict] | None = None) -> Iterator[str]:
    """The SSE body. `render(board, view)` gives {item id: one-line HTML} for a number;
    every item once at (re)connection (`full`), then only items that changed (`u`), an
    item gone as `<i id=… data-del></i>`.

    With a `slot` (SEC-4) the stream ends as soon as a newer stream of the same user
    evicted it, after a last `closed` message carrying `closed_html`. `gone()` says the
    browser has hung up (a closed tab): checked with the slot, it ends the stream (and
    frees the slot) within a second instead of at the next failed write, up to a
    heartbeat later. `snapshots(numbers)` reads the engine's snapshots (default: straight
    from `conn`; the web view shares its worker's `SharedSnapshots`)."""
    if snapshots is None:
        def snapshots(numbers: list[str]) -> dict:
            return read(conn, shard, numbers)
    try:
        yield from _changes(snapshots, boards_, render, refresh_fn, directory, poll_s,
                            heartbeat_s, max_s, refresh_s, sleep, clock, slot, closed_html,
                            gone)
    finally:
        if slot is not None:
            slot.release()


def _changes(snapshots, boards_, render, refresh_fn, directory, poll_s, heartbeat_s,
             max_s, refresh_s, sleep, clock, slot, closed_html, gone) -> Iterator[str]:
    by_number = {b.number: b for b in boards_}
    raw_seen: dict[str, bytes | None | int] = dict.fromkeys(by_number, -1)
    sent: dict[str, dict[str, str]] = {n: {} for n in by_number}
    started = last = refreshed = checked = clock()
    first = True
    yield "retry: 2000\n\n"
    while clock() - started < max_s:
        if clock() - checked >= SLOT_CHECK_S:
            checked = clock()
            if gone is not None and gone():
                return
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
        for number, raw in snapshots(list(by_number)).items():
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
