"""Redis Streams shell around the pure core (PROTOCOL.md "Keys").

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
import time
from collections.abc import Callable
from itertools import chain

import redis

from engine.codec import agent_to_row, call_to_row, loads
from engine.codec import to_json as _json
from engine.entities import Output
from engine.model import Config
from engine.protocol import GROUP, Keys, malformed
from engine.state import State, restore

log = logging.getLogger("engine")
_chain = chain.from_iterable

DONE_KEEP_MS = 7 * 24 * 3600 * 1000  # duplicate `call.arrived` detection window
PRUNE_EVERY = 1000  # batches between two prunes of the finished-call index
MAX_BLOCK_MS = 500  # upper bound of a blocking read, so SIGTERM is noticed quickly
SNAPSHOT_EVERY_S = 0.1  # switchboard snapshots: at most 10 writes/s per number (SWB-1: < 1 s)
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
return 0
"""


def _flat(entries: list[dict[str, str]]) -> list[list[str]]:
    """[[field, value, ...], ...] in each entry's field order, for COMMIT."""
    return [list(_chain(e.items())) for e in entries]


def tune_gc() -> None:
    """The engine allocates many short-lived dicts per event; CPython's default young
    generation threshold (700) then runs full collections over the long-lived state
    often enough to show in the p99 latency. Collect less often (process-wide: called
    by `python -m engine` and the benchmark, not by the Engine class itself)."""
    gc.set_threshold(50_000, 20, 100)


class Engine:
    """One shard's distributor, rq-worker style: injected connection, `work(burst)`."""

    def __init__(self, conn: redis.Redis, load_config: Callable[[], Config], shard: int = 0,
                 clock: str = "wall", seed: int = 0, batch: int = 100) -> None:
        if clock not in ("wall", "events"):
            raise ValueError("clock must be wall or events")
        self.conn = conn
        self.load_config = load_config
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
        log.info("engine shard %s ready: %d live calls, %d agents", k.inp, len(calls), len(agents))
        return self.state

    def work(self, burst: bool = False) -> int:
        """Handle events until SIGTERM (or, with `burst`, until `in` has nothing new)."""
        state = self.state or self.setup()
        handled = 0
        pending = True  # first re-read what a previous run read but did not acknowledge
        while not self.stopping:
            if self.clock == "wall":
                due = state.next_timer()
                if due is not None and due <= self._wall():
                    self._commit(state.advance(self._wall()), [])
                    continue
            block = None
            if not burst and not pending:
                block = MAX_BLOCK_MS
                due = state.next_timer() if self.clock == "wall" else None
                if due is not None:
                    block = max(1, min(block, due - self._wall()))
            start = "0" if pending else ">"
            resp = self.conn.xreadgroup(GROUP, self.consumer, {self.keys.inp: start},
                                        count=self.batch, block=block)
            entries = resp[0][1] if resp else []
            if pending and not entries:
                pending = False
                continue
            if not entries:
                if self._snap_pending:  # caught up: publish the last snapshots now
                    self._commit(Output(), [], flush_snapshots=True)
                if burst:
                    break
                continue
            handled += self.handle_batch(entries)
        return handled

    # ---- one batch --------------------------------------------------------------------

    def handle_batch(self, entries: list[tuple[bytes, dict | None]]) -> int:
        state = self.state
        assert state is not None
        total = Output()
        ids = []
        for eid, raw in entries:
            ids.append(eid)
            if not raw:
                log.warning("entry %s: deleted from the stream, acknowledged", eid.decode())
                continue
            event = {k.decode(): v.decode("utf-8", "replace") for k, v in raw.items()}
            now = self._now(event)
            if event.get("type") == "config.reload" and malformed(event) is None:
                out = self._reload(now)
            else:
                out = state.handle(event, now)
            if out.ignored:
                log.warning("entry %s ignored: %s", eid.decode(), out.ignored)
            total.commands.extend(out.commands)
            total.logs.extend(out.logs)
        self._commit(total, ids)
        return len(entries)

    def _reload(self, now: int) -> Output:
        assert self.state is not None
        try:
            config = self.load_config()
        except Exception as exc:  # keep serving with the previous document (ConfigError, DB...)
            log.error("config.reload refused, keeping the current document:\n%s", exc)
            return self.state.advance(now)
        return self.state.reload(config, now)

    def _commit(self, out: Output, ids: list[bytes], flush_snapshots: bool = False) -> None:
        state = self.state
        assert state is not None
        k = self.keys
        calls, agents, done = state.calls, state.agents, state.done
        live: list[str] = []
        gone: list[str] = []
        values: list[str] = [""]  # the JSON array (set below), then call rows, agent
        # rows, snapshots: see COMMIT
        for cid in state.dirty_calls:  # only what this batch touched (PROTOCOL.md)
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
        values.append("")  # every line ends with "\n"
        values[0] = _json([_flat(out.commands), _flat(out.logs), live, gone, finished, lines,
                           list(snaps), [eid.decode() for eid in ids]])
        pipe = self.conn.pipeline(transaction=True)
        # EVAL by name: redis-py's cluster pipeline has no eval() (engine/redis_client.py)
        pipe.execute_command("EVAL", COMMIT, 8, k.out, k.log, k.calls, k.agents, k.done,
                             k.state, k.meta, k.inp, "\n".join(values), str(state.now),
                             str(state.seq), GROUP)
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
        pipe.execute()
        state.clear_dirty()

    def _snapshots(self, flush: bool) -> dict[str, str]:
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
        return {number: state.snapshot_json(number) for number in due}

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
