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
import logging
import signal
import threading
import time
from collections.abc import Callable
from itertools import chain

import redis

from engine.codec import agent_to_row, call_to_row, loads
from engine.codec import to_json_bytes as _json
from engine.entities import Output
from engine.layout import Layout, changed_numbers
from engine.model import Config
from engine.protocol import GROUP, Keys, malformed
from engine.snapshot import snapshot
from engine.state import State, restore

log = logging.getLogger("engine")
_chain = chain.from_iterable

DONE_KEEP_MS = 7 * 24 * 3600 * 1000  # duplicate `call.arrived` detection window
PRUNE_EVERY = 1000  # batches between two prunes of the finished-call index
MAX_BLOCK_MS = 500  # upper bound of a blocking read, so SIGTERM is noticed quickly
SNAPSHOT_EVERY_S = 0.2  # switchboard snapshots: at most 5 writes/s per number (SWB-1: < 1 s)
RELOAD_POLL_MS = 10  # blocking reads while a whole document is being prepared
SNAPSHOTS_PER_BATCH = 16  # bounded work per batch keeps the p99 latency flat


# One EVAL per batch writes what the batch changed, appends every `out` and `log` entry
# server-side and acknowledges the batch's entries: packing hundreds of arguments (and
# parsing thousands of XADD replies) in redis-py costs more than the engine's logic.
# It runs inside the batch's MULTI/EXEC (with the prune of `done`, now and then). EVAL
# (not EVALSHA) so that a Redis restart can never turn it into a NOSCRIPT error inside
# the transaction; the server caches the compiled script anyway.
#   KEYS: out, log, calls, agents, done, state, meta, in
#   ARGV[1]: lines ending with "\n": first a JSON array [out entries, log entries,
#            call ids, finished ids, done (end ms, id, ...), agent lines, snapshot
#            numbers, `in` ids to XACK], an entry being [field, value, ...]; then the
#            values for the call ids, agent lines and snapshot numbers, in that order.
#            All are JSON from _json, which escapes every control character, so "\n"
#            cannot occur inside one; sliced with a plain find, the values cost the
#            server far less than decoding them as JSON strings, and one argument
#            (rather than two) is one chunk less for redis-py to send.
#   ARGV[2], ARGV[3]: meta `now`, `seq`; ARGV[4]: the consumer group
#   ARGV[5], ARGV[6]: how many new entries to read next ("0": none) and the consumer.
# It returns those entries as one JSON text, [[id, [field, value, ...]], ...] (or ""):
# the next batch costs no round trip of its own, and one orjson.loads of it costs a
# fraction of redis-py's parse of the XREADGROUP reply. They are read in the same
# transaction as the XACK of this batch: a crash leaves them pending, re-read first.
COMMIT = r"""
local blob = ARGV[1]
local pos = string.find(blob, '\n', 1, true)
local b = cjson.decode(string.sub(blob, 1, pos - 1))
pos = pos + 1
local function many(cmd, key, t)  -- in slices: unpack() is bounded by Lua's C stack
  for i = 1, #t, 1000 do
    redis.call(cmd, key, unpack(t, i, math.min(i + 999, #t)))
  end
end
local function hset_next(key, names)
  local t, n = {}, 0
  for _, name in ipairs(names) do
    local stop = string.find(blob, '\n', pos, true)
    t[n + 1], t[n + 2], n = name, string.sub(blob, pos, stop - 1), n + 2
    pos = stop + 1
  end
  many('HSET', key, t)
end
hset_next(KEYS[3], b[3])
many('HDEL', KEYS[3], b[4])
many('ZADD', KEYS[5], b[5])
hset_next(KEYS[4], b[6])
hset_next(KEYS[6], b[7])
for i = 1, 2 do
  for _, fields in ipairs(b[i]) do
    redis.call('XADD', KEYS[i], '*', unpack(fields))
  end
end
redis.call('HSET', KEYS[7], 'now', ARGV[2], 'seq', ARGV[3])
local ids = b[8]
for i = 1, #ids, 1000 do
  redis.call('XACK', KEYS[8], ARGV[4], unpack(ids, i, math.min(i + 999, #ids)))
end
if ARGV[5] == '0' then
  return ''
end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[4], ARGV[6], 'COUNT', ARGV[5],
                     'STREAMS', KEYS[8], '>')
if not r then
  return ''
end
return cjson.encode(r[1][2])
"""


Entry = tuple[str, "dict[str, str] | None"]  # an `in` entry: id, fields (None: deleted)


def _decoded(raw: list[tuple[bytes, dict | None]]) -> list[Entry]:
    """redis-py's XREADGROUP entries as Entry."""
    return [(eid.decode(), {k.decode(): v.decode("utf-8", "replace") for k, v in f.items()}
             if f else None) for eid, f in raw]


def _flat(entries: list[dict[str, str]]) -> list[list[str]]:
    """[[field, value, ...], ...] in each entry's field order, for COMMIT."""
    return [list(_chain(e.items())) for e in entries]


def tune_gc() -> None:
    """The engine allocates many short-lived dicts per event; CPython's default young
    generation threshold (700) then runs full collections over the long-lived state
    often enough to show in the p99 latency. Collect less often (process-wide: called
    by `python -m engine` and the benchmark, not by the Engine class itself)."""
    gc.set_threshold(50_000, 20, 100)


class _Preparing:
    """A whole document being loaded, checked and indexed in a thread, off the hot path:
    the result is (config, the numbers that changed from `base`, its Layout)."""

    def __init__(self, load: Callable[[], Config], base: Config) -> None:
        self.result: tuple[Config, set[str], Layout] | None = None
        self.error: Exception | None = None
        self.scoped: set[str] = set()  # numbers reloaded one by one meanwhile
        self.ready = threading.Event()
        threading.Thread(target=self._run, args=(load, base), name="engine-reload",
                         daemon=True).start()

    def _run(self, load: Callable[[], Config], base: Config) -> None:
        # a document of thousands of numbers is hundreds of thousands of objects: no
        # collection over the whole heap meanwhile (the GIL would hold events back)
        gc.disable()
        try:
            config = load()
            self.result = (config, changed_numbers(base, config), Layout(config))
        except Exception as exc:  # ConfigError, database...: logged by the engine
            self.error = exc
        finally:
            gc.enable()
            self.ready.set()


class Engine:
    """One shard's distributor, rq-worker style: injected connection, `work(burst)`."""

    def __init__(self, conn: redis.Redis, load_config: Callable[[], Config], shard: int = 0,
                 clock: str = "wall", seed: int = 0, batch: int = 100,
                 load_numbers: Callable[[list[str]], Config] | None = None) -> None:
        """`load_config()`: the whole document; `load_numbers(numbers)`: a document of
        those welcome numbers only (and the lines they name), for scoped reloads; without
        it every `config.reload` reloads the whole document (`--config` file mode)."""
        if clock not in ("wall", "events"):
            raise ValueError("clock must be wall or events")
        self.conn = conn
        self.load_config = load_config
        self.load_numbers = load_numbers
        self._preparing: _Preparing | None = None  # a whole document read in a thread
        self._again = False  # another whole reload was asked for meanwhile
        self.keys = Keys(shard)
        self.clock = clock
        self.seed = seed
        self.batch = batch
        self.consumer = f"engine-{shard}"  # stable name: pending entries survive a restart
        self.stopping = False
        self.state: State | None = None
        self._batches = 0
        self._snap_pending: dict[str, None] = {}  # numbers to publish, oldest change first
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
        ahead: list[Entry] = []  # the next batch, read by the last commit (COMMIT's read)
        while not self.stopping or ahead:  # on SIGTERM, finish the batch in hand
            if self._preparing is not None and self._preparing.ready.is_set():
                self._commit(self._swap(), [])
            if ahead:
                entries, ahead = ahead, []
                handled += len(entries)
                ahead = self.handle_batch(entries, read_next=not self.stopping)
                continue
            if self.clock == "wall":
                due = state.next_timer()
                if due is not None and due <= self._wall():
                    ahead = self._commit(state.advance(self._wall()), [], read_next=not pending)
                    continue
            if self._snap_pending and not pending:
                # caught up: publish the snapshots still waiting (the commit also reads
                # what came in meanwhile). A burst ends with all of them; a running
                # engine keeps each number's pace (SNAPSHOT_EVERY_S), a few per round
                # trip, so that a quiet moment never turns into a long write.
                if burst or self._snapshot_due():
                    ahead = self._commit(Output(), [], flush_snapshots=burst, read_next=True)
                    if ahead or not burst:
                        continue
                    break
            block = None
            if not burst and not pending:
                block = MAX_BLOCK_MS
                if self._snap_pending:
                    block = int(SNAPSHOT_EVERY_S * 1000) or 1
                due = state.next_timer() if self.clock == "wall" else None
                if due is not None:
                    block = max(1, min(block, due - self._wall()))
                if self._preparing is not None:
                    block = min(block, RELOAD_POLL_MS)
            start = "0" if pending else ">"
            resp = self.conn.xreadgroup(GROUP, self.consumer, {self.keys.inp: start},
                                        count=self.batch, block=block)
            entries = _decoded(resp[0][1]) if resp else []
            if pending and not entries:
                pending = False
                continue
            if not entries:
                if burst and self._preparing is not None:
                    self._preparing.ready.wait()
                    continue
                if burst:
                    break
                continue
            handled += len(entries)
            ahead = self.handle_batch(entries, read_next=not pending and not self.stopping)
        return handled

    # ---- one batch --------------------------------------------------------------------

    def handle_batch(self, entries: list[Entry], read_next: bool = False) -> list[Entry]:
        """Handle `entries` and commit; returns the next batch when `read_next`
        (read by the same transaction), else []."""
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
        return self._commit(total, ids, read_next=read_next)

    def _reload(self, now: int, numbers: list[str] | None) -> Output:
        """`config.reload`. With `numbers` (and a per-number loader): just those sections,
        now (an empty list: an edit that touched no welcome number, nothing to do).
        Else the whole document: with the events clock, now (deterministic replay);
        with the wall clock it is read, checked and indexed in a thread while events go
        on, and swapped in by `_swap` once ready (docs/protocol.md: at most 150 ms held back).
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
            return state.reload_numbers(partial, numbers, now)
        if self.clock == "events":
            try:
                config = self.load_config()
            except Exception as exc:
                log.error("config.reload refused, keeping the current document:\n%s", exc)
                return state.advance(now)
            return state.reload(config, now)
        if self._preparing is None:
            self._preparing = _Preparing(self.load_config, state.config)
        else:
            self._again = True
        return state.advance(now)

    def _swap(self) -> Output:
        """Adopt the whole document prepared in the thread (only what changed is touched:
        the numbers whose section differs); sections reloaded one by one meanwhile are
        read again, being as fresh as that document or fresher."""
        prep, self._preparing = self._preparing, None
        state = self.state
        assert prep is not None and state is not None
        now = self._wall()
        if prep.error is not None or prep.result is None:
            log.error("config.reload refused, keeping the current document:\n%s", prep.error)
            out = state.advance(now)
        else:
            config, changed, layout = prep.result
            out = state.reload(config, now, changed=changed | prep.scoped, layout=layout)
            if prep.scoped:
                again = self._reload(now, sorted(prep.scoped))
                out.commands += again.commands
                out.logs += again.logs
        gc.freeze()  # the document is long-lived: later collections need not scan it
        if self._again:
            self._again = False
            self._preparing = _Preparing(self.load_config, state.config)
        return out

    def _commit(self, out: Output, ids: list[str], flush_snapshots: bool = False,
                read_next: bool = False) -> list[Entry]:
        """Write what the batch changed, its entries and its XACK in one MULTI/EXEC;
        with `read_next`, the same transaction reads the next batch (returned)."""
        state = self.state
        assert state is not None
        k = self.keys
        calls, agents, done = state.calls, state.agents, state.done
        live: list[str] = []
        gone: list[str] = []
        values: list[bytes] = [b""]  # the JSON array (set below), then call rows, agent
        # rows, snapshots: see COMMIT
        for cid in state.dirty_calls:  # only what this batch touched (docs/protocol.md)
            call = calls.get(cid)
            if call is None:
                gone.append(cid)
            else:
                live.append(cid)
                values.append(_json(call_to_row(call)))
        finished: list[str] = []
        for cid in state.finished:
            finished += (str(done[cid]), cid)
        lines = list(state.dirty_agents)
        values += [_json(agent_to_row(agents[line])) for line in lines]
        snaps = self._snapshots(flush_snapshots)
        values += snaps.values()
        values.append(b"")  # every line ends with "\n"
        values[0] = _json([_flat(out.commands), _flat(out.logs), live, gone, finished, lines,
                           list(snaps), ids])
        pipe = self.conn.pipeline(transaction=True)
        # EVAL by name: redis-py's cluster pipeline has no eval() (engine/redis_client.py)
        pipe.execute_command("EVAL", COMMIT, 8, k.out, k.log, k.calls, k.agents, k.done,
                             k.state, k.meta, k.inp, b"\n".join(values), str(state.now),
                             str(state.seq), GROUP, self.batch if read_next else 0,
                             self.consumer)
        self._batches += 1
        if self._batches % PRUNE_EVERY == 0:
            horizon = state.now - DONE_KEEP_MS
            pipe.zremrangebyscore(k.done, "-inf", horizon)
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
        blob = pipe.execute()[0]
        state.clear_dirty()
        if not blob:
            return []
        try:
            return [(eid, dict(zip(f[::2], f[1::2], strict=True)) if f else None)
                    for eid, f in loads(blob)]
        except ValueError:  # not UTF-8: the careful way (the batch is pending, unread)
            resp = self.conn.xreadgroup(GROUP, self.consumer, {k.inp: "0"}, count=self.batch)
            return _decoded(resp[0][1]) if resp else []

    def _snapshot_due(self) -> bool:
        """Is a waiting snapshot's number past its SNAPSHOT_EVERY_S?"""
        mono, at = time.monotonic(), self._snap_at
        return any(mono - at.get(number, 0.0) >= SNAPSHOT_EVERY_S
                   for number in self._snap_pending)

    def _snapshots(self, flush: bool) -> dict[str, bytes]:
        """Snapshots due now: each number at most every SNAPSHOT_EVERY_S, a few per batch,
        all of them when the engine is idle (flush)."""
        state = self.state
        assert state is not None
        for number in state.dirty_numbers:
            self._snap_pending.setdefault(number, None)
        if not self._snap_pending:
            return {}
        mono = time.monotonic()
        due = []
        for number in self._snap_pending:
            if flush or mono - self._snap_at.get(number, 0.0) >= SNAPSHOT_EVERY_S:
                due.append(number)
                if not flush and len(due) >= SNAPSHOTS_PER_BATCH:
                    break
        for number in due:
            del self._snap_pending[number]
            self._snap_at[number] = mono
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
