"""`python -m worker.calllog`: copy Redis streams into call-history tables (SWB-3).

Each stream has a handler (`stream`, `handle(entries)`); all are read through
consumer group `calllog` with one XREADGROUP. Crash safety: a batch is written in one
database transaction and acknowledged (XACK) only after the commit; on start the
consumer first re-reads its own pending entries. An entry delivered twice (crash
between commit and XACK) is ignored by the unique (shard, entry_id) index, so the
tables hold each log entry exactly once. Issue 8 plugs `pbx:cdr` in by adding a
handler to `handlers()`.
"""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Iterable
from typing import Protocol

import redis

from engine.outage import Outage, retry, transient
from engine.redis_client import connect
from webapp.db import db, write_transaction
from webapp.models import CallLogEntry, Service
from webapp.services import blacklist
from webapp.settings import load
from worker.bootstrap import drop_db_connection, ensure_db
from worker.cdr import CdrHandler

GROUP = "calllog"
log = logging.getLogger("calllog")

Entries = list[tuple[str, dict[str, str]]]


class StreamHandler(Protocol):
    stream: str

    def handle(self, entries: Entries) -> None:
        """Write these entries (inside the caller's transaction), idempotently."""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


class AcdLogHandler:
    """`acd:{N}:log` (docs/protocol.md "Outcomes") → CallLogEntry rows."""

    def __init__(self, shard: int = 0) -> None:
        self.shard = shard
        self.stream = f"acd:{{{shard}}}:log"
        self._accounts: dict[str, int | None] = {}

    def _account(self, number: str, kinds: tuple[str, ...] = ("welcome",)) -> int | None:
        """The account of a welcome number (outcomes, offers) or, for a break (Q-13,
        `line.paused`/`line.unpaused`: no number), of the fixed line."""
        if number not in self._accounts:
            row = Service.get_or_none((Service.number == number) & Service.kind.in_(kinds))
            self._accounts[number] = row.account_id if row else None
        return self._accounts[number]

    def handle(self, entries: Entries) -> None:
        rows = []
        for entry_id, f in entries:
            ts = _int(f.get("ts"))
            if not f.get("type") or ts is None:
                log.warning("ignored malformed log entry %s", entry_id)
                continue
            number = f.get("number", "")
            account = (self._account(number) if number
                       else self._account(f.get("line", ""), ("fixed",)))
            rows.append({
                "shard": self.shard, "entry_id": entry_id, "account": account,
                "number": number, "call": f.get("call", ""), "type": f["type"],
                "line": f.get("line") or None, "result": f.get("result") or None,
                "reason": f.get("reason") or None, "to": f.get("to") or None,
                "wait_ms": _int(f.get("wait_ms")), "ring_ms": _int(f.get("ring_ms")),
                "talk_ms": _int(f.get("talk_ms")), "paused_ms": _int(f.get("paused_ms")),
                "caller": (f.get("caller") or None) and f["caller"][:20],
                "profile": (f.get("profile") or None) and f["profile"][:40], "ts_ms": ts})
        for start in range(0, len(rows), 200):
            CallLogEntry.insert_many(rows[start:start + 200]).on_conflict_ignore().execute()


def _decode(raw: Iterable) -> Entries:
    return [(eid.decode(), {k.decode(): v.decode() for k, v in fields.items()})
            for eid, fields in raw]


class CallLog:
    def __init__(self, conn: redis.Redis, handlers: list[StreamHandler],
                 consumer: str = "calllog-1", batch: int = 200, block_ms: int = 1000) -> None:
        self.conn = conn
        self.handlers = {h.stream: h for h in handlers}
        self.consumer, self.batch, self.block_ms = consumer, batch, block_ms
        self.stopping = False

    def ensure_groups(self) -> None:
        for stream in self.handlers:
            try:
                self.conn.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def _apply(self, stream: str, entries: Entries) -> None:
        opened = db.connect(reuse_if_open=True)
        try:
            write_transaction(self.handlers[stream].handle)(entries)
        finally:
            if opened and not db.is_closed():
                db.close()
        self.conn.xack(stream, GROUP, *[eid for eid, _ in entries])  # only after the commit

    def step(self, ids: str, block: int | None) -> int:
        """Read and apply one batch from every stream; returns how many entries.

        On a Redis Cluster (the engine's shards, SCALE-1) one XREADGROUP cannot span
        slots: one read per stream then, only the last one blocking, and only when the
        others brought nothing."""
        total = 0
        reads = ([[s] for s in self.handlers] if hasattr(self.conn, "get_default_node")
                 else [list(self.handlers)])
        for n, streams in enumerate(reads):
            wait = block if n == len(reads) - 1 and not total else None
            answer = self.conn.xreadgroup(GROUP, self.consumer, {s: ids for s in streams},
                                          count=self.batch, block=wait)
            for stream, raw in answer or []:
                entries = _decode(raw)
                if entries:
                    self._apply(stream.decode(), entries)
                    total += len(entries)
        return total

    def work(self, burst: bool = False) -> None:
        """Until SIGTERM. A Redis or database outage (REL-2) is one log line, then tries
        with backoff; a batch that was not committed was not acknowledged, so after the
        outage our own pending entries are read again first, as after a crash."""
        outage = Outage(log, "Redis or the database")
        recovering = True
        while not self.stopping:
            try:
                if recovering:
                    self.ensure_groups()
                    while self.step("0", None):  # our own pending entries first
                        pass
                    recovering = False
                got = self.step(">", None if burst else self.block_ms)
            except Exception as exc:
                if not transient(exc):
                    raise
                drop_db_connection()
                outage.wait(exc, lambda: self.stopping)
                recovering = True
                continue
            outage.ok()
            if burst and not got:
                return


def handlers(shards: int = 1) -> list[StreamHandler]:
    """Every shard's `acd:{N}:log` (SCALE-1: an account may have been moved, statistics
    read them all) and `pbx:cdr`."""
    return [*(AcdLogHandler(n) for n in range(max(1, shards))), CdrHandler()]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m worker.calllog")
    ap.add_argument("--burst", action="store_true", help="stop when the streams are drained")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load()
    ensure_db(settings)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = worker.stopping = True

    worker = CallLog(None, handlers(settings.ENGINE_SHARDS), consumer="calllog-0")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # the engine's logs and pbx:cdr (REL-4: an unreachable Redis is one line, then retries)
    worker.conn = retry(lambda: connect(settings.ENGINE_REDIS_URL),
                        Outage(log, f"Redis at {settings.ENGINE_REDIS_URL}"), lambda: stopping)
    # consumer name as before shards: pending entries of an older run are re-read
    if worker.conn is not None:
        with db.connection_context():  # the PBX side's copy (LINE-4): a flushed Redis is
            blacklist.sync_all(worker.conn)  # repaired; publish() logs an outage itself
        worker.work(burst=args.burst)


if __name__ == "__main__":
    main()
