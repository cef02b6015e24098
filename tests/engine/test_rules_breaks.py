"""Q-13 breaks in the pure core: `line.paused` / `line.unpaused` (docs/protocol.md), "Pause
automatique", their `log` records; and the per-queue rest of the snapshot (Q-8, SWB-7)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import parse
from engine.state import State
from tests.engine.conftest import A1, A2, A3, NUM, T0, Core, number_doc, queue_doc

N2 = "+33100000002"


def two_numbers(autopause: int = 0) -> dict:
    def queue(agents, rest_s=0):
        return {"type": "queue", "size": 5, "rest_s": rest_s, "ring_s": 10,
                "mode": "inactivity", "confirm": False, "autopause": autopause,
                "agents": [{"line": li, "priority": 1, "weight": 1} for li in agents]}
    return {"timezone": "Europe/Paris", "lines": {}, "numbers": {
        NUM: {"entry": "jour", "profiles": {"jour": queue([A1, A2])}},
        N2: {"entry": "compta", "profiles": {"compta": queue([A1])}}}}


def test_q13_a_paused_line_gets_no_queue_offer_on_any_queue_but_outside_calls_still_ring():
    c = Core(two_numbers())
    c.register(A1, A2, at=0)
    out = c.ev("line.paused", at=100, line=A1, reason="dejeuner")
    assert out.logs == [{"type": "line.paused", "ts": str(T0 + 100), "line": A1,
                         "reason": "dejeuner"}]
    c.arrive("c1", at=200)  # NUM: A2 only
    c.arrive("c2", at=300, number=N2)  # N2: nobody but A1, paused: the call waits
    assert c.rings() == [("c1", A2)]
    assert c.state.calls["c2"].status == "waiting"
    c.ev("line.busy", at=400, line=A1)  # an outside call still reaches a paused line
    assert c.state.agents[A1].external == 1
    c.ev("line.idle", at=500, line=A1)
    snap = c.state.snapshot(NUM)
    a1 = next(a for a in snap["agents"] if a["line"] == A1)
    assert (a1["state"], a1["pause_reason"], a1["paused_since_ms"]) == (
        "paused", "dejeuner", T0 + 100)
    out = c.ev("line.unpaused", at=60_100, line=A1)
    assert {"type": "line.unpaused", "ts": str(T0 + 60_100), "line": A1,
            "paused_ms": "60000"} in out.logs
    assert ("c2", A1) in c.rings(out)  # available again: the waiting call is offered
    assert c.state.snapshot(NUM)["agents"][0]["pause_reason"] is None


def test_q13_pausing_twice_or_unpausing_a_line_at_work_changes_nothing():
    c = Core(queue_doc())
    c.register(A1, at=0)
    assert c.ev("line.unpaused", at=10, line=A1).logs == []
    c.ev("line.paused", at=20, line=A1, reason="pause")
    assert c.ev("line.paused", at=30, line=A1, reason="reunion").logs == []
    assert c.state.agents[A1].paused == "pause"


def test_q13_autopause_after_n_offers_in_a_row_left_ringing_or_declined():
    c = Core(queue_doc(agents=[(A1, 1, 1)], autopause=2, ring_s=5))
    c.register(A1, at=0)
    c.arrive("c1", at=0)
    c.ev("clock", at=5_000)  # rang out: one miss, rung again (a new round)
    assert c.rings() == [("c1", A1), ("c1", A1)]
    out = c.ev("call.ring_failed", at=6_000, call="c1", line=A1, reason="declined")
    assert {"type": "line.paused", "ts": str(T0 + 6_000), "line": A1, "reason": "auto"} in out.logs
    assert c.rings(out) == []  # paused: c1 waits
    assert c.state.snapshot(NUM)["agents"][0]["state"] == "paused"
    out = c.ev("line.unpaused", at=9_000, line=A1)
    assert c.rings(out) == [("c1", A1)]
    c.ev("call.answered", at=9_500, call="c1", line=A1)
    assert c.state.agents[A1].misses == 0


def test_q13_autopause_off_by_default_and_an_answer_resets_the_count():
    c = Core(queue_doc(agents=[(A1, 1, 1)], ring_s=5))
    c.register(A1, at=0)
    c.arrive("c1", at=0)
    c.ev("clock", at=30_000)  # six ring-outs, no automatic pause
    assert c.state.agents[A1].paused is None
    assert c.state.agents[A1].misses == 6
    c.ev("call.answered", at=31_000, call="c1", line=A1)
    assert c.state.agents[A1].misses == 0


def test_q13_config_accepts_autopause_0_to_5_only():
    from engine.config import ConfigError

    assert parse(queue_doc(autopause=5)).numbers[NUM].profiles["jour"].autopause == 5
    assert parse(queue_doc()).numbers[NUM].profiles["jour"].autopause == 0
    try:
        parse(queue_doc(autopause=6))
    except ConfigError as exc:
        assert any("autopause" in e for e in exc.errors)
    else:
        raise AssertionError("autopause 6 accepted")


def test_swb7_rest_countdown_is_per_queue_not_the_longest_of_the_number():
    """Claire's case: 10 s rest in the entry queue, 240 s in another profile of the same
    number. After 10 s the engine offers her the entry queue's calls, so the snapshot no
    longer says "resting"; it still lists the other queue's rest."""
    def queue(rest_s):
        return {"type": "queue", "size": 5, "rest_s": rest_s, "ring_s": 20,
                "mode": "inactivity", "confirm": False,
                "agents": [{"line": A1, "priority": 1, "weight": 1}]}
    c = Core(number_doc({"jour": queue(10), "nuit": queue(240)}, "jour"))
    c.register(A1, at=0)
    c.arrive("c1", at=0)
    c.ev("call.answered", at=1_000, call="c1", line=A1)
    c.ev("call.ended", at=2_000, call="c1", by="caller")
    a1 = c.state.snapshot(NUM)["agents"][0]
    assert (a1["state"], a1["rest_until_ms"]) == ("resting", T0 + 12_000)
    assert a1["rests"] == {"jour": T0 + 12_000, "nuit": T0 + 242_000}
    c.ev("clock", at=12_000)
    a1 = c.state.snapshot(NUM)["agents"][0]
    assert (a1["state"], a1["rest_until_ms"], a1["rests"]) == (
        "available", None, {"nuit": T0 + 242_000})
    out = c.arrive("c2", at=13_000)
    assert c.rings(out) == [("c2", A1)]  # what the board says is what the engine does


# ---- property: a paused line is never offered ------------------------------------------------

class PauseChecked(State):
    def _offer(self, call, line, prof):
        agent = self.agents.get(line)
        assert agent is not None and agent.paused is None, f"offer of {call.id} to paused {line}"
        super()._offer(call, line, prof)


KINDS = ["reg", "reg", "pause", "pause", "unpause", "arrive", "arrive", "answer", "decline",
         "end", "clock", "busy", "idle"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(autopause=st.integers(0, 3),
       steps=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 30),
                                st.integers(0, 9000)), min_size=5, max_size=70))
def test_q13_property_a_paused_line_is_never_offered(autopause, steps):
    """Random pauses, unpauses, arrivals, answers, declines and ring-outs over two numbers:
    no `ring` ever goes to a paused line, whatever the queue; the snapshot shows every
    paused idle line as `paused`; each pause is logged once and each unpause closes it."""
    s = PauseChecked(parse(two_numbers(autopause)), seed=1, now=T0)
    now, n = T0, 0
    lines = [A1, A2, A3]
    open_pauses: dict[str, int] = {}

    def run(event):
        while (due := s.next_timer()) is not None and due <= now:
            check(s.advance(due))
        check(s.handle({**event, "ts": str(now)}, now))

    def check(out):
        for rec in out.logs:
            if rec["type"] == "line.paused":
                assert rec["line"] not in open_pauses
                open_pauses[rec["line"]] = int(rec["ts"])
            elif rec["type"] == "line.unpaused":
                assert int(rec["paused_ms"]) == int(rec["ts"]) - open_pauses.pop(rec["line"])
        for number in (NUM, N2):
            snap = json.loads(s.snapshot_json(number))
            for a in snap["agents"]:
                agent = s.agents.get(a["line"])
                if agent and agent.paused and agent.registered and not (
                        agent.call or agent.external or agent.ringing):
                    assert a["state"] == "paused"

    for kind, pick, dt in steps:
        now += dt
        line = lines[pick % 3]
        live = sorted(s.calls)
        call = live[pick % len(live)] if live else "none"
        offers = sorted((c, li) for c in s.calls for li in s.calls[c].offers)
        offer = offers[pick % len(offers)] if offers else ("none", A1)
        if kind == "reg":
            run({"type": "line.registered", "line": line})
        elif kind == "pause":
            run({"type": "line.paused", "line": line, "reason": "pause"})
        elif kind == "unpause":
            run({"type": "line.unpaused", "line": line})
        elif kind == "arrive":
            n += 1
            run({"type": "call.arrived", "call": f"c{n}", "number": [NUM, N2][pick % 2],
                 "caller": "+33612345678"})
        elif kind == "answer":
            run({"type": "call.answered", "call": offer[0], "line": offer[1]})
        elif kind == "decline":
            run({"type": "call.ring_failed", "call": offer[0], "line": offer[1],
                 "reason": "declined"})
        elif kind == "end":
            run({"type": "call.ended", "call": call, "by": "caller"})
        elif kind in ("busy", "idle"):
            run({"type": f"line.{kind}", "line": line})
        else:
            run({"type": "clock"})
