"""docs/requirements.md Q-1..Q-6 on the pure core, with an explicit clock (ms after T0): who is
offered which call. What follows an offer (Q-7..Q-12) is in test_rules_queue_offers.py."""

from __future__ import annotations

import pytest

from tests.engine.conftest import A1, A2, A3, NUM, T0, Core, brief, queue_doc

# ---------------------------------------------------------------- Q-1 availability


@pytest.mark.parametrize("setup, expected", [
    ([], None),  # never registered
    ([("line.registered",), ("line.unregistered",)], None),
    ([("line.registered",), ("line.busy",)], None),  # external call in progress
    ([("line.registered",), ("line.busy",), ("line.idle",)], A1),  # rest 0: free again
    ([("line.registered",)], A1),
])
def test_q1_only_available_agent_is_offered(setup, expected):
    c = Core(queue_doc(agents=[(A1, 1, 1)]))
    for (kind,) in setup:
        c.ev(kind, line=A1)
    out = c.arrive("c1")
    assert c.rings(out) == ([("c1", expected)] if expected else [])


def test_q1_line_not_accepting_queue_calls_is_never_offered():
    c = Core(queue_doc(lines={A1: {"accept_queue_calls": False}}))
    c.register(A1, A2, at=0)
    assert c.rings(c.arrive("c1", at=10)) == [("c1", A2)]
    assert c.rings(c.arrive("c2", at=20)) == []


def test_q1_agent_in_queue_call_or_ringing_is_not_offered():
    c = Core(queue_doc(agents=[(A1, 1, 1)]))
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    assert c.rings(c.arrive("c2", at=20)) == []  # A1 ringing
    c.ev("call.answered", at=30, call="c1", line=A1)
    assert c.rings(c.arrive("c3", at=40)) == []  # A1 in call
    assert c.state.calls["c2"].status == "waiting"


def test_q1_agent_registering_takes_the_waiting_call():
    c = Core(queue_doc())
    c.arrive("c1", at=0)
    out = c.ev("line.registered", at=500, line=A2)
    assert c.rings(out) == [("c1", A2)]


# ---------------------------------------------------------------- Q-2 size


def test_q2_call_beyond_size_is_rejected_busy():
    c = Core(queue_doc(size=2))
    for i in range(2):
        c.arrive(f"c{i}", at=i)
    out = c.arrive("c9", at=10)
    assert brief(out) == [("reject_busy", "c9")]
    assert c.outcomes("c9") == [{"type": "rejected", "ts": str(T0 + 10), "number": NUM,
                                 "call": "c9", "reason": "queue_full",
                                 "caller": "+33612345678", "profile": "jour"}]


def test_q2_ringing_call_does_not_count_in_queue_size():
    c = Core(queue_doc(size=1, agents=[(A1, 1, 1)]))
    c.register(A1, at=0)
    c.arrive("c1", at=10)  # rings A1: left the queue
    out = c.arrive("c2", at=20)  # queue empty again: admitted
    assert [cmd["type"] for cmd in out.commands] == ["play"]  # waits with music
    assert c.state.calls["c2"].status == "waiting"
    assert brief(c.arrive("c3", at=30)) == [("reject_busy", "c3")]


# ---------------------------------------------------------------- Q-3 FIFO


def test_q3_first_come_first_served():
    c = Core(queue_doc(agents=[(A1, 1, 1)]))
    for i in range(3):
        c.arrive(f"c{i}", at=i * 10)
    out = c.ev("line.registered", at=100, line=A1)
    assert c.rings(out) == [("c0", A1)]
    c.ev("call.answered", at=110, call="c0", line=A1)
    out = c.ev("call.ended", at=200, call="c0", by="caller")
    assert c.rings(out) == [("c1", A1)]


def test_q3_agent_of_several_queues_takes_longest_waiting_call_across_queues():
    n2 = "+33100000002"
    doc = queue_doc(agents=[(A1, 1, 1)])
    doc["numbers"][n2] = {"entry": "q", "profiles": {"q": dict(
        doc["numbers"][NUM]["profiles"]["jour"])}}
    c2 = Core(doc)
    c2.arrive("a", at=0, number=n2)
    c2.arrive("b", at=10, number=NUM)
    c2.arrive("c", at=20, number=n2)
    out = c2.ev("line.registered", at=50, line=A1)
    assert c2.rings(out) == [("a", A1)]  # one call at a time, the longest-waiting first
    c2.ev("call.answered", at=60, call="a", line=A1)
    out = c2.ev("call.ended", at=100, call="a", by="agent")
    assert c2.rings(out) == [("b", A1)]  # b (NUM) waited longer than c (n2)


# ---------------------------------------------------------------- Q-4 priority


def test_q4_priority_1_before_2_before_5():
    c = Core(queue_doc(agents=[(A3, 5, 1), (A2, 2, 1), (A1, 1, 1)]))
    c.register(A3, A2, A1, at=0)
    assert c.rings(c.arrive("c1", at=10)) == [("c1", A1)]
    assert c.rings(c.arrive("c2", at=20)) == [("c2", A2)]
    assert c.rings(c.arrive("c3", at=30)) == [("c3", A3)]


def test_q4_next_offer_after_timeout_respects_priority():
    c = Core(queue_doc(agents=[(A1, 1, 1), (A2, 1, 1), (A3, 2, 1)], ring_s=5))
    c.register(A1, A2, A3, at=0)
    c.arrive("c1", at=10)
    out = c.ev("clock", at=5010)
    assert brief(out) == [("stop_ring", "c1", A1), ("ring", "c1", A2, "5", "0", "")]
    out = c.ev("clock", at=10010)
    assert c.rings(out) == [("c1", A3)]


# ---------------------------------------------------------------- Q-5 choice


def test_q5_inactivity_never_called_idle_since_registration():
    c = Core(queue_doc())
    c.register(A2, at=0)
    c.register(A1, at=100)
    assert c.rings(c.arrive("c1", at=200)) == [("c1", A2)]


def test_q5_inactivity_ties_by_line_order():
    c = Core(queue_doc(agents=[(A2, 1, 1), (A1, 1, 1)]))
    c.register(A1, A2, at=0)
    assert c.rings(c.arrive("c1", at=200)) == [("c1", A2)]


def test_q5_inactivity_idle_since_end_of_last_call_of_any_kind():
    c = Core(queue_doc(agents=[(A1, 1, 1), (A2, 1, 1), (A3, 1, 1)]))
    c.register(A1, A2, A3, at=0)
    c.ev("line.busy", at=10, line=A1)  # external call
    c.arrive("c1", at=20)  # A2 (registered with A1, before A3 in line order)
    c.ev("call.answered", at=30, call="c1", line=A2)
    c.ev("line.idle", at=40, line=A1)  # A1 idle since 40
    c.ev("call.ended", at=50, call="c1", by="caller")  # A2 idle since 50
    assert c.rings(c.arrive("c2", at=60)) == [("c2", A3)]  # idle since registration (0)
    assert c.rings(c.arrive("c3", at=70)) == [("c3", A1)]
    assert c.rings(c.arrive("c4", at=80)) == [("c4", A2)]


def test_q5_offer_not_bridged_does_not_reset_idle_time():
    c = Core(queue_doc(ring_s=5))
    c.register(A1, at=0)
    c.register(A2, at=10)
    c.arrive("c1", at=20)  # A1 (idle longest)
    c.ev("call.ring_failed", at=30, call="c1", line=A1, reason="declined")  # then A2
    c.ev("call.answered", at=40, call="c1", line=A2)
    assert c.rings(c.arrive("c2", at=50)) == [("c2", A1)]  # A1 still idle since 0


def test_q5_random_mode_only_picks_weighted_agents_of_best_priority():
    c = Core(queue_doc(agents=[(A1, 1, 1), (A2, 1, 5), (A3, 2, 5)], mode="random"), seed=7)
    c.register(A1, A2, A3, at=0)
    picks = set()
    for i in range(40):
        out = c.arrive(f"c{i}", at=10 + i * 10)
        (call, line), = c.rings(out)
        picks.add(line)
        c.ev("call.ended", at=15 + i * 10, call=call, by="caller")
    assert picks == {A1, A2}


def test_q5_random_mode_is_reproducible_with_the_same_seed():
    def run(seed):
        c = Core(queue_doc(agents=[(A1, 1, 1), (A2, 1, 3)], mode="random"), seed=seed)
        c.register(A1, A2, at=0)
        for i in range(30):
            c.arrive(f"c{i}", at=10 + i * 10)
            c.ev("call.ended", at=15 + i * 10, call=f"c{i}", by="caller")
        return c.rings()
    assert run(3) == run(3)
    assert run(3) != run(4)


# ---------------------------------------------------------------- Q-6 rounds


def test_q6_ring_timeout_stops_ring_then_next_agent():
    c = Core(queue_doc(ring_s=10))
    c.register(A1, A2, at=0)
    c.arrive("c1", at=100)
    out = c.ev("clock", at=20000)
    assert brief(out)[:2] == [("stop_ring", "c1", A1), ("ring", "c1", A2, "10", "0", "")]
    assert out.commands[0]["ts"] == str(T0 + 10100)  # timers emit at their due time
    assert c.offered("c1") == [("c1", A1, "timeout")]
    assert c.logs[0]["ring_ms"] == "10000"


def test_q6_agent_not_reoffered_before_every_other_available_agent_was_tried():
    c = Core(queue_doc(agents=[(A1, 1, 1), (A2, 1, 1), (A3, 2, 1)]))
    c.register(A1, A2, A3, at=0)
    c.arrive("c1", at=10)
    c.ev("call.ring_failed", at=20, call="c1", line=A1, reason="declined")
    c.ev("call.ring_failed", at=30, call="c1", line=A2, reason="busy")
    c.ev("call.ring_failed", at=40, call="c1", line=A3, reason="declined")
    # everyone tried: a new round starts with everyone, priority first
    assert c.rings() == [("c1", A1), ("c1", A2), ("c1", A3), ("c1", A1)]


def test_q6_failed_offer_goes_back_to_head_of_queue_even_if_full():
    c = Core(queue_doc(size=1, agents=[(A1, 1, 1)]))
    c.register(A1, at=0)
    c.arrive("c1", at=10)  # ringing A1
    c.arrive("c2", at=20)  # waiting: queue full
    c.ev("call.ring_failed", at=30, call="c1", line=A1, reason="unreachable")
    # c1 is back at the head (re-offered before c2 although the queue was full)
    assert c.rings() == [("c1", A1), ("c1", A1)]
    assert [cmd["type"] for cmd in c.commands].count("reject_busy") == 0
    waiting = c.state.waiting[(NUM, "jour")]
    assert [w[2] for w in waiting] == ["c2"]


def test_q6_returned_call_keeps_its_place_before_newer_calls():
    c = Core(queue_doc(agents=[(A1, 1, 1)], ring_s=5))
    c.register(A1, at=0)
    c.arrive("c1", at=10)
    c.arrive("c2", at=20)
    c.ev("line.busy", at=30, line=A1)
    c.ev("call.ring_failed", at=40, call="c1", line=A1, reason="busy")
    assert [w[2] for w in c.state.waiting[(NUM, "jour")]] == ["c1", "c2"]
    snap = c.state.snapshot(NUM)
    assert [(w["call"], w["position"]) for w in snap["waiting"]] == [("c1", 1), ("c2", 2)]


