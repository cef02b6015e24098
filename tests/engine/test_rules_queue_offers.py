"""docs/requirements.md Q-7..Q-12 on the pure core, with an explicit clock (ms after T0): what
follows an offer (confirmation, rest, backup number, hold music, outcomes). Q-1..Q-6 (who
is offered which call) are in test_rules_queue.py."""

from __future__ import annotations

import pytest

from tests.engine.conftest import A1, A2, NUM, T0, Core, brief, number_doc, queue_doc

# ---------------------------------------------------------------- Q-7 confirmation


def confirm_core() -> Core:
    c = Core(queue_doc(confirm=True, callee_preanswer="annonce-agent", ring_s=10))
    c.register(A1, A2, at=0)
    c.arrive("c1", at=10)
    return c


def test_q7_ring_asks_for_confirmation_with_callee_media():
    c = confirm_core()
    ring = [cmd for cmd in c.commands if cmd["type"] == "ring"][0]
    assert (ring["confirm"], ring["callee_media"]) == ("1", "annonce-agent")
    assert ring["timeout_s"] == "10"


def test_q7_star_confirms_and_bridges():
    c = confirm_core()
    assert brief(c.ev("call.answered", at=20, call="c1", line=A1)) == []
    out = c.ev("call.key", at=30, call="c1", line=A1, key="*")
    assert brief(out) == [("bridge", "c1", A1)]
    assert c.outcomes("c1")[0]["type"] == "answered"


def test_q7_other_key_continues_scenario():
    c = confirm_core()
    c.ev("call.answered", at=20, call="c1", line=A1)
    out = c.ev("call.key", at=30, call="c1", line=A1, key="1")
    assert brief(out)[:2] == [("stop_ring", "c1", A1), ("ring", "c1", A2, "10", "1",
                                                       "annonce-agent")]
    assert c.offered("c1") == [("c1", A1, "declined")]


def test_q7_hanging_up_while_confirming_continues_scenario():
    c = confirm_core()
    c.ev("call.answered", at=20, call="c1", line=A1)
    out = c.ev("call.ring_failed", at=30, call="c1", line=A1, reason="declined")
    assert c.rings(out) == [("c1", A2)]
    assert ("stop_ring", "c1", A1) not in brief(out)


def test_q7_time_spent_confirming_counts_as_ring_time():
    c = confirm_core()
    c.ev("call.answered", at=5000, call="c1", line=A1)
    out = c.ev("clock", at=10010)  # 10 s after the ring started, confirmation pending
    assert brief(out)[0] == ("stop_ring", "c1", A1)
    assert c.offered("c1") == [("c1", A1, "timeout")]


# ---------------------------------------------------------------- Q-8 rest


def test_q8_agent_rests_after_a_bridged_call():
    c = Core(queue_doc(agents=[(A1, 1, 1)], rest_s=10))
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    c.ev("call.answered", at=20, call="c1", line=A1)
    c.ev("call.ended", at=1000, call="c1", by="caller")
    assert c.rings(c.arrive("c2", at=2000)) == []
    assert c.state.snapshot(NUM)["agents"][0]["state"] == "resting"
    out = c.ev("clock", at=11000)  # rest ends at 11000: the timer fires on time
    assert c.rings(out) == [("c2", A1)]
    assert out.commands[0]["ts"] == str(T0 + 11000)


def test_q8_agent_rests_after_an_external_call():
    c = Core(queue_doc(agents=[(A1, 1, 1)], rest_s=30))
    c.register(A1, at=0)
    c.ev("line.busy", at=10, line=A1)
    c.ev("line.idle", at=100, line=A1)
    assert c.rings(c.arrive("c1", at=29000)) == []
    assert c.rings(c.ev("clock", at=30100)) == [("c1", A1)]


def test_q8_each_queue_applies_its_own_rest_delay():
    n2 = "+33100000002"
    doc = queue_doc(agents=[(A1, 1, 1)], rest_s=60)
    doc["numbers"][n2] = {"entry": "q", "profiles": {"q": dict(
        doc["numbers"][NUM]["profiles"]["jour"], rest_s=5)}}
    c = Core(doc)
    c.register(A1, at=0)
    c.ev("line.busy", at=10, line=A1)
    c.ev("line.idle", at=1000, line=A1)
    c.arrive("long", at=2000)  # NUM: rest 60 s
    c.arrive("short", at=3000, number=n2)  # n2: rest 5 s
    out = c.ev("clock", at=6000)
    assert c.rings(out) == [("short", A1)]  # although "long" waited longer
    c.ev("call.answered", at=6500, call="short", line=A1)
    c.ev("call.ended", at=7000, call="short", by="caller")
    assert c.rings(c.ev("clock", at=66000)) == []  # rest restarted at 7000
    assert c.rings(c.ev("clock", at=67000)) == [("long", A1)]


def test_q8_offers_that_were_not_bridged_do_not_start_a_rest():
    c = Core(queue_doc(agents=[(A1, 1, 1)], rest_s=60, ring_s=5))
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    c.ev("call.ring_failed", at=20, call="c1", line=A1, reason="declined")
    assert c.rings() == [("c1", A1), ("c1", A1)]  # new round at once: no rest


def test_q8_resting_agent_still_gets_ring_all_calls():
    doc = number_doc({"q": queue_doc(agents=[(A1, 1, 1)], rest_s=60)["numbers"][NUM][
        "profiles"]["jour"], "tous": {"type": "ring_all", "lines": [A1], "ring_s": 10,
                                      "then": None}}, "tous")
    c = Core(doc)
    c.register(A1, at=0)
    c.ev("line.busy", at=10, line=A1)
    c.ev("line.idle", at=20, line=A1)
    assert c.rings(c.arrive("c1", at=30)) == [("c1", A1)]


# ---------------------------------------------------------------- Q-9 backup number


def test_q9_unreachable_line_forwards_to_its_backup_number():
    c = Core(queue_doc(lines={A1: {"backup": "+33600000001"}}))
    c.register(A1, A2, at=0)
    c.arrive("c1", at=10)
    out = c.ev("call.ring_failed", at=20, call="c1", line=A1, reason="unreachable")
    assert brief(out) == [("forward", "c1", "+33600000001")]
    assert c.outcomes("c1") == [{"type": "forwarded", "ts": str(T0 + 20), "number": NUM,
                                 "call": "c1", "line": A1, "to": "+33600000001",
                                 "wait_ms": "10", "caller": "+33612345678",
                                 "profile": "jour"}]


@pytest.mark.parametrize("reason", ["busy", "declined"])
def test_q9_other_failures_never_follow_forwarding(reason):
    c = Core(queue_doc(lines={A1: {"backup": "+33600000001"}}))
    c.register(A1, A2, at=0)
    c.arrive("c1", at=10)
    out = c.ev("call.ring_failed", at=20, call="c1", line=A1, reason=reason)
    assert brief(out) == [("ring", "c1", A2, "20", "0", "")]


def test_q9_unreachable_without_backup_continues_scenario():
    c = Core(queue_doc())
    c.register(A1, A2, at=0)
    c.arrive("c1", at=10)
    out = c.ev("call.ring_failed", at=20, call="c1", line=A1, reason="unreachable")
    assert c.rings(out) == [("c1", A2)]
    assert c.offered("c1") == [("c1", A1, "failed")]


# ----------------------------------------------------------------


def test_q10_no_maximum_waiting_time():
    c = Core(queue_doc())
    c.arrive("c1", at=0)
    c.ev("clock", at=3 * 24 * 3600 * 1000)
    assert c.outcomes() == [] and c.state.calls["c1"].status == "waiting"


def test_q11_caller_preanswer_plays_first_then_hold_music():
    c = Core(queue_doc(caller_preanswer="bienvenue", music="jazz"))
    out = c.arrive("c1", at=0)
    assert brief(out) == [("play", "c1", "bienvenue"), ("play", "c1", "jazz")]


def test_q11_default_hold_music_and_none_when_offered_at_once():
    c = Core(queue_doc())
    assert brief(c.arrive("c1", at=0)) == [("play", "c1", "default")]
    c2 = Core(queue_doc())
    c2.register(A1, at=0)
    assert [cmd["type"] for cmd in c2.arrive("c1", at=10).commands] == ["ring"]


def test_q11_hold_music_starts_once_when_offer_fails_and_call_waits():
    c = Core(queue_doc(agents=[(A1, 1, 1)], rest_s=0))
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    out = c.ev("line.unregistered", at=20, line=A1)
    assert brief(out) == [("stop_ring", "c1", A1), ("play", "c1", "default")]


# ---------------------------------------------------------------- Q-12 outcomes


def test_q12_answered_outcome_at_bridge_and_completed_at_end():
    c = Core(queue_doc())
    c.register(A1, at=0)
    c.arrive("c1", at=100)
    c.ev("call.answered", at=2100, call="c1", line=A1)
    c.ev("call.ended", at=62100, call="c1", by="agent")
    types = [(r["type"], r.get("line"), r.get("wait_ms") or r.get("talk_ms") or r.get("ring_ms"))
             for r in c.logs]
    assert types == [("offered", A1, "2000"), ("answered", A1, "2000"),
                     ("completed", A1, "60000")]


def test_q12_abandoned_while_waiting_and_while_ringing():
    c = Core(queue_doc(agents=[(A1, 1, 1)]))
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    c.arrive("c2", at=20)
    out1 = c.ev("call.ended", at=1010, call="c1", by="caller")  # ringing
    assert ("stop_ring", "c1", A1) not in brief(out1)  # the leg is already gone
    assert c.offered("c1") == [("c1", A1, "cancelled")]
    c.ev("call.ended", at=5020, call="c2", by="caller")
    assert [(r["call"], r["type"], r["wait_ms"]) for r in c.outcomes()] == [
        ("c1", "abandoned", "1000"), ("c2", "abandoned", "5000")]


def test_q12_duplicate_arrival_is_ignored():
    c = Core(queue_doc())
    c.arrive("c1", at=0)
    assert brief(c.arrive("c1", at=10)) == []
    c.ev("call.ended", at=20, call="c1", by="caller")
    assert brief(c.arrive("c1", at=30)) == []
    assert len(c.outcomes("c1")) == 1


@pytest.mark.parametrize("kind, fields", [
    ("call.answered", {"line": A1}), ("call.ended", {"by": "caller"}),
    ("call.key", {"line": "", "key": "1"}), ("call.ring_failed", {"line": A1, "reason": "busy"}),
    ("call.pickup", {"line": A1}), ("call.transfer", {"to": A2}), ("call.hold", {}),
    ("call.resume", {}),
])
def test_q12_events_for_unknown_or_finished_calls_change_nothing(kind, fields):
    c = Core(queue_doc())
    c.register(A1, at=0)
    c.arrive("done", at=10)
    c.ev("call.answered", at=20, call="done", line=A1)
    c.ev("call.ended", at=30, call="done", by="caller")
    logs = list(c.logs)
    for cid in ("done", "never"):
        out = c.ev(kind, at=40, call=cid, **fields)
        assert brief(out) == [] and out.ignored is None
    assert c.logs == logs


def test_q12_call_to_unknown_number_is_closed_once():
    c = Core(queue_doc())
    out = c.arrive("c1", at=0, number="+33199999999")
    assert brief(out) == [("hangup", "c1")]
    assert [r["type"] for r in c.outcomes("c1")] == ["closed"]
