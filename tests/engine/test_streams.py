"""The engine over a real Redis (docs/protocol.md "Keys"), run as `python -m engine`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

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


