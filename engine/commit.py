"""The one write of a batch (docs/protocol.md "Keys": atomic, only what changed).

`COMMIT` is the Lua script the shell runs, inside the batch's MULTI/EXEC, to write
every call, agent and snapshot the batch changed, append its `out` and `log` entries,
acknowledge its `in` entries and read the next batch; `payload()` packs its one
argument from the state's dirty sets, `read_reply()` reads what it returns. Kept apart
from the shell's loop (`engine/streams.py`) because the two change for different
reasons: this is the storage format and its cost, that is the order of work.
"""

from __future__ import annotations

from itertools import chain

from engine.codec import agent_to_row, call_to_row, loads
from engine.codec import to_json_bytes as _json
from engine.entities import Output
from engine.state import State

_chain = chain.from_iterable

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


def decoded(raw: list[tuple[bytes, dict | None]]) -> list[Entry]:
    """redis-py's XREADGROUP entries as Entry."""
    return [(eid.decode(), {k.decode(): v.decode("utf-8", "replace") for k, v in f.items()}
             if f else None) for eid, f in raw]


def flat(entries: list[dict[str, str]]) -> list[list[str]]:
    """[[field, value, ...], ...] in each entry's field order, for COMMIT."""
    return [list(_chain(e.items())) for e in entries]


def payload(state: State, out: Output, ids: list[str], snaps: dict[str, bytes]) -> bytes:
    """COMMIT's ARGV[1] for what `state` marks dirty, `out`, the `in` ids and snapshots."""
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
    values += snaps.values()
    values.append(b"")  # every line ends with "\n"
    values[0] = _json([flat(out.commands), flat(out.logs), live, gone, finished, lines,
                       list(snaps), ids])
    return b"\n".join(values)


def read_reply(blob: bytes) -> list[Entry]:
    """COMMIT's reply: the next batch's entries (ValueError when it is not UTF-8)."""
    return [(eid, dict(zip(f[::2], f[1::2], strict=True)) if f else None)
            for eid, f in loads(blob)]
