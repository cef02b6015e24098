"""`pbx:cdr` → call history (LINE-5), consumer group `calllog` (docs/protocol.md).

`CdrConsumer` is a stream handler meant to run inside the call-log process
(`python -m worker.calllog`) next to the `acd:{N}:log` handler: that process
calls `consumer.start()` once, then `consumer.poll(block_ms)` in its loop. Until it
does, `python -m worker.cdr` runs the same handler alone.

Idempotent across restarts: each entry is stored under its stream id (unique) before it
is acknowledged; at start the consumer first re-reads its own pending entries (id 0),
so an entry read but not acknowledged before a crash is stored exactly once.
"""

from __future__ import annotations

import logging
import os
import socket
import time

import redis as redis_lib

from engine.redis_client import connect
from webapp.db import db
from webapp.services import blacklist, call_history
from webapp.settings import load
from worker.bootstrap import ensure_db

log = logging.getLogger(__name__)

STREAM = "pbx:cdr"
GROUP = "calllog"


class CdrHandler:
    """The `pbx:cdr` handler of `python -m worker.calllog` (same process, same group):
    called inside the batch's transaction, XACK after the commit (worker/calllog.py)."""

    stream = STREAM

    def handle(self, entries) -> None:
        call_history.ingest(entries)


class CdrConsumer:
    def __init__(self, conn: redis_lib.Redis, consumer: str | None = None,
                 batch: int = 200) -> None:
        self.conn = conn
        self.consumer = consumer or f"cdr-{socket.gethostname()}"
        self.batch = batch
        self.stored = 0
        self.ignored = 0

    def start(self) -> None:
        """Create the group (from the beginning of the stream), replay our pending
        entries, and republish every line's blacklist (Redis may have been flushed)."""
        try:
            self.conn.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except redis_lib.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        while self._read("0", block_ms=None):
            pass
        with db.connection_context():
            blacklist.sync_all(self.conn)

    def _read(self, last_id: str, block_ms: int | None) -> int:
        answer = self.conn.xreadgroup(GROUP, self.consumer, {STREAM: last_id},
                                      count=self.batch, block=block_ms)
        entries = answer[0][1] if answer else []
        if not entries:
            return 0
        with db.connection_context():
            stored, ignored = call_history.ingest(entries)
        self.stored += stored
        self.ignored += ignored
        # Acknowledge only once the rows are committed.
        self.conn.xack(STREAM, GROUP, *[e for e, _f in entries])
        if ignored:
            log.info("pbx:cdr: %s entries ignored (unknown line or malformed)", ignored)
        return len(entries)

    def poll(self, block_ms: int | None = 1000) -> int:
        """Read and store new entries; returns how many were handled."""
        return self._read(">", block_ms)

    def drain(self) -> int:
        """Handle everything available now (tests, demo)."""
        total = 0
        while (n := self.poll(block_ms=None)):
            total += n
        return total


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load()
    ensure_db(settings)
    conn = connect(settings.ENGINE_REDIS_URL)  # pbx:cdr is next to the engine keys
    consumer = CdrConsumer(conn, os.environ.get("CDR_CONSUMER"))
    consumer.start()
    log.info("pbx:cdr consumer %s started", consumer.consumer)
    while True:
        try:
            consumer.poll(block_ms=2000)
        except redis_lib.ConnectionError:
            log.warning("Redis unreachable, retrying")
            time.sleep(1)


if __name__ == "__main__":
    main()
