"""Deterministic scripted PBX traffic, for stream tests and the benchmark.

The live simulator reacts to the engine's commands in real time; tests and the
benchmark instead need a fixed event list that is still *coherent* (agents answer
calls that actually ring them). We get it by playing the PBX offline against an
engine given by the caller (the pure core, `engine.state.State`): with `--clock
events` the real engine then takes exactly the same decisions, so the replayed
events stay meaningful. Like any PBX side, this module knows only the
configuration model and the streams contract; what it knows of a call (its legs
ringing, whether it is bridged or over) it learns from the commands, as a PBX does.
"""

from __future__ import annotations

import heapq
import random
from typing import Protocol

from engine.model import Config


class _Emitted(Protocol):
    commands: list[dict[str, str]]


class Distributor(Protocol):
    """What the scenario plays against: events in (with their "now"), commands out."""

    def handle(self, event: dict[str, str], now: int) -> _Emitted: ...


# Commands after which the call is over for the PBX (docs/protocol.md "Commands")
_FINAL = ("forward", "transfer", "reject_busy", "hangup")


def build_config(numbers: int, agents_per_number: int, rest_s: int = 5,
                 mode: str = "inactivity") -> dict:
    """A document with `numbers` queues of distinct agent lines (benchmark shape)."""
    nums = {}
    for n in range(numbers):
        agents = [{"line": f"+336{n:04d}{a:04d}", "priority": 1 + a % 2, "weight": 1 + a % 3}
                  for a in range(agents_per_number)]
        nums[f"+3310{n:07d}"] = {"entry": "q", "rules": [], "profiles": {"q": {
            "type": "queue", "size": 10, "rest_s": rest_s, "ring_s": 15, "mode": mode,
            "confirm": False, "caller_preanswer": "bienvenue", "callee_preanswer": None,
            "music": None, "agents": agents}}}
    return {"timezone": "Europe/Paris", "lines": {}, "numbers": nums}


def scenario(config: Config, calls: int, start_ms: int, engine: Distributor, seed: int = 1,
             gap_ms: float = 200.0, churn: float = 0.0) -> list[dict[str, str]]:
    """Events of `calls` calls (plus registrations and external calls), time-ordered,
    played against `engine` (fresh, at `start_ms`; it is left in the final state).
    `churn`: per call, the chance that a line also logs out and back in 2-20 s later
    (a phone re-registering, an agent leaving the desk): registrations mixed with the
    traffic rather than all at the start."""
    rng = random.Random(seed)
    pbx = _PbxView()
    numbers = sorted(config.numbers)
    lines = sorted({a.line for n in config.numbers.values() for p in n.profiles.values()
                    for a in p.agents} | {li for n in config.numbers.values()
                                          for p in n.profiles.values() for li in p.lines})
    events: list[dict[str, str]] = []
    heap: list[tuple[int, int, dict[str, str]]] = []
    seq = 0

    def later(at: int, event: dict[str, str]) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (at, seq, event))

    for line in lines:
        later(start_ms, {"type": "line.registered", "line": line})
    t = start_ms
    for i in range(calls):
        t += int(rng.expovariate(1 / gap_ms)) + 1
        later(t, {"type": "call.arrived", "call": f"s{seed}-{i}",
                  "number": rng.choice(numbers), "caller": f"+336{rng.randrange(10**8):08d}"})
        if rng.random() < 0.05:
            line = rng.choice(lines)
            later(t, {"type": "line.busy", "line": line})
            later(t + rng.randrange(2000, 30000), {"type": "line.idle", "line": line})
        if churn and rng.random() < churn:
            line = rng.choice(lines)
            later(t, {"type": "line.unregistered", "line": line})
            later(t + rng.randrange(2000, 20000), {"type": "line.registered", "line": line})
    while heap:
        at, _, event = heapq.heappop(heap)
        if not pbx.still_valid(event):
            continue
        event = {**event, "ts": str(at)}
        events.append(event)
        pbx.sent(event)
        for cmd in engine.handle(event, at).commands:
            pbx.received(cmd)
            _react(rng, cmd, at, later)
        if event["type"] == "call.arrived" and rng.random() < 0.3:
            later(at + int(rng.expovariate(1 / 40000)),
                  {"type": "call.ended", "call": event["call"], "by": "caller", "_if": "unbridged"})
    for e in events:
        e.pop("_if", None)
    return events


class _PbxView:
    """The calls as the PBX sees them: live, bridged, and their agent legs ringing."""

    def __init__(self) -> None:
        self.live: set[str] = set()
        self.bridged: set[str] = set()
        self.legs: dict[str, set[str]] = {}  # call -> its agent lines ringing

    def still_valid(self, event: dict[str, str]) -> bool:
        """Would this scheduled reaction still make sense now?"""
        kind, call = event["type"], event.get("call", "")
        if kind in ("call.answered", "call.ring_failed"):
            return event["line"] in self.legs.get(call, ())
        if kind == "call.ended":
            return call in self.live and (event.get("_if") != "unbridged"
                                          or call not in self.bridged)
        return True

    def sent(self, event: dict[str, str]) -> None:
        kind, call = event["type"], event.get("call", "")
        if kind == "call.arrived":
            self.live.add(call)
        elif kind == "call.ring_failed":  # the agent leg is gone
            self.legs.get(call, set()).discard(event["line"])
        elif kind == "call.ended":  # every leg went with the call
            self._over(call)

    def received(self, cmd: dict[str, str]) -> None:
        kind, call = cmd["type"], cmd.get("call", "")
        if kind == "ring":
            self.legs.setdefault(call, set()).add(cmd["line"])
        elif kind == "stop_ring":
            self.legs.get(call, set()).discard(cmd["line"])
        elif kind == "bridge":
            self.legs.get(call, set()).discard(cmd["line"])
            self.bridged.add(call)
        elif kind in _FINAL:
            self._over(call)

    def _over(self, call: str) -> None:
        self.live.discard(call)
        self.bridged.discard(call)
        self.legs.pop(call, None)


def _react(rng: random.Random, cmd: dict[str, str], at: int, later) -> None:
    """The PBX and its people: answer, decline, let ring, talk, hang up."""
    kind = cmd["type"]
    if kind == "ring":
        r = rng.random()
        if r < 0.75:
            later(at + rng.randrange(500, 6000),
                  {"type": "call.answered", "call": cmd["call"], "line": cmd["line"]})
        elif r < 0.85:
            later(at + rng.randrange(500, 4000), {"type": "call.ring_failed", "call": cmd["call"],
                                                  "line": cmd["line"], "reason": "declined"})
        elif r < 0.88:
            later(at + 100, {"type": "call.ring_failed", "call": cmd["call"],
                             "line": cmd["line"], "reason": "unreachable"})
    elif kind == "bridge":
        later(at + rng.randrange(5000, 90000),
              {"type": "call.ended", "call": cmd["call"], "by": rng.choice(["caller", "agent"])})
