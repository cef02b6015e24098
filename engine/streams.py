"""Redis Streams shell around the pure core (docs/protocol.md "Keys").

Kept thin on purpose: read a batch from `acd:{N}:in` through group `engine`,
feed each event to `state.State`, then write in one MULTI/EXEC exactly what the
batch changed (per call, per agent, per number), the `out`/`log` entries and
the XACK. A crash before EXEC leaves the entries pending and the stored state
untouched, so the restart replays them from the same state: nothing lost,
nothing emitted twice.
"""

from __future__ import annotations

import gc
import heapq
import logging
import signal
import time
from collections.abc import Callable

import redis

from engine.codec import loads
from engine.codec import to_json_bytes as _json
from engine.commit import COMMIT, Entry, decoded, payload, read_reply
from engine.config import parse
from engine.entities import Output
from engine.loader import DocumentSource
from engine.model import Config
from engine.prepare import Helper, InHelper, InThread, Preparing, digests, forget
from engine.protocol import GROUP, Keys, malformed
from engine.redis_client import one_node
from engine.snapshot import snapshot
from engine.state import State, restore
from engine.wire import Wire, prefix, stream_entries, xreadgroup

log = logging.getLogger("engine")

DONE_KEEP_MS = 7 * 24 * 3600 * 1000  # duplicate `call.arrived` detection window
PRUNE_EVERY = 1000  # batches between two prunes of the finished-call index
MAX_BLOCK_MS = 500  # upper bound of a blocking read, so SIGTERM is noticed quickly
SNAPSHOT_EVERY_S = 0.2  # switchboard snapshots: at most 5 writes/s per number (SWB-1: < 1 s)
RELOAD_POLL_MS = 10  # blocking reads while a whole document is being prepared
SNAPSHOTS_PER_BATCH = 4  # bounded work per batch keeps the p99 latency flat...
SNAPSHOTS_PER_EVENTS = 8  # ...and a batch of n events may carry n / 8 (bursts, big shards)


def tune_gc() -> None:
    """The engine allocates many short-lived dicts per event; CPython's default young
    generation threshold (700) then runs full collections over the long-lived state
    often enough to show in the p99 latency. Collect less often (process-wide: called
    by `python -m engine` and the benchmark, not by the Engine class itself)."""
    gc.set_threshold(50_000, 20, 100)


class Engine:
    """One shard's distributor, rq-worker style: injected connection, `work(burst)`."""

    def __init__(self, conn: redis.Redis, load_config: Callable[[], Config] | None = None,
                 shard: int = 0, clock: str = "wall", seed: int = 0, batch: int = 100,
                 load_numbers: Callable[[list[str]], Config] | None = None,
                 source: DocumentSource | None = None) -> None:
        """`load_config()`: the whole document, or `source` (engine/loader.py: whole
        reloads are then read by a helper process, engine/prepare.py);
        `load_numbers(numbers)`: a document of those welcome numbers only (and the lines
        they name), for scoped reloads; without it every `config.reload` reloads the
        whole document (`--config` file mode)."""
        if load_config is None:
            if source is None:
                raise ValueError("a load_config or a source is needed")
            load_config = source.config
        if clock not in ("wall", "events"):
            raise ValueError("clock must be wall or events")
        self.conn = conn
        self._wire = Wire(conn) if one_node(conn) else None  # not on a Redis Cluster
        self.load_config = load_config
        self.load_numbers = load_numbers
        self.source = source
        self._preparing: Preparing | None = None  # a whole document being read
        self._helper = Helper()  # the process that reads it (with a source)
        self._digests = digests(None)  # what the running document's sections are
        self._again = False  # another whole reload was asked for meanwhile
        self.keys = Keys(shard)
        self.clock = clock
        self.seed = seed
        self.batch = batch
        self.consumer = f"engine-{shard}"  # stable name: pending entries survive a restart
        k = self.keys
        # EVAL by name: redis-py's cluster pipeline has no eval() (engine/redis_client.py)
        self._commit_head = ("EVAL", COMMIT, 8, k.out, k.log, k.calls, k.agents, k.done, k.state,
                             k.meta, k.inp)  # then: the batch's blob, now, seq, ... (COMMIT)
        if self._wire is not None:  # packed once (engine/wire.py)
            self._commit_head = (prefix(*self._commit_head),)
            self._read_next = xreadgroup(GROUP, self.consumer, k.inp, batch)
        self.stopping = False
        self.state: State | None = None
        self._batches = 0
        self._snap_pending: set[str] = set()  # numbers whose snapshot is to be published
        self._snap_due: list[tuple[float, str]] = []  # heap of theirs: (when it may be, number)
        self._snap_at: dict[str, float] = {}  # number -> when its snapshot was last written

    # ---- lifecycle --------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT: finish the batch in hand, then leave `work`."""
        def stop(signum: int, frame: object) -> None:
            self.stopping = True
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def setup(self) -> State:
        """Create the group if needed and rebuild the state from Redis."""
        self._preparing, self._again = None, False  # the document is read afresh here
        try:
            self.conn.xgroup_create(self.keys.inp, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        if self.source is not None:
            raw = self.source.raw()
            config, self._digests = parse(raw), digests(raw)
            del raw
            if self.clock == "wall":
                self._helper.start(self.source)  # whole reloads are read there
        else:
            config = self.load_config()
        k = self.keys
        meta = {a.decode(): b.decode() for a, b in self.conn.hgetall(k.meta).items()}
        calls = [loads(v) for v in self.conn.hvals(k.calls)]
        agents = [loads(v) for v in self.conn.hvals(k.agents)]
        done = {m.decode(): int(s) for m, s in self.conn.zrange(k.done, 0, -1, withscores=True)}
        now = int(meta.get("now", 0)) if self.clock == "events" else self._wall()
        self.state = restore(config, self.seed, now, int(meta.get("seq", 0)), calls, agents, done)
        gc.freeze()  # the document and the restored state are long-lived (see _swap)
        log.info("engine shard %s ready: %d live calls, %d agents", k.inp, len(calls), len(agents))
        return self.state

    def work(self, burst: bool = False) -> int:
        """Handle events until SIGTERM (or, with `burst`, until `in` has nothing new)."""
        state = self.state or self.setup()
        handled = 0
        pending = True  # first re-read what a previous run read but did not acknowledge
        ahead: list[Entry] = []  # the next batch, read by the last commit (COMMIT's read,
        # or the blocking read sent after it)
        while not self.stopping or ahead:  # on SIGTERM, finish the batch in hand
            live = not burst and not pending and not self.stopping
            if self._preparing is not None and self._preparing.ready():
                self._commit(self._swap(), [])
            if ahead:
                entries, ahead = ahead, []
                handled += len(entries)
                ahead = self.handle_batch(entries, read_next=not self.stopping, wait=live)
                continue
            if self.clock == "wall":
                due = state.next_timer()
                if due is not None and due <= self._wall():
                    ahead = self._commit(state.advance(self._wall()), [],
                                         read_next=not pending, wait=live)
                    continue
            if self._snap_due and not pending:
                # caught up: publish the snapshots still waiting (the commit also reads
                # what came in meanwhile). A burst ends with all of them; a running
                # engine keeps each number's pace (SNAPSHOT_EVERY_S), a few per round
                # trip, so that a quiet moment never turns into a long write.
                if burst or self._snapshot_due():
                    ahead = self._commit(Output(), [], flush_snapshots=burst, read_next=True,
                                         wait=live)
                    if ahead or not burst:
                        continue
                    break
            block = None
            if live:
                block = max(1, self._block_ms())
            start = "0" if pending else ">"
            resp = self.conn.xreadgroup(GROUP, self.consumer, {self.keys.inp: start},
                                        count=self.batch, block=block)
            batch = decoded(resp[0][1]) if resp else []
            if pending and not batch:
                pending = False
                continue
            if not batch:
                if burst and self._preparing is not None:
                    self._preparing.wait()
                    continue
                if burst:
                    break
                continue
            handled += len(batch)
            ahead = self.handle_batch(batch, read_next=not pending and not self.stopping,
                                      wait=live)
        self._helper.close()
        if self._wire is not None:
            self._wire.close()
        return handled

    def _block_ms(self) -> int:
        """How long a read may wait for new events (ms): until the next timer (wall
        clock) or the next snapshot due, at most MAX_BLOCK_MS (RELOAD_POLL_MS while a
        whole document is being prepared); 0 or less: something is due now."""
        state = self.state
        assert state is not None
        block = MAX_BLOCK_MS
        if self._snap_due:
            block = min(block, int((self._snap_due[0][0] - time.monotonic()) * 1000) + 1)
        if self.clock == "wall":
            due = state.next_timer()
            if due is not None:
                block = min(block, due - self._wall())
        if self._preparing is not None:
            block = min(block, RELOAD_POLL_MS)
        return block

    # ---- one batch --------------------------------------------------------------------

    def handle_batch(self, entries: list[Entry], read_next: bool = False,
                     wait: bool = False) -> list[Entry]:
        """Handle `entries` and commit; returns the next batch when `read_next` (read by
        the same transaction or, with `wait`, by a blocking read sent with it), else []."""
        state = self.state
        assert state is not None
        total = Output()
        commands, logs = total.commands, total.logs
        ids = []
        for eid, event in entries:
            ids.append(eid)
            if event is None:
                log.warning("entry %s: deleted from the stream, acknowledged", eid)
                continue
            now = self._now(event)
            if event.get("type") == "config.reload" and malformed(event) is None:
                listed = event.get("numbers")
                out = self._reload(now, None if listed is None else
                                   [n.strip() for n in listed.split(",") if n.strip()])
            else:
                out = state.handle(event, now)
            if out.ignored:
                log.warning("entry %s ignored: %s", eid, out.ignored)
            commands += out.commands
            logs += out.logs
        return self._commit(total, ids, read_next=read_next, wait=wait)

    def _reload(self, now: int, numbers: list[str] | None) -> Output:
        """`config.reload`. With `numbers` (and a per-number loader): just those sections,
        now (an empty list: an edit that touched no welcome number, nothing to do).
        Else the whole document: with the events clock, now (deterministic replay);
        with the wall clock it is read, compared and checked off the hot path
        (engine/prepare.py) while events go on, and the sections that changed are swapped
        in by `_swap` once ready (docs/protocol.md: at most 150 ms held back).
        A document that cannot be loaded or is invalid is logged; the current one stays."""
        state = self.state
        assert state is not None
        if numbers is not None and self.load_numbers is not None:
            if not numbers:
                return state.advance(now)
            try:
                partial = self.load_numbers(numbers)
            except Exception as exc:  # ConfigError, database...
                log.error("config.reload of %s refused, keeping the current sections:\n%s",
                          ",".join(numbers), exc)
                return state.advance(now)
            if self._preparing is not None:
                self._preparing.scoped.update(numbers)
            forget(self._digests, numbers, partial.lines)  # compared afresh next time
            return state.reload_numbers(partial, numbers, now)
        if self.clock == "events":
            try:
                config = self.load_config()
            except Exception as exc:
                log.error("config.reload refused, keeping the current document:\n%s", exc)
                return state.advance(now)
            return state.reload(config, now)
        if self._preparing is None:
            self._preparing = self._prepare()
        else:
            self._again = True
        return state.advance(now)

    def _prepare(self) -> Preparing:
        assert self.state is not None
        if self.source is not None:
            return InHelper(self._helper, self.source, self._digests)
        return InThread(self.load_config, self.state.config)

    def _swap(self) -> Output:
        """Adopt the whole document prepared off the hot path (only the numbers whose
        section differs, or that name a line whose settings differ, are touched);
        sections reloaded one by one meanwhile are read again, being as fresh as that
        document or fresher."""
        prep, self._preparing = self._preparing, None
        state = self.state
        assert prep is not None and state is not None
        now = self._wall()
        try:
            ready = prep.result(state.config, state.layout.line_numbers)
        except Exception as exc:  # ConfigError, database, a helper that died...
            log.error("config.reload refused, keeping the current document:\n%s", exc)
            out = state.advance(now)
        else:
            if ready.digests is not None:
                self._digests = ready.digests
            out = state.reload(ready.config, now, changed=ready.changed | prep.scoped)
            if prep.scoped:
                again = self._reload(now, sorted(prep.scoped))
                out.commands += again.commands
                out.logs += again.logs
            gc.freeze()  # the document is long-lived: later collections need not scan it
        if self._again:
            self._again = False
            self._preparing = self._prepare()
        return out

    def _commit(self, out: Output, ids: list[str], flush_snapshots: bool = False,
                read_next: bool = False, wait: bool = False) -> list[Entry]:
        """Write what the batch changed, its entries and its XACK in one MULTI/EXEC;
        with `read_next`, the same transaction reads the next batch (returned). With
        `wait` too (a running engine), when the batch was not a full one (the engine
        has caught up) and nothing is due, a blocking read of the next events is sent
        with the transaction instead (engine/wire.py): one round trip, not two."""
        state = self.state
        assert state is not None
        k = self.keys
        blob = payload(state, out, ids, self._snapshots(flush_snapshots, len(ids)))
        then = None
        if read_next and wait and self._wire is not None and len(ids) < self.batch:
            block = self._block_ms()
            if block > 0:
                then, read_next = self._read_next(block), False
        commands: list[tuple] = [(*self._commit_head, blob, str(state.now), str(state.seq),
                                  GROUP, self.batch if read_next else 0, self.consumer)]
        self._batches += 1
        if self._batches % PRUNE_EVERY == 0:
            horizon = state.now - DONE_KEEP_MS
            commands.append(("ZREMRANGEBYSCORE", k.done, "-inf", horizon))
            # `done` is in finishing order (the clock never goes back, and restore loads
            # it sorted by time), so the expired ids are at its front: the prune costs
            # what it removes, not the whole week of finished calls.
            expired = []
            for cid, t in state.done.items():
                if t >= horizon:
                    break
                expired.append(cid)
            for cid in expired:
                del state.done[cid]
        if self._wire is not None:
            replies, read = self._wire.transact(commands, then)
            reply = replies[0]
        else:
            pipe = self.conn.pipeline(transaction=True)
            for command in commands:
                pipe.execute_command(*command)
            reply, read = pipe.execute()[0], None
        state.clear_dirty()
        if then is not None:
            return stream_entries(read)
        if not reply:
            return []
        try:
            return read_reply(reply)
        except ValueError:  # not UTF-8: the careful way (the batch is pending, unread)
            resp = self.conn.xreadgroup(GROUP, self.consumer, {k.inp: "0"}, count=self.batch)
            return decoded(resp[0][1]) if resp else []

    def _snapshot_due(self) -> bool:
        """Is a waiting snapshot's number past its SNAPSHOT_EVERY_S?"""
        return bool(self._snap_due) and self._snap_due[0][0] <= time.monotonic()

    def _snapshots(self, flush: bool, events: int = 0) -> dict[str, bytes]:
        """Snapshots due now: each number at most every SNAPSHOT_EVERY_S, a few per batch
        (more in a batch of many `events`), all of them when the engine is idle (flush).
        The numbers waiting are a heap by the time each may be written again, so that
        neither this nor `_snapshot_due` scans them (a hundred, at 2,000 events/s)."""
        state = self.state
        assert state is not None
        pending, heap, at = self._snap_pending, self._snap_due, self._snap_at
        for number in state.dirty_numbers:
            if number not in pending:
                pending.add(number)
                heapq.heappush(heap, (at.get(number, 0.0) + SNAPSHOT_EVERY_S, number))
        if not heap:
            return {}
        mono = time.monotonic()
        most = len(heap) if flush else max(SNAPSHOTS_PER_BATCH, events // SNAPSHOTS_PER_EVENTS)
        due = []
        while heap and len(due) < most and (flush or heap[0][0] <= mono):
            number = heapq.heappop(heap)[1]
            pending.discard(number)
            at[number] = mono
            due.append(number)
        return {number: _json(snapshot(state, number)) for number in due}

    # ---- clocks -----------------------------------------------------------------------

    def _now(self, event: dict[str, str]) -> int:
        assert self.state is not None
        if self.clock == "wall":
            return self._wall()
        ts = event.get("ts", "")
        return max(self.state.now, int(ts)) if ts.isdigit() else self.state.now

    @staticmethod
    def _wall() -> int:
        return int(time.time() * 1000)
