"""SCALE-2 (engine side): a scoped `config.reload` (`numbers`) rebuilds only the listed
numbers' sections; a whole reload touches only what changed and, with the wall clock,
is read, checked and indexed off the hot path."""

from __future__ import annotations

import copy
import json
import threading
import time

import pytest

from engine.config import ConfigError, parse
from engine.layout import Layout
from engine.loader import DocumentSource
from engine.prepare import changes, digests
from engine.scenario import build_config
from engine.state import State
from engine.streams import Engine
from tests.engine.conftest import T0
from tests.engine.test_streams import IN, OUT, entries, xadd_all
from tests.waiting import wait_until

FIRST, SECOND = "+33100000000", "+33100000001"


def agent(n: int, a: int) -> str:
    return f"+3320{n:04d}{a:04d}"


def partial(doc: dict, *numbers: str) -> dict:
    """What the builder returns for a scoped reload: those sections and their lines."""
    return {"timezone": doc["timezone"], "lines": {},
            "numbers": {n: doc["numbers"][n] for n in numbers if n in doc["numbers"]}}


def views(layout: Layout) -> dict:
    """A layout's content, list order aside (nothing decides on it)."""
    return {"line_queues": {k: sorted(v) for k, v in layout.line_queues.items()},
            "line_queue_rests": {k: sorted(v) for k, v in layout.line_queue_rests.items()},
            "line_rests": layout.line_rests, "line_numbers": layout.line_numbers,
            "number_lines": layout.number_lines, "number_rest": layout.number_rest,
            "pickable": layout.pickable, "number_views": layout.number_views,
            "number_queues": layout.number_queues}


def busy_state(doc: dict) -> State:
    """Every agent registered, 12 calls per number (up to 10 ring, the others wait)."""
    s = State(parse(doc), 0, T0)
    for num in sorted(doc["numbers"]):
        for a in doc["numbers"][num]["profiles"]["q"]["agents"]:
            s.handle({"type": "line.registered", "ts": str(T0), "line": a["line"]}, T0)
        for c in range(12):
            s.handle({"type": "call.arrived", "ts": str(T0 + 1), "call": f"{num}-{c}",
                      "number": num, "caller": "+33612345678"}, T0 + 1)
    s.clear_dirty()
    return s


def test_scale2_scoped_reload_touches_only_the_listed_number():
    doc = build_config(100, 10, rest_s=0)
    s = busy_state(doc)
    untouched = {n: s.number_views[n] for n in doc["numbers"] if n != FIRST}
    new = copy.deepcopy(doc)
    new["numbers"][FIRST]["profiles"]["q"]["agents"].append(
        {"line": "+33299999999", "priority": 1, "weight": 1})
    s.handle({"type": "line.registered", "ts": str(T0 + 2), "line": "+33299999999"}, T0 + 2)
    s.clear_dirty()
    out = s.reload_numbers(parse(partial(new, FIRST)), [FIRST], T0 + 3)
    # the new agent of the first number takes one of its two waiting calls at once
    assert [(c["type"], c["line"]) for c in out.commands] == [("ring", "+33299999999")]
    assert s.dirty_numbers == {FIRST}
    assert all(s.number_views[n] is v for n, v in untouched.items())  # not even rebuilt
    assert s.config.numbers[SECOND] is not None and len(s.config.numbers) == 100
    # the same lookups as a document built from scratch
    assert views(s.layout) == views(Layout(parse(new)))


def test_scale2_scoped_reload_routes_again_calls_waiting_on_a_removed_queue():
    doc = build_config(3, 2, rest_s=0)
    s = busy_state(doc)
    waiting = sorted(c.id for c in s.calls.values() if c.number == FIRST
                     and c.status == "waiting")
    assert len(waiting) == 10
    new = copy.deepcopy(doc)
    new["numbers"][FIRST]["profiles"] = {"ferme": {"type": "announcement", "media": "ferme"}}
    new["numbers"][FIRST]["entry"] = "ferme"
    out = s.reload_numbers(parse(partial(new, FIRST)), [FIRST], T0 + 5)
    closed = [r["call"] for r in out.logs if r["type"] == "closed"]
    assert sorted(closed) == waiting  # announced, then hung up: routed again
    assert all(r["reason"] == "announcement" for r in out.logs if r["type"] == "closed")
    assert {c.number for c in s.calls.values() if c.status == "waiting"} == {
        "+33100000001", "+33100000002"}


def test_scale2_a_listed_number_missing_from_the_builder_is_gone():
    doc = build_config(3, 2, rest_s=0)
    s = busy_state(doc)
    out = s.reload_numbers(parse(partial(doc)), [FIRST], T0 + 5)
    assert FIRST not in s.config.numbers and FIRST not in s.number_views
    assert {r["reason"] for r in out.logs if r["type"] == "closed"} == {"unknown_number"}
    assert len([r for r in out.logs if r["type"] == "closed"]) == 10  # its waiting calls


def test_scale2_scoped_reloads_decide_like_a_whole_reload():
    """The same changes, applied as scoped reloads or as one whole reload, lead to the
    same commands afterwards."""
    doc = build_config(20, 5, rest_s=2)
    new = copy.deepcopy(doc)
    for n in ("+33100000003", "+33100000007"):
        q = new["numbers"][n]["profiles"]["q"]
        q["agents"] = q["agents"][1:] + [{"line": "+33288880000", "priority": 1, "weight": 2}]
        q["rest_s"] = 9
    del new["numbers"]["+33100000011"]
    changed = ["+33100000003", "+33100000007", "+33100000011"]
    scoped, whole = busy_state(doc), busy_state(doc)
    a = scoped.reload_numbers(parse(partial(new, *changed)), changed, T0 + 10)
    b = whole.reload(parse(new), T0 + 10)
    assert (a.commands, a.logs) == (b.commands, b.logs)
    assert scoped.dirty_numbers == whole.dirty_numbers == set(changed)
    for s in (scoped, whole):  # then traffic: answers, hang-ups, new calls
        for t, ev in enumerate([
                {"type": "line.registered", "line": "+33288880000"},
                {"type": "call.ended", "call": "+33100000003-0", "by": "caller"},
                {"type": "call.arrived", "call": "x1", "number": "+33100000007",
                 "caller": "1"},
                {"type": "call.arrived", "call": "x2", "number": "+33100000011",
                 "caller": "1"}]):
            ev["ts"] = str(T0 + 20 + t)
            s.handle(ev, T0 + 20 + t)
    for s in (scoped, whole):
        s._out.commands.clear()
    assert scoped.advance(T0 + 60_000).commands == whole.advance(T0 + 60_000).commands
    assert views(scoped.layout) == views(whole.layout)


def test_scale2_engine_asks_the_builder_for_the_listed_numbers_only(redis_conn):
    doc = build_config(50, 2)
    asked: list = []
    engine = Engine(redis_conn, lambda: asked.append("all") or parse(doc), clock="events",
                    load_numbers=lambda numbers: asked.append(numbers)
                    or parse(partial(doc, *numbers)))
    xadd_all(redis_conn, [{"type": "config.reload", "ts": str(T0), "numbers": FIRST},
                          {"type": "config.reload", "ts": str(T0 + 1),
                           "numbers": f"{FIRST},{SECOND}"},
                          {"type": "config.reload", "ts": str(T0 + 2), "numbers": ""}])
    engine.work(burst=True)
    assert asked == ["all", [FIRST], [FIRST, SECOND]]  # "all": the start; "": nothing to do
    xadd_all(redis_conn, [{"type": "config.reload", "ts": str(T0 + 3)}])
    engine.work(burst=True)
    assert asked[-1] == "all"


def test_scale2_whole_reload_is_prepared_off_the_hot_path(redis_conn):
    """Wall clock: while the whole document is being read and checked (here: held in the
    loader), calls keep being distributed; the swap comes when it is ready."""
    doc = build_config(5, 2, rest_s=0)
    new = copy.deepcopy(doc)
    new["numbers"][FIRST]["profiles"]["q"]["caller_preanswer"] = "nouveau"
    release, loading = threading.Event(), threading.Event()
    calls = {"n": 0}

    def load():
        calls["n"] += 1
        if calls["n"] == 1:
            return parse(doc)
        loading.set()
        assert release.wait(30)
        return parse(new)

    engine = Engine(redis_conn, load, clock="wall")
    engine.setup()
    worker = threading.Thread(target=engine.work, daemon=True)
    worker.start()
    try:
        now = str(int(time.time() * 1000))
        xadd_all(redis_conn, [{"type": "config.reload", "ts": now}])
        assert loading.wait(30)
        xadd_all(redis_conn, [{"type": "call.arrived", "ts": now, "call": "during",
                               "number": FIRST, "caller": "1"}])
        wait_until(lambda: any(e.get("call") == "during" for e in entries(redis_conn, OUT)))
        assert first_play(redis_conn, "during") == "bienvenue"  # the old document still
        release.set()
        wait_until(lambda: engine.state.config.numbers[FIRST].profiles["q"].caller_preanswer
                   == "nouveau")
        xadd_all(redis_conn, [{"type": "call.arrived", "ts": now, "call": "after",
                               "number": FIRST, "caller": "1"}])
        wait_until(lambda: any(e.get("call") == "after" for e in entries(redis_conn, OUT)))
        assert first_play(redis_conn, "after") == "nouveau"
    finally:
        engine.stopping = True
        release.set()
        worker.join(10)
    assert redis_conn.xinfo_groups(IN)[0]["pending"] == 0


def first_play(conn, call: str) -> str:
    return next(e["media"] for e in entries(conn, OUT) if e["call"] == call)


def test_scale2_whole_reload_helper_sends_back_only_changed_sections_checked(tmp_path):
    """The helper process's work (engine/prepare.py `changes`): the sections whose digest
    differs come back, checked; an invalid one refuses the document, naming its path."""
    doc = build_config(30, 3)
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    source = DocumentSource(str(path))
    known = digests(doc)
    new = copy.deepcopy(doc)
    new["numbers"][FIRST]["profiles"]["q"]["ring_s"] = 40
    del new["numbers"][SECOND]
    new["lines"] = {agent_line(new, 5): {"accept_queue_calls": False, "backup": None}}
    path.write_text(json.dumps(new))
    blob, fresh, gone, gone_groups = changes(source, known)
    sent = json.loads(blob)
    assert set(sent["numbers"]) == {FIRST} and gone == [SECOND] and gone_groups == []
    assert set(sent["lines"]) == set(new["lines"]) and set(fresh["numbers"]) == {FIRST}
    new["numbers"][FIRST]["profiles"]["q"]["size"] = 99
    path.write_text(json.dumps(new))
    with pytest.raises(ConfigError, match=r"numbers\.\+33100000000\.profiles\.q\.size"):
        changes(source, known)


def agent_line(doc: dict, n: int) -> str:
    return doc["numbers"][sorted(doc["numbers"])[n]]["profiles"]["q"]["agents"][0]["line"]


def test_scale2_whole_reload_in_file_mode_swaps_only_what_changed_in_order(
        redis_conn, tmp_path):
    """`--config` file mode, wall clock: the whole file is read by the helper process;
    the engine re-parses and re-indexes only the changed sections, events go on
    meanwhile, an invalid file leaves the running document in force."""
    doc = build_config(40, 3, rest_s=0)
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    engine = Engine(redis_conn, source=DocumentSource(str(path)), clock="wall")
    engine.setup()
    before = dict(engine.state.config.numbers)
    views_before = dict(engine.state.number_views)
    worker = threading.Thread(target=engine.work, daemon=True)
    worker.start()
    try:
        new = copy.deepcopy(doc)
        new["numbers"][FIRST]["profiles"]["q"]["caller_preanswer"] = "nouveau"
        path.write_text(json.dumps(new))
        now = str(int(time.time() * 1000))
        xadd_all(redis_conn, [{"type": "config.reload", "ts": now}])
        wait_until(lambda: engine.state.config.numbers[FIRST].profiles["q"].caller_preanswer
                   == "nouveau")
        numbers = engine.state.config.numbers
        assert all(numbers[n] is before[n] for n in before if n != FIRST)  # not re-parsed
        assert all(engine.state.number_views[n] is views_before[n]
                   for n in views_before if n != FIRST)  # not re-indexed
        xadd_all(redis_conn, [{"type": "call.arrived", "ts": now, "call": "after",
                               "number": FIRST, "caller": "1"}])
        wait_until(lambda: any(e.get("call") == "after" for e in entries(redis_conn, OUT)))
        assert first_play(redis_conn, "after") == "nouveau"
        # an invalid file: refused, the running document stays, events go on
        new["numbers"][SECOND]["profiles"]["q"]["size"] = 99
        path.write_text(json.dumps(new))
        running = engine.state.config
        xadd_all(redis_conn, [{"type": "config.reload", "ts": now},
                              {"type": "call.arrived", "ts": now, "call": "still",
                               "number": SECOND, "caller": "1"}])
        wait_until(lambda: any(e.get("call") == "still" for e in entries(redis_conn, OUT)))
        wait_until(lambda: engine._preparing is None)
        assert engine.state.config is running
    finally:
        engine.stopping = True
        worker.join(20)
    assert redis_conn.xinfo_groups(IN)[0]["pending"] == 0
