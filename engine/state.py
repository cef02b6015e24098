"""The queue-distribution state machine (docs/requirements.md Q-1..Q-12, docs/protocol.md), pure.

No I/O and no project imports outside engine/'s pure core (model, entities,
protocol, snapshot), so every rule can be tested exhaustively with an explicit
clock. The Redis shell (streams.py) feeds events with a "now", fires due timers
through the same entry points, persists the entities this module marks dirty and
publishes the commands and log records it returns.

The state is split in two: entities (calls, agents, finished call ids, clock,
sequence counter) that are persisted one by one, and indices (waiting lists,
timer heap, per-line lookups) rebuilt from the entities and the configuration.
Every ordering decision uses persisted keys, never dict or set iteration order,
so a state restored after a crash behaves exactly like the one that crashed.

The transitions are mixins, one module per seam, all working on this class's
attributes: `engine/events.py` (what each event does), `engine/callflow.py` (a call's
steps through its scenario), `engine/distribution.py` (which waiting call goes to
which agent), `engine/breaks.py` (Q-13 pauses), `engine/reloads.py` (configuration
changes). What stays here belongs together: the entities, the indices derived from
them and the one invariant every skipped dispatch relies on (`_touch_agent`), the
timers, and the entry points that order timers before events.
"""

from __future__ import annotations

import heapq

from engine.breaks import Breaks
from engine.callflow import MAX_CHAIN, CallFlow
from engine.codec import agent_from_dict, call_from_dict
from engine.distribution import Distribution
from engine.entities import Agent, Call, Output, Status
from engine.events import Events
from engine.layout import Layout
from engine.model import Config, Profile
from engine.protocol import malformed
from engine.reloads import Reloads
from engine.snapshot import snapshot, snapshot_json

__all__ = ["MAX_CHAIN", "State", "restore"]

_HANDLERS: dict[str, str] = {}  # event type -> State method name (only types that passed malformed)


class State(Events, Breaks, CallFlow, Distribution, Reloads):
    """The engine's whole memory plus the dirty sets the shell persists after a batch."""

    def __init__(self, config: Config, seed: int = 0, now: int = 0, seq: int = 0) -> None:
        self.seed = seed
        self.now = now
        self.seq = seq
        self.calls: dict[str, Call] = {}
        self.agents: dict[str, Agent] = {}
        self.done: dict[str, int] = {}  # finished call id -> when (duplicate detection)
        self.dirty_calls: set[str] = set()
        self.dirty_agents: set[str] = set()
        self.dirty_numbers: set[str] = set()
        self.finished: set[str] = set()
        self._out = Output()
        self._ts_at, self._ts_str = -1, ""
        self._touched: set[tuple[str, str]] = set()
        self._newly_waiting: list[str] = []
        self.set_config(config)

    # ---- indices ---------------------------------------------------------------------

    def set_config(self, config: Config, layout: Layout | None = None) -> None:
        """Adopt a document and rebuild every index (start, restore)."""
        self._adopt(layout if layout is not None else Layout(config))
        self.rebuild()

    def _adopt(self, layout: Layout) -> None:
        """The configuration and its lookups (engine/layout.py), as attributes."""
        self.layout = layout
        self.config = layout.config
        self.line_queues = layout.line_queues
        self.line_queue_rests = layout.line_queue_rests
        self.line_rests = layout.line_rests
        self.line_numbers = layout.line_numbers
        self.number_lines = layout.number_lines
        self.number_rest = layout.number_rest
        self.pickable = layout.pickable
        self.number_views = layout.number_views

    def rebuild(self) -> None:
        """Derive waiting lists, per-number call sets and timers from the entities."""
        self.waiting: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
        self.queues_by_number: dict[str, list[tuple[str, str]]] = {}  # keys of `waiting`
        self.by_number: dict[str, set[str]] = {}
        self.timers: list[tuple[int, int, str, str, str]] = []
        for call in self.calls.values():
            self.by_number.setdefault(call.number, set()).add(call.id)
            if call.status == Status.WAITING:
                self._waiting_list((call.number, call.profile)).append(
                    (call.enqueued, call.seq, call.id))
            for o in call.offers.values():
                self.timers.append((o.deadline, o.tseq, "ring", call.id, o.line))
            if call.status == Status.MENU:
                self.timers.append((call.deadline, call.tseq, "menu", call.id, ""))
        for lst in self.waiting.values():
            lst.sort()
        for agent in self.agents.values():
            if agent.last_end is not None:
                for rest in self.line_rests.get(agent.line, ()):
                    due = agent.last_end + rest * 1000
                    if rest and due > self.now:
                        self.timers.append((due, agent.rest_tseq, "rest", agent.line, ""))
        heapq.heapify(self.timers)
        self._touched = {q for qs in self.line_queues.values() for q in qs}

    # ---- public entry points ----------------------------------------------------------

    def handle(self, event: dict[str, str], now: int) -> Output:
        """Fire timers due by `now`, then apply `event` at `now`."""
        timers = self.timers
        if timers and timers[0][0] <= now:
            self._advance(now)
        elif now > self.now:
            self.now = now
        problem = malformed(event)
        if problem:
            self._out.ignored = problem
            return self._flush()
        kind = event["type"]
        name = _HANDLERS.get(kind) or _HANDLERS.setdefault(kind, "_on_" + kind.replace(".", "_"))
        getattr(self, name)(event)
        self._dispatch()
        return self._flush()

    def advance(self, now: int) -> Output:
        """Fire every timer due at or before `now`, each at its own due time."""
        self._advance(now)
        return self._flush()

    def _advance(self, now: int) -> None:
        while self.timers and self.timers[0][0] <= now:
            due, tseq, kind, key, line = heapq.heappop(self.timers)
            if not self._timer_valid(tseq, kind, key, line, due):
                continue
            self.now = max(self.now, due)
            self._fire(kind, key, line)
            self._dispatch()
        self.now = max(self.now, now)

    def next_timer(self) -> int | None:
        """Due time of the next live timer, so the shell knows when to wake."""
        while self.timers:
            due, tseq, kind, key, line = self.timers[0]
            if self._timer_valid(tseq, kind, key, line, due):
                return due
            heapq.heappop(self.timers)
        return None

    def clear_dirty(self) -> None:
        self.dirty_calls.clear()
        self.dirty_agents.clear()
        self.dirty_numbers.clear()
        self.finished.clear()

    # ---- output helpers ---------------------------------------------------------------

    def _flush(self) -> Output:
        out, self._out = self._out, Output()
        return out

    def _ts(self) -> str:
        if self._ts_at != self.now:
            self._ts_at, self._ts_str = self.now, str(self.now)
        return self._ts_str

    def _cmd(self, kind: str, call: Call, **fields: str) -> None:
        """A command for `out`; every field is a string (docs/protocol.md)."""
        self._out.commands.append({"type": kind, "ts": self._ts(), "call": call.id, **fields})

    def _log(self, kind: str, call: Call, **fields: str) -> None:
        """A record for `log`; every field is a string (docs/protocol.md)."""
        self._out.logs.append({"type": kind, "ts": self._ts(), "number": call.number,
                               "call": call.id, **fields})

    def _outcome(self, kind: str, call: Call, **fields: str) -> None:
        """An outcome for `log`, with the caller and the profile (callbacks, per-queue
        service level: SWB-6)."""
        self._log(kind, call, **fields, caller=call.caller, profile=call.profile)

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # ---- lookups ----------------------------------------------------------------------

    def _profile(self, call: Call) -> Profile | None:
        num = self.config.numbers.get(call.number)
        return num.profiles.get(call.profile) if num else None

    def _agent(self, line: str) -> Agent:
        agent = self.agents.get(line)
        if agent is None:
            agent = self.agents[line] = Agent(line)
        return agent

    def _accepts(self, line: str) -> bool:
        return self.layout.accepts(line)

    def available(self, line: str, rest_s: int) -> bool:
        """Q-1 (and Q-8 for a queue with `rest_s`): may this line be offered a call now?"""
        agent = self.agents.get(line)
        if agent is None or not agent.registered or agent.external or agent.call:
            return False
        if agent.ringing or agent.paused or not self._accepts(line):
            return False
        return not (rest_s and agent.last_end is not None
                    and self.now - agent.last_end < rest_s * 1000)

    def _waiting_list(self, q: tuple[str, str]) -> list[tuple[int, int, str]]:
        """The waiting list of queue `q` (number, profile), created and indexed if new."""
        lst = self.waiting.get(q)
        if lst is None:
            lst = self.waiting[q] = []
            self.queues_by_number.setdefault(q[0], []).append(q)
        return lst

    def _touch_call(self, call: Call) -> None:
        self.dirty_calls.add(call.id)
        self.dirty_numbers.add(call.number)

    def _touch_agent(self, agent: Agent, freed: bool = False, changed: bool = True) -> None:
        """Mark for persistence; `freed`: the agent may have become available, so its
        queues are worth a dispatch (skipping it otherwise is the main saving). Only
        the queues where it is available right now (Q-1, and its rest there, Q-8) are
        touched: after every dispatch no queue with a waiting call has an available
        agent (the invariant behind every skipped dispatch), so a queue where this agent
        is still unavailable has nothing to offer.
        `changed=False`: the record itself did not change (its rest ended), so there is
        nothing to persist."""
        line = agent.line
        if changed:
            self.dirty_agents.add(line)
        self.dirty_numbers.update(self.line_numbers.get(line, ()))
        if (freed and agent.registered and not agent.external and not agent.call
                and not agent.ringing and not agent.paused and self._accepts(line)):
            last_end, now = agent.last_end, self.now
            for q, rest_s in self.line_queue_rests.get(line, ()):
                if not rest_s or last_end is None or now - last_end >= rest_s * 1000:
                    self._touched.add(q)

    # ---- timers -----------------------------------------------------------------------

    def _push_timer(self, due: int, tseq: int, kind: str, key: str, line: str = "") -> None:
        heapq.heappush(self.timers, (due, tseq, kind, key, line))

    def _timer_valid(self, tseq: int, kind: str, key: str, line: str, due: int) -> bool:
        if kind == "rest":
            agent = self.agents.get(key)
            return agent is not None and agent.rest_tseq == tseq
        call = self.calls.get(key)
        if call is None:
            return False
        if kind == "ring":
            offer = call.offers.get(line)
            return offer is not None and offer.tseq == tseq and offer.deadline == due
        return call.status == Status.MENU and call.tseq == tseq and call.deadline == due

    def _fire(self, kind: str, key: str, line: str) -> None:
        if kind == "rest":
            self._touch_agent(self.agents[key], freed=True, changed=False)  # resting ended
            return
        call = self.calls[key]
        if kind == "ring":
            self._end_offer(call, line, "timeout", stop=True)
            self._after_offer(call)
        else:  # menu timeout: no key pressed
            self._go_then(call)

    def snapshot(self, number: str) -> dict:
        """The switchboard snapshot of one welcome number (engine/snapshot.py)."""
        return snapshot(self, number)

    def snapshot_json(self, number: str) -> str:
        """to_json(self.snapshot(number)), built faster (engine/snapshot.py)."""
        return snapshot_json(self, number)



def restore(config: Config, seed: int, now: int, seq: int, calls: list[dict | list],
            agents: list[dict | list], done: dict[str, int]) -> State:
    """Rebuild a State from persisted entities (crash recovery)."""
    state = State(config, seed, now, seq)
    state.calls = {c.id: c for c in map(call_from_dict, calls)}
    state.agents = {a.line: a for a in map(agent_from_dict, agents)}
    state.done = dict(done)
    state.rebuild()
    return state


