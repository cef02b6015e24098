"""Property tests: random event sequences never break Q-1, Q-2, Q-4, Q-12 or the state's
own invariants, checked after every single step (timers included)."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import parse
from engine.state import State
from tests.engine.conftest import A1, A2, A3, A4, NUM, T0

N2 = "+33100000002"
LINES = [A1, A2, A3, A4]


def doc(mode: str) -> dict:
    def queue(agents, rest_s, size):
        return {"type": "queue", "size": size, "rest_s": rest_s, "ring_s": 5, "mode": mode,
                "confirm": mode == "random",
                "agents": [{"line": li, "priority": p, "weight": w} for li, p, w in agents]}
    return {"timezone": "Europe/Paris",
            "lines": {A4: {"accept_queue_calls": False}, A3: {"backup": "+33600000003"}},
            "numbers": {
                NUM: {"entry": "q", "profiles": {
                    "q": queue([(A1, 1, 3), (A2, 2, 1), (A3, 1, 1), (A4, 1, 1)], 3, 2)}},
                N2: {"entry": "m", "profiles": {
                    "m": {"type": "menu", "media": "choix", "keys": {"1": "q", "2": "all"},
                          "timeout_s": 4, "then": "seq"},
                    "q": queue([(A2, 1, 1), (A1, 2, 2)], 0, 1),
                    "all": {"type": "ring_all", "lines": [A1, A2, A3], "ring_s": 5,
                            "then": "q"},
                    "seq": {"type": "sequential", "lines": [A3, A1], "ring_s": 5,
                            "then": None}}}}}


def available(s: State, line: str, rest_s: int) -> bool:
    """Q-1 + Q-8 restated independently of the engine's own helper."""
    agent = s.agents.get(line)
    cfg = s.config.lines.get(line)
    return (agent is not None and agent.registered and agent.external == 0
            and agent.call is None and agent.ringing is None
            and (cfg is None or cfg.accept_queue_calls)
            and (agent.last_end is None or s.now - agent.last_end >= rest_s * 1000))


class CheckedState(State):
    """Asserts Q-1/Q-8 and Q-4 at the very moment an offer is made."""

    def _offer(self, call, line, prof):
        rest = prof.rest_s if prof.type == "queue" else 0
        assert available(self, line, rest), f"offer of {call.id} to unavailable {line}"
        if prof.type == "queue":
            fresh = [a.priority for a in prof.agents
                     if available(self, a.line, prof.rest_s) and a.line not in call.offered]
            mine = next(a.priority for a in prof.agents if a.line == line)
            assert mine == min(fresh), "Q-4: a better priority agent was available"
        super()._offer(call, line, prof)


def check_invariants(s: State) -> None:
    statuses = {"waiting", "ringing", "menu", "bridged"}
    for cid, call in s.calls.items():
        assert call.status in statuses, call
        assert (call.status == "ringing") == bool(call.offers), call
        for line, offer in call.offers.items():
            assert s.agents[line].ringing == cid
            assert offer.start <= s.now < offer.deadline  # due timers have fired
    for agent in s.agents.values():
        if agent.call:  # a switchboard pickup may bridge a second call to a busy line
            assert s.calls[agent.call].status == "bridged"
            assert s.calls[agent.call].line == agent.line
        if agent.ringing:
            assert agent.line in s.calls[agent.ringing].offers
    for (number, name), lst in s.waiting.items():
        assert lst == sorted(lst)
        assert all(s.calls[cid].status == "waiting" for _, _, cid in lst)
        prof = s.config.numbers[number].profiles[name]
        admitted = [cid for _, _, cid in lst if not s.calls[cid].offered]
        assert len(admitted) <= prof.size, "Q-2"
        if lst:  # dispatch is complete: nobody available while calls wait
            assert not any(available(s, a.line, prof.rest_s) for a in prof.agents)
    waiting_ids = {cid for lst in s.waiting.values() for _, _, cid in lst}
    assert waiting_ids == {c for c, call in s.calls.items() if call.status == "waiting"}
    for number in s.config.numbers:  # the shell's hand-built JSON of the snapshot
        assert s.snapshot_json(number) == json.dumps(s.snapshot(number), separators=(",", ":"),
                                                     ensure_ascii=False)


KINDS = ["reg", "reg", "reg", "unreg", "busy", "idle", "arrive", "arrive", "answer", "answer",
         "key", "fail", "end", "end", "clock", "pickup", "transfer", "hold"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from(["inactivity", "random"]),
       steps=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 30),
                                st.integers(0, 7000)), min_size=5, max_size=80))
def test_q1_q2_q4_q12_random_event_sequences_keep_every_invariant(mode, steps):
    s = CheckedState(parse(doc(mode)), seed=1, now=T0)
    now = T0
    arrived: list[str] = []
    outcomes: Counter[str] = Counter()
    kinds = {"answered", "abandoned", "rejected", "forwarded", "transferred", "closed"}

    def run(event):
        nonlocal now
        # fire timers one due time at a time so every intermediate state is checked
        while (due := s.next_timer()) is not None and due <= now:
            collect(s.advance(due))
            check_invariants(s)
        out = s.handle({**event, "ts": str(now)}, now)
        collect(out)
        check_invariants(s)

    def collect(out):
        for rec in out.logs:
            if rec["type"] in kinds:
                outcomes[rec["call"]] += 1
                assert outcomes[rec["call"]] == 1, f"second outcome for {rec['call']}"
            if rec["type"] == "rejected":
                prof = s.config.numbers[rec["number"]].profiles["q"]
                assert len(s.waiting[(rec["number"], "q")]) >= prof.size

    for kind, pick, dt in steps:
        now += dt
        live = sorted(s.calls)
        call = live[pick % len(live)] if live else "none"
        offers = sorted((c, li) for c in s.calls for li in s.calls[c].offers)
        offer = offers[pick % len(offers)] if offers else ("none", A1)
        line = LINES[pick % 4]
        if kind in ("reg", "unreg", "busy", "idle"):
            name = {"reg": "registered", "unreg": "unregistered"}.get(kind, kind)
            run({"type": f"line.{name}", "line": line})
        elif kind == "arrive":
            cid = f"c{len(arrived)}"
            arrived.append(cid)
            run({"type": "call.arrived", "call": cid, "number": [NUM, N2][pick % 2],
                 "caller": "+33612345678"})
        elif kind == "answer":
            run({"type": "call.answered", "call": offer[0], "line": offer[1]})
        elif kind == "key":
            key = "*" if pick % 3 else "1"
            run({"type": "call.key", "call": offer[0], "line": offer[1], "key": key})
            run({"type": "call.key", "call": call, "line": "", "key": str(pick % 4)})
        elif kind == "fail":
            reason = ["unreachable", "busy", "declined"][pick % 3]
            run({"type": "call.ring_failed", "call": offer[0], "line": offer[1],
                 "reason": reason})
        elif kind == "end":
            run({"type": "call.ended", "call": call, "by": "caller"})
        elif kind == "clock":
            run({"type": "clock"})
        elif kind == "pickup":
            run({"type": "call.pickup", "call": call, "line": line})
        elif kind == "transfer":
            run({"type": "call.transfer", "call": call, "to": "+33699999999"})
        else:
            run({"type": "call.hold" if pick % 2 else "call.resume", "call": call})
    for cid in sorted(s.calls):
        run({"type": "call.ended", "call": cid, "by": "network"})
    assert not s.calls
    assert all(outcomes[c] == 1 for c in arrived), "Q-12: every call has exactly one outcome"
    assert set(outcomes) == set(arrived)


def test_q5_random_weights_3_to_1_within_chi_square_bound():
    """Aléatoire, weights 3 and 1, fixed seed: counts fit 3:1 (chi-square, 1 dof, p=0.01)."""
    cfg = parse({"timezone": "Europe/Paris", "numbers": {NUM: {"entry": "q", "profiles": {"q": {
        "type": "queue", "size": 10, "rest_s": 0, "ring_s": 20, "mode": "random",
        "agents": [{"line": A1, "priority": 1, "weight": 3},
                   {"line": A2, "priority": 1, "weight": 1}]}}}}})
    s = State(cfg, seed=12345, now=T0)
    for line in (A1, A2):
        s.handle({"type": "line.registered", "ts": str(T0), "line": line}, T0)
    counts: Counter[str] = Counter()
    n = 4000
    for i in range(n):
        now = T0 + 1000 * (i + 1)
        out = s.handle({"type": "call.arrived", "ts": str(now), "call": f"c{i}",
                        "number": NUM, "caller": "x"}, now)
        (ring,) = [c for c in out.commands if c["type"] == "ring"]
        counts[ring["line"]] += 1
        s.handle({"type": "call.ended", "ts": str(now), "call": f"c{i}", "by": "caller"}, now)
    expected = {A1: n * 3 / 4, A2: n / 4}
    chi2 = sum((counts[k] - e) ** 2 / e for k, e in expected.items())
    assert chi2 < 6.635, (counts, chi2)
