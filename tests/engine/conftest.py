"""Helpers to drive the pure core with an explicit clock and readable documents."""

from __future__ import annotations

import copy

import pytest

from engine.config import parse
from engine.entities import Output
from engine.state import State

T0 = 1767607200000  # Monday 2026-01-05 11:00 Europe/Paris
NUM = "+33100000001"
A1, A2, A3, A4 = "+33100000101", "+33100000102", "+33100000103", "+33100000104"


def queue_doc(agents=((A1, 1, 1), (A2, 1, 1)), **over) -> dict:
    prof = {"type": "queue", "size": 5, "rest_s": 0, "ring_s": 20, "mode": "inactivity",
            "confirm": False, "caller_preanswer": None, "callee_preanswer": None,
            "music": None,
            "agents": [{"line": li, "priority": p, "weight": w} for li, p, w in agents]}
    lines = over.pop("lines", {})
    prof.update(over)
    return {"timezone": "Europe/Paris", "lines": lines,
            "numbers": {NUM: {"entry": "jour", "rules": [], "profiles": {"jour": prof}}}}


def number_doc(profiles: dict, entry: str, rules=(), lines=None) -> dict:
    return {"timezone": "Europe/Paris", "lines": lines or {},
            "numbers": {NUM: {"entry": entry, "rules": list(rules), "profiles": profiles}}}


class Core:
    """The state machine plus everything it emitted, for table-driven scenarios."""

    def __init__(self, doc: dict, seed: int = 0, now: int = T0) -> None:
        self.doc = copy.deepcopy(doc)
        self.state = State(parse(doc), seed, now)
        self.now = now
        self.commands: list[dict] = []
        self.logs: list[dict] = []

    def ev(self, kind: str, at: int | None = None, **fields: str) -> Output:
        """Send an event `at` ms after T0 (default: the current time)."""
        self.now = T0 + at if at is not None else self.now
        event = {"type": kind, "ts": str(self.now), **fields}
        out = self.state.handle(event, self.now)
        self.commands += out.commands
        self.logs += out.logs
        return out

    def register(self, *lines: str, at: int | None = None) -> None:
        for line in lines:
            self.ev("line.registered", at, line=line)

    def arrive(self, call: str, at: int | None = None, number: str = NUM) -> Output:
        return self.ev("call.arrived", at, call=call, number=number, caller="+33612345678")

    def rings(self, out: Output | None = None) -> list[tuple[str, str]]:
        cmds = out.commands if out is not None else self.commands
        return [(c["call"], c["line"]) for c in cmds if c["type"] == "ring"]

    def outcomes(self, call: str | None = None) -> list[dict]:
        kinds = {"answered", "abandoned", "rejected", "forwarded", "transferred", "closed"}
        return [r for r in self.logs if r["type"] in kinds and (call is None or r["call"] == call)]

    def offered(self, call: str | None = None) -> list[tuple[str, str, str]]:
        return [(r["call"], r["line"], r["result"]) for r in self.logs
                if r["type"] == "offered" and (call is None or r["call"] == call)]


def brief(out: Output) -> list[tuple]:
    """Commands without ts, as short tuples, for exact comparisons."""
    res = []
    for c in out.commands:
        extra = {k: v for k, v in c.items() if k not in ("type", "ts", "call")}
        res.append((c["type"], c["call"], *extra.values()))
    return res


@pytest.fixture
def core():
    return Core
