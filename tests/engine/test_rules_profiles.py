"""WN-1/WN-2 profile types, time rules, switchboard events and docs/protocol.md edge cases."""

from __future__ import annotations

import json

import pytest

from engine.codec import call_to_dict
from engine.state import restore
from tests.engine.conftest import A1, A2, A3, NUM, T0, Core, brief, number_doc, queue_doc

ANNONCE = {"type": "announcement", "media": "ferme"}


def ring_all(then=None, **kw):
    return {"type": "ring_all", "lines": [A1, A2, A3], "ring_s": 10, "then": then, **kw}


# ---------------------------------------------------------------- ring_all


def test_wn2_ring_all_rings_every_available_line_first_answer_wins():
    c = Core(number_doc({"tous": ring_all()}, "tous"))
    c.register(A1, A2, at=0)
    assert c.rings(c.arrive("c1", at=10)) == [("c1", A1), ("c1", A2)]
    out = c.ev("call.answered", at=20, call="c1", line=A2)
    assert brief(out) == [("stop_ring", "c1", A1), ("bridge", "c1", A2)]
    assert c.offered("c1") == [("c1", A1, "cancelled"), ("c1", A2, "answered")]


def test_wn2_ring_all_goes_to_then_when_nobody_answers():
    c = Core(number_doc({"tous": ring_all(then="nuit"), "nuit": ANNONCE}, "tous"))
    c.register(A1, A2, at=0)
    c.arrive("c1", at=10)
    out = c.ev("clock", at=10010)
    assert brief(out) == [("stop_ring", "c1", A1), ("stop_ring", "c1", A2),
                          ("play", "c1", "ferme"), ("hangup", "c1")]
    assert [r["type"] for r in c.outcomes("c1")] == ["closed"]


def test_wn2_ring_all_with_no_available_line_goes_to_then_at_once():
    c = Core(number_doc({"tous": ring_all(then=None)}, "tous"))
    assert brief(c.arrive("c1", at=0)) == [("hangup", "c1")]
    assert c.outcomes("c1")[0]["reason"] == "no_answer"


def test_wn2_ring_all_all_offers_failing_goes_to_then():
    c = Core(number_doc({"tous": ring_all(then=None)}, "tous"))
    c.register(A1, A2, at=0)
    c.arrive("c1", at=10)
    assert brief(c.ev("call.ring_failed", at=20, call="c1", line=A1, reason="busy")) == []
    out = c.ev("call.ring_failed", at=30, call="c1", line=A2, reason="declined")
    assert brief(out) == [("hangup", "c1")]


# ---------------------------------------------------------------- sequential


def test_wn2_sequential_rings_lines_one_by_one_in_order_skipping_unavailable():
    prof = {"type": "sequential", "lines": [A1, A2, A3], "ring_s": 5, "then": None}
    c = Core(number_doc({"seq": prof}, "seq"))
    c.register(A1, A3, at=0)
    assert c.rings(c.arrive("c1", at=10)) == [("c1", A1)]
    out = c.ev("clock", at=5010)
    assert brief(out) == [("stop_ring", "c1", A1), ("ring", "c1", A3, "5", "0", "")]
    out = c.ev("call.ring_failed", at=6000, call="c1", line=A3, reason="declined")
    assert brief(out) == [("hangup", "c1")]


# ---------------------------------------------------------------- menu and announcement


def menu_doc():
    return number_doc({
        "menu": {"type": "menu", "media": "choix", "keys": {"1": "jour", "2": "nuit"},
                 "timeout_s": 10, "then": "nuit", "caller_preanswer": "bonjour"},
        "jour": queue_doc()["numbers"][NUM]["profiles"]["jour"],
        "nuit": ANNONCE}, "menu")


def test_wn2_menu_plays_media_and_key_leads_to_profile():
    c = Core(menu_doc())
    assert brief(c.arrive("c1", at=0)) == [("play", "c1", "bonjour"), ("play", "c1", "choix")]
    assert c.state.snapshot(NUM)["menu"][0]["call"] == "c1"
    out = c.ev("call.key", at=2000, call="c1", line="", key="1")
    assert brief(out) == [("play", "c1", "default")]  # now waiting in queue "jour"
    assert c.state.calls["c1"].profile == "jour"


@pytest.mark.parametrize("step", [("call.key", {"call": "c1", "line": "", "key": "9"}),
                                  ("clock", {})])
def test_wn2_menu_unknown_key_or_timeout_goes_to_then(step):
    c = Core(menu_doc())
    c.arrive("c1", at=0)
    kind, fields = step
    out = c.ev(kind, at=10000, **fields)
    assert brief(out) == [("play", "c1", "ferme"), ("hangup", "c1")]


def test_wn2_announcement_plays_then_hangs_up_closed():
    c = Core(number_doc({"nuit": ANNONCE}, "nuit"))
    assert brief(c.arrive("c1", at=0)) == [("play", "c1", "ferme"), ("hangup", "c1")]
    assert c.outcomes("c1")[0]["type"] == "closed"


def test_then_loop_without_time_passing_is_cut_after_16_steps():
    doc = number_doc({"a": ring_all(then="b"), "b": {**ring_all(then="a"),
                                                     "caller_preanswer": "x"}}, "a")
    c = Core(doc)
    out = c.arrive("c1", at=0)
    assert [cmd["type"] for cmd in out.commands] == ["play"] * 8 + ["hangup"]
    assert c.outcomes("c1")[0]["reason"] == "loop"


def test_then_chain_counter_restarts_when_time_passes():
    doc = number_doc({"a": ring_all(then="a")}, "a")
    c = Core(doc)
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    for i in range(1, 20):  # 19 ring-outs, each after time passed: never cut
        c.ev("clock", at=10 + 10000 * i)
    assert c.outcomes("c1") == [] and len(c.rings()) == 20


# ---------------------------------------------------------------- time rules (WN-1)


def rules_doc():
    rules = [{"days": [0, 1, 2, 3, 4], "from": "09:00", "to": "18:00", "profile": "jour"},
             {"date": "2026-01-05", "from": "10:30", "to": "12:00", "profile": "ferie"}]
    return number_doc({"jour": queue_doc()["numbers"][NUM]["profiles"]["jour"], "nuit": ANNONCE,
                       "ferie": {"type": "announcement", "media": "ferie"}}, "nuit", rules)


@pytest.mark.parametrize("offset_h, profile", [
    (0, "ferie"),  # Monday 11:00 Paris: dated rule wins over the weekly one
    (1.5, "jour"),  # 12:30
    (-1.75, "jour"),  # 09:15 Paris
    (-2.5, "nuit"),  # 08:30 Paris (07:30 UTC): no rule matches -> entry
    (7, "nuit"),  # 18:00: `to` is exclusive
    (5 * 24, "nuit"),  # Saturday
])
def test_wn1_time_rules_dated_before_weekly_in_document_timezone(offset_h, profile):
    c = Core(rules_doc(), now=T0 - 10 * 3600 * 1000)
    c.arrive("c1", at=int(offset_h * 3600 * 1000))
    played = [cmd.get("media") for cmd in c.commands]
    expected = {"jour": "default", "nuit": "ferme", "ferie": "ferie"}[profile]
    assert played[0] == expected


# ---------------------------------------------------------------- switchboard (SWB-2)


def test_swb_pickup_of_waiting_call_bridges_to_that_line():
    c = Core(queue_doc())
    c.arrive("c1", at=0)
    out = c.ev("call.pickup", at=3000, call="c1", line=A3)
    assert brief(out) == [("bridge", "c1", A3)]
    assert c.outcomes("c1")[0] == {"type": "answered", "ts": str(T0 + 3000), "number": NUM,
                                   "call": "c1", "line": A3, "wait_ms": "3000",
                                   "caller": "+33612345678", "profile": "jour"}
    assert c.state.calls["c1"].status == "bridged"


def test_swb_pickup_of_ringing_call_stops_the_ring_cancelled():
    c = Core(queue_doc())
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    out = c.ev("call.pickup", at=20, call="c1", line=A3)
    assert brief(out) == [("stop_ring", "c1", A1), ("bridge", "c1", A3)]
    assert c.offered("c1") == [("c1", A1, "cancelled")]


def test_swb_transfer_of_waiting_call_and_not_of_connected_call():
    c = Core(queue_doc())
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    c.arrive("c2", at=20)
    out = c.ev("call.transfer", at=30, call="c2", to="+33611111111")
    assert brief(out) == [("transfer", "c2", "+33611111111")]
    assert c.outcomes("c2")[0]["type"] == "transferred"
    c.ev("call.answered", at=40, call="c1", line=A1)
    assert brief(c.ev("call.transfer", at=50, call="c1", to="+33611111111")) == []


def test_swb_hold_and_resume_a_bridged_call():
    c = Core(queue_doc())
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    assert brief(c.ev("call.hold", at=15, call="c1")) == []  # not bridged yet
    c.ev("call.answered", at=20, call="c1", line=A1)
    assert brief(c.ev("call.hold", at=30, call="c1")) == [("hold", "c1")]
    assert c.state.snapshot(NUM)["bridged"][0]["held"] is True
    assert brief(c.ev("call.hold", at=31, call="c1")) == []
    assert brief(c.ev("call.resume", at=40, call="c1")) == [("resume", "c1")]


# ---------------------------------------------------------------- protocol hygiene


@pytest.mark.parametrize("event", [
    {"type": "bogus", "ts": "1"},
    {"ts": "1"},
    {"type": "call.arrived", "ts": "x", "call": "c", "number": NUM},
    {"type": "call.arrived", "ts": "1", "number": NUM},
    {"type": "call.ring_failed", "ts": "1", "call": "c", "line": A1, "reason": "weird"},
    {"type": "call.key", "ts": "1", "call": "c", "key": "1"},
])
def test_malformed_or_unknown_events_are_reported_and_change_nothing(event):
    c = Core(queue_doc())
    out = c.state.handle(event, T0)
    assert out.ignored and out.commands == [] and out.logs == [] and not c.state.calls


def test_clock_event_only_advances_time():
    c = Core(queue_doc())
    out = c.ev("clock", at=5000)
    assert brief(out) == [] and c.state.now == T0 + 5000


def test_unregistered_while_ringing_stops_the_ring_and_continues():
    c = Core(queue_doc())
    c.register(A1, A2, at=0)
    c.arrive("c1", at=10)
    out = c.ev("line.unregistered", at=20, line=A1)
    assert brief(out) == [("stop_ring", "c1", A1), ("ring", "c1", A2, "20", "0", "")]
    assert c.offered("c1") == [("c1", A1, "failed")]


def test_snapshot_shape_for_the_switchboard():
    c = Core(queue_doc(agents=[(A1, 1, 1), (A2, 1, 1), (A3, 1, 1)], rest_s=10))
    c.register(A1, A2, at=0)
    c.arrive("c1", at=10)
    c.arrive("c2", at=20)
    c.ev("call.answered", at=30, call="c1", line=A1)
    c.ev("call.ended", at=40, call="c1", by="caller")
    c.arrive("c3", at=50)
    snap = json.loads(json.dumps(c.state.snapshot(NUM)))
    assert snap == {
        "number": NUM, "ts": T0 + 50,
        "waiting": [{"call": "c3", "caller": "+33612345678", "profile": "jour",
                     "arrived_ms": T0 + 50, "position": 1, "queued_ms": T0 + 50}],
        "ringing": [{"call": "c2", "caller": "+33612345678", "profile": "jour",
                     "arrived_ms": T0 + 20, "lines": [A2], "since_ms": T0 + 20}],
        "menu": [], "bridged": [],
        "agents": [
            {"line": A1, "state": "resting", "call": None, "external": False,
             "rest_until_ms": T0 + 10040, "rests": None, "pause_reason": None,
             "paused_since_ms": None},
            {"line": A2, "state": "ringing", "call": "c2", "external": False,
             "rest_until_ms": None, "rests": None, "pause_reason": None,
             "paused_since_ms": None},
            {"line": A3, "state": "offline", "call": None, "external": False,
             "rest_until_ms": None, "rests": None, "pause_reason": None,
             "paused_since_ms": None}]}


def test_snapshot_json_is_exactly_the_json_of_the_snapshot():
    """The shell publishes State.snapshot_json, built by hand for speed: it must be the
    very text of json.dumps(snapshot) (compact, UTF-8), odd strings included."""
    odd = 'é"\\\n\x01☎ "x"'
    c = Core(queue_doc(agents=[(A1, 1, 1), (A2, 1, 1), (A3, 1, 1)], rest_s=10))
    c.register(A1, A2, at=0)
    c.ev("call.arrived", at=10, call="c" + odd, number=NUM, caller=odd)
    c.arrive("c2", at=20)
    c.ev("call.answered", at=30, call="c" + odd, line=A1)
    c.arrive("c3", at=50)
    c.ev("line.busy", at=60, line=A3)
    snap = c.state.snapshot(NUM)
    assert snap["bridged"][0]["caller"] == odd and snap["agents"][0]["call"] == "c" + odd
    for number in (NUM, "+33199999999"):  # and a number absent from the document
        expected = json.dumps(c.state.snapshot(number), separators=(",", ":"),
                              ensure_ascii=False)
        assert c.state.snapshot_json(number) == expected


def test_q12_restored_state_behaves_exactly_like_the_original():
    """Crash recovery: entities round-trip through JSON and the indices rebuild."""
    doc = queue_doc(agents=[(A1, 1, 1), (A2, 2, 3), (A3, 1, 2)], mode="random", rest_s=5,
                    ring_s=5, size=3)
    script = [("line.registered", {"line": A1}), ("line.registered", {"line": A2}),
              ("call.arrived", {"call": "x1", "number": NUM, "caller": "1"}),
              ("call.arrived", {"call": "x2", "number": NUM, "caller": "2"}),
              ("call.arrived", {"call": "x3", "number": NUM, "caller": "3"}),
              ("line.busy", {"line": A3}), ("line.registered", {"line": A3}),
              ("line.idle", {"line": A3})]
    tail = [("clock", {}), ("call.answered", {"call": "x3", "line": A1}),
            ("call.arrived", {"call": "x4", "number": NUM, "caller": "4"}),
            ("clock", {}), ("call.ended", {"call": "x1", "by": "caller"}), ("clock", {})]
    a = Core(doc, seed=5)
    for i, (kind, f) in enumerate(script):
        a.ev(kind, at=i * 1000, **f)
    s = a.state
    b_state = restore(s.config, 5, s.now, s.seq,
                      [json.loads(json.dumps(call_to_dict(x))) for x in s.calls.values()],
                      [json.loads(json.dumps(x.__dict__)) for x in s.agents.values()], s.done)
    b = Core(doc, seed=5)
    b.state, b.now = b_state, a.now
    for i, (kind, f) in enumerate(tail):
        at = (len(script) + i) * 3000
        assert a.ev(kind, at=at, **f) == b.ev(kind, at=at, **f)
