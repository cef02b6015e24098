"""The engine over a real Redis (docs/protocol.md "Keys"), run as `python -m engine`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from engine import streams as engine_streams
from engine.config import parse
from engine.scenario import build_config, scenario
from engine.state import State
from engine.streams import Engine
from tests.engine.conftest import A1, A2, NUM, T0, queue_doc
from tests.waiting import wait_until

ROOT = Path(__file__).parents[2]
IN, OUT, LOG, STATE = "acd:{0}:in", "acd:{0}:out", "acd:{0}:log", "acd:{0}:state"
OUTCOMES = {"answered", "abandoned", "rejected", "forwarded", "transferred", "closed"}


def start_engine(url: str, config: Path, tmp_path: Path, *extra: str,
                 name: str = "engine") -> subprocess.Popen:
    with open(tmp_path / f"{name}.err", "ab") as err:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "engine", "--redis-url", url, "--config", str(config),
             "--clock", "events", *extra], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def write_doc(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    return path


def xadd_all(conn: redis.Redis, events: list[dict]) -> None:
    pipe = conn.pipeline(transaction=False)
    for ev in events:
        pipe.xadd(IN, ev)
    pipe.execute()


def caught_up(conn: redis.Redis) -> bool:
    groups = conn.xinfo_groups(IN) if conn.exists(IN) else []
    last = conn.xinfo_stream(IN)["last-generated-id"] if groups else None
    return bool(groups) and groups[0]["pending"] == 0 and groups[0]["last-delivered-id"] == last


def entries(conn: redis.Redis, key: str) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in f.items()} for _, f in conn.xrange(key)]


def expected_output(doc: dict, events: list[dict], seed: int = 0):
    """What the pure core emits for these events with the events clock."""
    state = State(parse(doc), seed, 0)
    cmds, logs = [], []
    for ev in events:
        ts = ev.get("ts", "")
        out = state.handle(ev, max(state.now, int(ts)) if ts.isdigit() else state.now)
        cmds += out.commands
        logs += out.logs
    return cmds, logs


def test_q12_kill_9_mid_burst_then_restart_loses_and_repeats_nothing(
        redis_url, redis_conn, tmp_path):
    conn = redis_conn
    doc = build_config(20, 5, rest_s=3)
    events = scenario(cfg := parse(doc), 1500, T0, State(cfg, 0, T0), seed=3, gap_ms=150)
    path = write_doc(tmp_path, doc)
    xadd_all(conn, events)
    kills = 0
    for round_ in range(3):  # kill -9 twice in the middle of the burst, then finish
        proc = start_engine(redis_url, path, tmp_path, "--batch", "20")
        if round_ < 2:
            target = len(events) * (round_ + 1) // 3
            wait_until(lambda t=target: conn.xinfo_groups(IN)
                       and (conn.xinfo_groups(IN)[0]["entries-read"] or 0) >= t)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
            assert not caught_up(conn)
        else:
            wait_until(lambda: caught_up(conn), 60)
            proc.terminate()
            assert proc.wait(10) == 0
    cmds, logs = expected_output(doc, events)
    assert entries(conn, OUT) == cmds  # nothing lost, nothing emitted twice, same order
    assert entries(conn, LOG) == logs
    arrived = {e["call"] for e in events if e["type"] == "call.arrived"}
    per_call = Counter(r["call"] for r in entries(conn, LOG) if r["type"] in OUTCOMES)
    live = {k.decode() for k in conn.hkeys("acd:{0}:calls")}
    assert all(per_call[c] == 1 for c in arrived - live)  # exactly one outcome
    assert all(per_call[c] <= 1 for c in live) and kills == 2


def test_q12_kill_9_while_events_trickle_in_then_restart_loses_and_repeats_nothing(
        redis_url, redis_conn, tmp_path):
    """Events one or two at a time, as at 2,000 events/s: the engine has caught up and
    sends each batch's MULTI/EXEC with the blocking read of the next events
    (engine/wire.py); killed twice meanwhile, it still emits exactly what the core does."""
    conn = redis_conn
    doc = build_config(20, 5, rest_s=3)
    events = scenario(cfg := parse(doc), 300, T0, State(cfg, 0, T0), seed=5, gap_ms=150)
    path = write_doc(tmp_path, doc)
    fed = threading.Event()

    def feed() -> None:
        feeder = redis.Redis.from_url(redis_url)
        i, size = 0, 1
        while i < len(events):
            xadd_all(feeder, events[i:i + size])  # one entry, then two, then one...
            i, size = i + size, 3 - size
            time.sleep(0.001)  # the pace is what is tested: a caught-up engine
        feeder.close()
        fed.set()

    proc = start_engine(redis_url, path, tmp_path)
    wait_until(lambda: conn.exists(IN))
    thread = threading.Thread(target=feed)
    thread.start()
    for third in (1, 2):  # kill -9 twice while the events trickle in, then finish
        target = len(events) * third // 3
        wait_until(lambda t=target: (conn.xinfo_groups(IN)[0]["entries-read"] or 0) >= t)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc = start_engine(redis_url, path, tmp_path)
    thread.join(30)
    wait_until(lambda: fed.is_set() and caught_up(conn), 60)
    proc.terminate()
    assert proc.wait(10) == 0
    cmds, logs = expected_output(doc, events)
    assert entries(conn, OUT) == cmds  # nothing lost, nothing emitted twice, same order
    assert entries(conn, LOG) == logs


def test_malformed_and_unknown_entries_are_acknowledged_logged_once_and_ignored(
        redis_url, redis_conn, tmp_path):
    conn = redis_conn
    path = write_doc(tmp_path, queue_doc())
    xadd_all(conn, [{"type": "bogus", "ts": str(T0)}, {"foo": "bar"},
                    {"type": "call.arrived", "ts": "soon", "call": "x", "number": NUM},
                    {"type": "line.registered", "ts": str(T0), "line": A1},
                    {"type": "call.arrived", "ts": str(T0 + 1), "call": "c1", "number": NUM,
                     "caller": "+33612345678"}])
    proc = start_engine(redis_url, path, tmp_path)
    wait_until(lambda: caught_up(conn))
    proc.terminate()
    assert proc.wait(10) == 0
    assert [(c["type"], c["line"]) for c in entries(conn, OUT)] == [("ring", A1)]
    err = (tmp_path / "engine.err").read_text()
    assert err.count("ignored") == 3 and "unknown type 'bogus'" in err


def test_sigterm_finishes_the_batch_and_exits_cleanly(redis_url, redis_conn, tmp_path):
    conn = redis_conn
    doc = build_config(10, 4)
    events = scenario(cfg := parse(doc), 800, T0, State(cfg, 0, T0), seed=5, gap_ms=300)
    path = write_doc(tmp_path, doc)
    xadd_all(conn, events)
    proc = start_engine(redis_url, path, tmp_path, "--batch", "10")
    wait_until(lambda: conn.xlen(OUT) > 50)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert conn.xinfo_groups(IN)[0]["pending"] == 0  # the batch in hand was finished
    assert "stopped cleanly" in (tmp_path / "engine.err").read_text()


def test_invalid_config_is_refused_at_start_naming_the_path(redis_url, tmp_path):
    path = write_doc(tmp_path, queue_doc(size=12))
    proc = start_engine(redis_url, path, tmp_path)
    assert proc.wait(20) == 2
    assert f"numbers.{NUM}.profiles.jour.size: must be 1..10" in (
        tmp_path / "engine.err").read_text()


def test_without_config_and_without_the_web_builder_exits_with_a_clear_error(monkeypatch):
    from engine.loader import config_loader
    monkeypatch.setitem(sys.modules, "webapp.services.engine_config", None)
    with pytest.raises(SystemExit, match="pass --config"):
        config_loader(None)


def test_snapshot_per_number_and_config_reload(redis_conn, tmp_path):
    doc = queue_doc(agents=[(A1, 1, 1)])
    path = write_doc(tmp_path, doc)
    from engine.config import load_file
    engine = Engine(redis_conn, lambda: load_file(path), clock="events")
    xadd_all(redis_conn, [
        {"type": "line.registered", "ts": str(T0), "line": A1},
        {"type": "call.arrived", "ts": str(T0 + 10), "call": "c1", "number": NUM, "caller": "1"},
        {"type": "call.arrived", "ts": str(T0 + 20), "call": "c2", "number": NUM, "caller": "2"}])
    assert engine.work(burst=True) == 3
    snap = json.loads(redis_conn.hget(STATE, NUM))
    assert [w["call"] for w in snap["waiting"]] == ["c2"]
    assert snap["ringing"][0]["lines"] == [A1]
    # A2 joins the queue: after config.reload the waiting call rings it
    path.write_text(json.dumps(queue_doc(agents=[(A1, 1, 1), (A2, 1, 1)])))
    xadd_all(redis_conn, [{"type": "line.registered", "ts": str(T0 + 30), "line": A2},
                          {"type": "config.reload", "ts": str(T0 + 40)}])
    engine.work(burst=True)
    assert entries(redis_conn, OUT)[-1] == {"type": "ring", "ts": str(T0 + 40), "call": "c2",
                                            "line": A2, "timeout_s": "20", "confirm": "0",
                                            "callee_media": ""}
    assert redis_conn.hkeys("acd:{0}:calls") and json.loads(
        redis_conn.hget(STATE, NUM))["waiting"] == []


def test_pending_entries_are_handled_first_on_restart(redis_conn):
    doc = queue_doc()
    xadd_all(redis_conn, [{"type": "line.registered", "ts": str(T0), "line": A1},
                          {"type": "call.arrived", "ts": str(T0 + 1), "call": "c1",
                           "number": NUM, "caller": "1"}])
    redis_conn.xgroup_create(IN, "engine", id="0")
    redis_conn.xreadgroup("engine", "engine-0", {IN: ">"}, count=10)  # read, then "crashed"
    engine = Engine(redis_conn, lambda: parse(doc), clock="events")
    assert engine.work(burst=True) == 2
    assert [c["type"] for c in entries(redis_conn, OUT)] == ["ring"]
    assert redis_conn.xinfo_groups(IN)[0]["pending"] == 0


def test_q8_wall_clock_fires_rest_end_on_time(redis_url, redis_conn, tmp_path):
    conn = redis_conn
    path = write_doc(tmp_path, queue_doc(agents=[(A1, 1, 1)], rest_s=1))
    now = int(time.time() * 1000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "--redis-url", redis_url, "--config", str(path)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        xadd_all(conn, [{"type": "line.registered", "ts": str(now), "line": A1},
                        {"type": "line.busy", "ts": str(now), "line": A1},
                        {"type": "line.idle", "ts": str(now), "line": A1},
                        {"type": "call.arrived", "ts": str(now), "call": "c1", "number": NUM,
                         "caller": "1"}])
        wait_until(lambda: any(c["type"] == "ring" for c in entries(conn, OUT)), 10)
        ring = [c for c in entries(conn, OUT) if c["type"] == "ring"][0]
        idle = [c for c in entries(conn, OUT) if c["type"] == "play"][0]
        assert int(ring["ts"]) - int(idle["ts"]) >= 900  # waited for the rest to end
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_simulator_drives_the_engine_and_writes_cdrs(redis_url, redis_conn, tmp_path):
    """The demo pair: `python -m engine` (wall clock) + the simulator, for two seconds."""
    from engine.config import load_file
    from engine.simulator import Simulator
    path = ROOT / "engine" / "demo_config.json"
    with open(tmp_path / "engine.err", "ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "--redis-url", redis_url, "--config", str(path)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_until(lambda: redis_conn.exists(IN), 10)
        sim = Simulator(redis_conn, load_file(path), rate_per_min=600, answer_s=(0.05, 0.2),
                        talk_s=0.3, external_per_hour=3600, seed=4)
        sim.run(duration_s=2.0, summary_every_s=10)
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
    logs = entries(redis_conn, LOG)
    assert {r["type"] for r in logs} & OUTCOMES
    assert Counter(r["call"] for r in logs if r["type"] in OUTCOMES).most_common(1)[0][1] == 1
    cdrs = entries(redis_conn, "pbx:cdr")
    assert cdrs and set(cdrs[0]) == {"line", "direction", "peer", "started_ms", "answered_ms",
                                     "ended_ms", "status", "call"}


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
