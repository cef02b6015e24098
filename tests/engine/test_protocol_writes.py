"""The engine's writes over a real Redis (docs/protocol.md "Keys"): only what a batch
changed, finished ids kept a week, the wire bytes. The engine as a process, its restarts
and reloads are in test_streams.py."""

from __future__ import annotations

import re
import threading

import redis

from engine import streams as engine_streams
from engine.config import parse
from engine.scenario import build_config
from engine.streams import Engine
from tests.engine.conftest import NUM, T0, queue_doc
from tests.engine.test_streams import IN, STATE, xadd_all

# ---- docs/protocol.md: "Write only what a batch changed (per call, per agent, per number)" --

WRITES = {"hset", "hdel", "zadd", "xadd", "xack", "del", "set", "hmset", "zremrangebyscore",
          "xtrim", "unlink", "rename", "restore"}
MONITOR_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')


def monitored_writes(url: str, run) -> tuple[list[tuple[str, str, tuple[str, ...]]], int]:
    """Every write command the server executed while `run()` ran (MONITOR lists the
    commands of scripts too), as (command, key, what it names): the fields of HSET and
    HDEL, the members of ZADD, the field names of an XADD entry, the ids count of XACK;
    and the bytes of all their arguments (values included)."""
    mon = redis.Redis.from_url(url).monitor()
    lines: list[str] = []
    with mon:
        started, done = threading.Event(), threading.Event()

        def read() -> None:
            while True:
                line = mon.connection.read_response()
                line = line.decode() if isinstance(line, bytes) else line
                if '"echo" "start-of-run"' in line.lower():
                    started.set()
                elif '"echo" "end-of-run"' in line.lower():
                    done.set()
                    return
                elif started.is_set():
                    lines.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        marker = redis.Redis.from_url(url)
        marker.echo("start-of-run")
        assert started.wait(10), "MONITOR saw nothing"  # it records, and is being read
        run()
        marker.echo("end-of-run")
        assert done.wait(10)
        marker.close()
    writes, size = [], 0
    for line in lines:
        args = [bytes(a, "utf-8").decode("unicode_escape") for a in
                MONITOR_ARG.findall(line.split("] ", 1)[1])]
        cmd, key, rest = args[0].lower(), args[1] if len(args) > 1 else "", args[2:]
        if cmd not in WRITES:
            continue
        size += sum(len(a) for a in args)
        if cmd == "hset":
            named = tuple(rest[0::2])
        elif cmd == "zadd":
            named = tuple(rest[1::2])
        elif cmd == "xadd":
            named = tuple(rest[1::2])  # rest[0] is the id, "*"
        elif cmd == "xack":
            named = (str(len(rest) - 1),)
        else:
            named = tuple(rest)
        writes.append((cmd, key, named))
    return writes, size


def one_batch_writes(url: str, conn: redis.Redis, numbers: int) -> tuple[list, int, set]:
    """An account of `numbers` queues x 10 agents, busy everywhere; then one batch that
    concerns only the first number. Returns that batch's writes, their bytes and the
    lines it concerns."""
    conn.flushall()
    doc = build_config(numbers, 10, rest_s=0)
    cfg = parse(doc)
    first = sorted(cfg.numbers)[0]
    engine = Engine(conn, lambda: cfg, clock="events")
    setup = [{"type": "line.registered", "ts": str(T0), "line": a.line}
             for n in cfg.numbers.values() for a in n.profiles["q"].agents]
    for i, number in enumerate(sorted(cfg.numbers)):  # 12 calls per number: 10 ring, 2 wait
        setup += [{"type": "call.arrived", "ts": str(T0 + 100 + i), "call": f"{number}-{c}",
                   "number": number, "caller": "+33612345678"} for c in range(12)]
    xadd_all(conn, setup)
    engine.work(burst=True)
    state = engine.state
    ringing = sorted((c.id, line) for c in state.calls.values() if c.number == first
                     for line in c.offers)
    assert len(ringing) == 10 and len(state.calls) == 12 * numbers
    (c0, l0), (c1, l1), (c2, l2) = ringing[:3]
    batch = [  # at T0 + 1 s: no ring timeout (15 s) or rest (none) falls due in between
        {"type": "call.answered", "ts": str(T0 + 1000), "call": c0, "line": l0},
        {"type": "call.answered", "ts": str(T0 + 1001), "call": c1, "line": l1},
        {"type": "call.ended", "ts": str(T0 + 1002), "call": c1, "by": "caller"},
        {"type": "call.ended", "ts": str(T0 + 1003), "call": c2, "by": "caller"},
        {"type": "call.arrived", "ts": str(T0 + 1004), "call": "new", "number": first,
         "caller": "+33600000000"},
        {"type": "line.busy", "ts": str(T0 + 1005), "line": l0}]
    xadd_all(conn, batch)
    writes, size = monitored_writes(url, lambda: engine.work(burst=True))
    return writes, size, {l0, l1, l2}


def test_protocol_batch_writes_only_what_it_changed(redis_url, redis_conn, monkeypatch):
    """The same batch, on an account of 10 agents and on one of 1,000 agents (100 numbers,
    1,200 live calls), writes exactly the same keys, fields and entries: the calls, agents
    and number it touched, its `out`/`log` entries, `meta` and the XACK. Nothing else of
    the state is rewritten, so a batch's cost does not grow with the account."""
    monkeypatch.setattr(engine_streams, "SNAPSHOT_EVERY_S", 0.0)  # no throttling in a test
    small, small_size, lines = one_batch_writes(redis_url, redis_conn, 1)
    big, big_size, big_lines = one_batch_writes(redis_url, redis_conn, 100)
    assert lines == big_lines
    assert sorted(big) == sorted(small)
    # the values differ only by the digits of sequence numbers (more history on the big one)
    assert small_size <= big_size <= small_size * 1.02, (small_size, big_size)
    first = "+33100000000"
    named = {(cmd, key): set() for cmd, key, _ in small}
    for cmd, key, what in small:
        named[(cmd, key)].update(what)
    # per number: the snapshot of the one number the batch concerned
    assert named[("hset", STATE)] == {first}
    # per call: the answered one, the two that ended (removed), the two waiting calls
    # the freed agents took, the new arrival; per agent: the three whose state changed
    calls, gone = named[("hset", "acd:{0}:calls")], named[("hdel", "acd:{0}:calls")]
    assert calls == {f"{first}-0", f"{first}-10", f"{first}-11", "new"}
    assert gone == {f"{first}-1", f"{first}-2"} == named[("zadd", "acd:{0}:done")]
    assert named[("hset", "acd:{0}:agents")] == lines
    assert [w for w in small if w[0] == "xack"] == [("xack", IN, ("6",))]


def test_finished_ids_are_kept_a_week_for_duplicates_then_pruned(redis_conn, monkeypatch):
    monkeypatch.setattr(engine_streams, "PRUNE_EVERY", 1)
    day = 24 * 3600 * 1000
    engine = Engine(redis_conn, lambda: parse(queue_doc()), clock="events")
    for call, at in [("old", T0), ("mid", T0 + 3 * day), ("new", T0 + 6 * day)]:
        xadd_all(redis_conn, [
            {"type": "call.arrived", "ts": str(at), "call": call, "number": NUM, "caller": "1"},
            {"type": "call.ended", "ts": str(at + 1), "call": call, "by": "caller"}])
        engine.work(burst=True)
    assert list(engine.state.done) == ["old", "mid", "new"]
    xadd_all(redis_conn, [{"type": "clock", "ts": str(T0 + 8 * day)}])  # "old" is 8 days old
    engine.work(burst=True)
    assert list(engine.state.done) == ["mid", "new"]
    assert [m.decode() for m in redis_conn.zrange("acd:{0}:done", 0, -1)] == ["mid", "new"]
    xadd_all(redis_conn, [  # a duplicate within the week is ignored
        {"type": "call.arrived", "ts": str(T0 + 8 * day + 1), "call": "mid", "number": NUM,
         "caller": "1"}])
    engine.work(burst=True)
    assert "mid" not in engine.state.calls


def test_protocol_wire_sends_the_bytes_redis_py_would():
    """engine/wire.py packs the batch's commands itself: the same RESP as redis-py's
    `pack_commands`, UTF-8 text, numbers, binary values with CR LF and a packed prefix."""
    from engine.wire import pack, prefix, xreadgroup
    commands = [("MULTI",), ("EVAL", "return 1", 2, "acd:{0}:out", "clé", b"a\r\nb\n", 17, "é"),
                ("EXEC",), ("XREADGROUP", "GROUP", "engine", "engine-0", "COUNT", 100,
                            "BLOCK", 37, "STREAMS", "acd:{0}:in", ">")]
    reference = b"".join(redis.Redis().connection_pool.make_connection().pack_commands(commands))
    assert pack(commands) == reference
    head = prefix("EVAL", "return 1", 2, "acd:{0}:out", "clé")
    read = xreadgroup("engine", "engine-0", "acd:{0}:in", 100)
    assert pack([("MULTI",), (head, b"a\r\nb\n", 17, "é"), ("EXEC",), read(37)]) == reference
