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

One module on purpose (the longest of engine/): every transition keeps the same
indices and the invariant behind every skipped dispatch (see `_touch_agent`), and
splitting the transitions would spread that one invariant over several files.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
from operator import attrgetter

from engine.codec import agent_from_dict, call_from_dict
from engine.entities import Agent, Call, Offer, Output, Status
from engine.layout import Layout, changed_numbers, merge
from engine.model import (
    MENU,
    QUEUE,
    RANDOM,
    RING_ALL,
    SEQUENTIAL,
    Config,
    Profile,
    route,
)
from engine.protocol import malformed
from engine.snapshot import snapshot, snapshot_json

MAX_CHAIN = 16  # docs/protocol.md: a `then` loop without time passing is cut after 16 steps

_HANDLERS: dict[str, str] = {}  # event type -> State method name (only types that passed malformed)


class State:
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

    def reload(self, config: Config, now: int, changed: set[str] | None = None,
               layout: Layout | None = None) -> Output:
        """Adopt a whole new document. Only the numbers whose section changed (or that
        name a line whose settings changed) are touched: `changed`, computed here when
        not given; `layout`, that document's lookups when built elsewhere (off the hot
        path), else the current ones are updated for those numbers only. Waiting calls
        whose queue vanished are routed again."""
        self._advance(now)
        if changed is None:
            changed = changed_numbers(self.config, config)
        old_rests = self._line_rests_of(changed)
        if layout is None:
            self.layout.update(config, changed)
            layout = self.layout
        self._adopt(layout)
        return self._after_change(changed, old_rests)

    def reload_numbers(self, partial: Config, numbers: list[str], now: int) -> Output:
        """Scoped reload (docs/protocol.md `config.reload` with `numbers`): `partial` holds the
        sections of those numbers (one missing is gone) and the lines they name; the
        rest of the document stays as it is. Costs what those numbers cost."""
        self._advance(now)
        config, listed, lines = merge(self.config, partial, numbers)
        changed = listed | {n for line in lines for n in self.line_numbers.get(line, ())}
        old_rests = self._line_rests_of(changed)
        self.layout.update(config, changed)
        self._adopt(self.layout)
        return self._after_change(changed, old_rests)

    def _line_rests_of(self, numbers: set[str]) -> dict[str, set[int]]:
        return {line: set(self.line_rests.get(line, ())) for n in numbers
                for line in self.number_lines.get(n, ())}

    def _after_change(self, changed: set[str], old_rests: dict[str, set[int]]) -> Output:
        """What a configuration change of `changed` numbers implies for the live state."""
        config = self.config
        calls = sorted((self.calls[cid] for n in changed for cid in self.by_number.get(n, ())),
                       key=_seq_of)
        for call in calls:
            if call.id not in self.calls:
                continue
            num = config.numbers.get(call.number)
            prof = num.profiles.get(call.profile) if num else None
            if call.status == Status.WAITING and (prof is None or prof.type != QUEUE):
                self._unwait(call)
                if num is None:
                    self._close(call, "unknown_number")
                else:
                    self._enter(call, route(config, num, self.now))
        # a rest delay new to a line starts counting from its last call's end
        lines = set(old_rests).union(*(self.number_lines.get(n, ()) for n in changed))
        for line in sorted(lines):
            agent = self.agents.get(line)
            if agent is None or agent.last_end is None:
                continue
            for rest in sorted(self.line_rests.get(line, set()) - old_rests.get(line, set())):
                due = agent.last_end + rest * 1000
                if rest and due > self.now:
                    self._push_timer(due, agent.rest_tseq, "rest", line)
        for n in changed:
            self._touched.update(self.layout.number_queues.get(n, ()))
        self.dirty_numbers.update(n for n in changed if n in config.numbers)
        self._dispatch()
        return self._flush()

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

    # ---- events -----------------------------------------------------------------------

    def _on_clock(self, ev: dict) -> None:
        pass

    def _on_config_reload(self, ev: dict) -> None:
        pass  # the shell loads the document and calls reload()

    def _on_line_registered(self, ev: dict) -> None:
        agent = self._agent(ev["line"])
        if not agent.registered:
            agent.registered, agent.since = True, self.now
            self._touch_agent(agent, freed=True)

    def _on_line_unregistered(self, ev: dict) -> None:
        agent = self.agents.get(ev["line"])
        if agent is None or not agent.registered:
            return
        agent.registered = False
        self._touch_agent(agent)
        call = self.calls.get(agent.ringing or "")
        if call is not None and agent.line in call.offers:
            self._end_offer(call, agent.line, "failed", stop=True)
            self._after_offer(call)

    def _on_line_paused(self, ev: dict) -> None:
        """Q-13: no queue offer while paused, whatever the queue (outside calls still ring)."""
        agent = self._agent(ev["line"])
        if agent.paused is None:
            self._pause(agent, ev["reason"][:24])

    def _pause(self, agent: Agent, reason: str) -> None:
        agent.paused, agent.paused_at, agent.misses = reason, self.now, 0
        self._out.logs.append({"type": "line.paused", "ts": self._ts(), "line": agent.line,
                               "reason": reason})
        self._touch_agent(agent)

    def _on_line_unpaused(self, ev: dict) -> None:
        agent = self.agents.get(ev["line"])
        if agent is None or agent.paused is None:
            return
        self._out.logs.append({"type": "line.unpaused", "ts": self._ts(), "line": agent.line,
                               "paused_ms": str(self.now - agent.paused_at)})
        agent.paused, agent.paused_at, agent.misses = None, 0, 0
        self._touch_agent(agent, freed=True)

    def _on_line_busy(self, ev: dict) -> None:
        agent = self._agent(ev["line"])
        agent.external += 1
        self._touch_agent(agent)

    def _on_line_idle(self, ev: dict) -> None:
        agent = self.agents.get(ev["line"])
        if agent is None or agent.external == 0:
            return  # duplicate, or an external call that started before we knew the line
        agent.external -= 1
        if agent.external == 0:
            self._start_rest(agent)
        self._touch_agent(agent, freed=agent.external == 0)

    def _on_call_arrived(self, ev: dict) -> None:
        cid = ev["call"]
        if cid in self.calls or cid in self.done:
            return  # duplicate
        call = Call(cid, ev["number"], ev.get("caller", ""), self.now, self._next_seq())
        self.calls[cid] = call
        self.by_number.setdefault(call.number, set()).add(cid)
        self._touch_call(call)
        num = self.config.numbers.get(call.number)
        if num is None:
            self._close(call, "unknown_number")
            return
        self._enter(call, route(self.config, num, self.now))

    def _on_call_answered(self, ev: dict) -> None:
        call = self.calls.get(ev["call"])
        offer = call.offers.get(ev["line"]) if call else None
        if call is None or offer is None or offer.confirming:
            return
        prof = self._profile(call)
        if prof is not None and prof.confirm:
            offer.confirming = True  # confirming still counts as ring time
            self._touch_call(call)
        else:
            self._bridge(call, ev["line"])

    def _on_call_key(self, ev: dict) -> None:
        call = self.calls.get(ev["call"])
        if call is None:
            return
        line = ev.get("line", "")
        if not line:
            if call.status == Status.MENU:
                prof = self._profile(call)
                target = prof.keys.get(ev["key"]) if prof else None
                if target is None:
                    self._go_then(call)
                else:
                    self._enter(call, target)
            return
        offer = call.offers.get(line)
        if offer is None or not offer.confirming:
            return
        if ev["key"] == "*":
            self._bridge(call, line)
        else:
            self._end_offer(call, line, "declined", stop=True)
            self._after_offer(call)

    def _on_call_ring_failed(self, ev: dict) -> None:
        call = self.calls.get(ev["call"])
        line, reason = ev["line"], ev["reason"]
        if call is None or line not in call.offers:
            return
        self._end_offer(call, line, "declined" if reason == "declined" else "failed", stop=False)
        cfg = self.config.lines.get(line)
        if reason == "unreachable" and cfg is not None and cfg.backup:
            self._cancel_offers(call, stop=True)
            self._unwait(call)
            self._cmd("forward", call, to=cfg.backup)
            self._outcome("forwarded", call, line=line, to=cfg.backup,
                      wait_ms=str(self.now - call.arrived))
            self._finish(call)
        else:
            self._after_offer(call)

    def _on_call_ended(self, ev: dict) -> None:
        call = self.calls.get(ev["call"])
        if call is None:
            return
        if call.status == Status.BRIDGED:
            self._log("completed", call, line=call.line, talk_ms=str(self.now - call.bridged),
                      profile=call.profile)
            agent = self.agents.get(call.line or "")
            if agent is not None and agent.call == call.id:
                agent.call = None
                self._start_rest(agent)
                self._touch_agent(agent, freed=True)
            self._finish(call)
            return
        self._cancel_offers(call, stop=False)  # the PBX dropped the legs with the call
        self._unwait(call)
        self._outcome("abandoned", call, wait_ms=str(self.now - call.arrived))
        self._finish(call)

    def _on_call_pickup(self, ev: dict) -> None:
        call = self.calls.get(ev["call"])
        if call is None or call.status == Status.BRIDGED:
            return
        self._cancel_offers(call, stop=True)
        self._unwait(call)
        self._bridge(call, ev["line"])

    def _on_call_transfer(self, ev: dict) -> None:
        call = self.calls.get(ev["call"])
        if call is None or call.status == Status.BRIDGED:
            return  # a connected call is transferred from the agent's own phone
        self._cancel_offers(call, stop=True)
        self._unwait(call)
        self._cmd("transfer", call, to=ev["to"])
        self._outcome("transferred", call, to=ev["to"], wait_ms=str(self.now - call.arrived))
        self._finish(call)

    def _on_call_hold(self, ev: dict) -> None:
        call = self.calls.get(ev["call"])
        if call is not None and call.status == Status.BRIDGED and not call.held:
            call.held = True
            self._cmd("hold", call)
            self._touch_call(call)

    def _on_call_resume(self, ev: dict) -> None:
        call = self.calls.get(ev["call"])
        if call is not None and call.status == Status.BRIDGED and call.held:
            call.held = False
            self._cmd("resume", call)
            self._touch_call(call)

    # ---- scenario ---------------------------------------------------------------------

    def _enter(self, call: Call, name: str) -> None:
        """Move `call` into profile `name` (entry, `then`, or a menu key)."""
        if call.chain_at != self.now:
            call.chain_at, call.chain = self.now, 0
        call.chain += 1
        num = self.config.numbers.get(call.number)
        prof = num.profiles.get(name) if num else None
        if call.chain > MAX_CHAIN or prof is None:
            self._close(call, "loop" if prof else "no_profile")
            return
        call.profile, call.music, call.offered, call.seq_pos = name, False, [], 0
        call.status = Status.NEW
        self._touch_call(call)
        if prof.type == QUEUE:
            q = (call.number, name)
            waiting = self._waiting_list(q)
            if len(waiting) >= prof.size:  # only waiting calls count
                self._cmd("reject_busy", call)
                self._outcome("rejected", call, reason="queue_full")
                self._finish(call)
                return
            self._preanswer(call, prof)
            call.status, call.enqueued = Status.WAITING, self.now
            if not waiting:  # else no agent is available there (see _touch_agent)
                self._touched.add(q)
            bisect.insort(waiting, (call.enqueued, call.seq, call.id))
            self._newly_waiting.append(call.id)
        elif prof.type == RING_ALL:
            self._preanswer(call, prof)
            lines = [line for line in prof.lines if self.available(line, 0)]
            if not lines:
                self._go_then(call)
                return
            for line in lines:
                self._offer(call, line, prof)
        elif prof.type == SEQUENTIAL:
            self._preanswer(call, prof)
            self._ring_next(call, prof)
        elif prof.type == MENU:
            self._preanswer(call, prof)
            self._cmd("play", call, media=prof.media or "default")
            call.status, call.deadline = Status.MENU, self.now + prof.timeout_s * 1000
            call.tseq = self._next_seq()
            self._push_timer(call.deadline, call.tseq, "menu", call.id)
        else:  # announcement
            self._preanswer(call, prof)
            self._cmd("play", call, media=prof.media or "default")
            self._close(call, "announcement")

    def _preanswer(self, call: Call, prof: Profile) -> None:
        if prof.caller_preanswer:
            self._cmd("play", call, media=prof.caller_preanswer)

    def _close(self, call: Call, reason: str) -> None:
        self._cancel_offers(call, stop=True)
        self._unwait(call)
        self._cmd("hangup", call)
        self._outcome("closed", call, reason=reason, wait_ms=str(self.now - call.arrived))
        self._finish(call)

    def _go_then(self, call: Call) -> None:
        prof = self._profile(call)
        if prof is None or prof.then is None:
            self._close(call, "no_answer")
        else:
            self._enter(call, prof.then)

    def _ring_next(self, call: Call, prof: Profile) -> None:
        while call.seq_pos < len(prof.lines):
            line = prof.lines[call.seq_pos]
            call.seq_pos += 1
            if self.available(line, 0):
                self._offer(call, line, prof)
                return
        self._go_then(call)

    def _offer(self, call: Call, line: str, prof: Profile) -> None:
        tseq = self._next_seq()
        offer = Offer(line, self.now, self.now + prof.ring_s * 1000, tseq)
        call.offers[line] = offer
        call.offered.append(line)
        call.status = Status.RINGING
        agent = self._agent(line)
        agent.ringing = call.id
        self._touch_agent(agent)
        self._touch_call(call)
        self._push_timer(offer.deadline, tseq, "ring", call.id, line)
        self._cmd("ring", call, line=line, timeout_s=str(prof.ring_s),
                  confirm="1" if prof.confirm else "0", callee_media=prof.callee_preanswer or "")

    def _end_offer(self, call: Call, line: str, result: str, stop: bool) -> None:
        offer = call.offers.pop(line)
        agent = self.agents.get(line)
        if agent is not None and result in ("timeout", "declined"):
            prof = self._profile(call)
            if prof is not None and prof.type == QUEUE:  # "Pause automatique"
                agent.misses += 1
                self.dirty_agents.add(line)
                if prof.autopause and agent.misses >= prof.autopause and agent.paused is None:
                    self._pause(agent, "auto")
        if agent is not None and agent.ringing == call.id:
            agent.ringing = None
            self._touch_agent(agent, freed=True)
        if stop:
            self._cmd("stop_ring", call, line=line)
        self._log("offered", call, line=line, result=result, ring_ms=str(self.now - offer.start))
        self._touch_call(call)

    def _cancel_offers(self, call: Call, stop: bool) -> None:
        for line in sorted(call.offers, key=lambda li: call.offers[li].tseq):
            self._end_offer(call, line, "cancelled", stop=stop)

    def _after_offer(self, call: Call) -> None:
        """An offer ended without a bridge: continue the scenario (Q-6)."""
        prof = self._profile(call)
        if prof is None:
            self._close(call, "no_profile")
        elif prof.type == QUEUE:
            call.status = Status.WAITING  # back at its place, at the head, even if full
            q = (call.number, call.profile)
            waiting = self._waiting_list(q)
            if not waiting:  # else no agent is available there (see _touch_agent)
                self._touched.add(q)
            bisect.insort(waiting, (call.enqueued, call.seq, call.id))
            self._newly_waiting.append(call.id)
            self._touch_call(call)
        elif prof.type == RING_ALL:
            if not call.offers:
                self._go_then(call)
        elif prof.type == SEQUENTIAL:
            self._ring_next(call, prof)

    def _bridge(self, call: Call, line: str) -> None:
        for other in sorted(call.offers, key=lambda li: call.offers[li].tseq):
            if other != line:
                self._end_offer(call, other, "cancelled", stop=True)
        offer = call.offers.pop(line, None)
        agent = self._agent(line)
        if offer is not None:
            self._log("offered", call, line=line, result="answered",
                      ring_ms=str(self.now - offer.start))
            if agent.ringing == call.id:
                agent.ringing = None
        agent.misses = 0
        self._unwait(call)
        self._cmd("bridge", call, line=line)
        call.status, call.line, call.bridged = Status.BRIDGED, line, self.now
        agent.call = call.id
        self._touch_agent(agent)
        self._touch_call(call)
        self._outcome("answered", call, line=line, wait_ms=str(self.now - call.arrived))

    def _unwait(self, call: Call) -> None:
        if call.status != Status.WAITING:
            return
        lst = self.waiting.get((call.number, call.profile), [])
        i = bisect.bisect_left(lst, (call.enqueued, call.seq, call.id))
        if i < len(lst) and lst[i][2] == call.id:
            del lst[i]
        call.status = Status.NEW

    def _finish(self, call: Call) -> None:
        self._unwait(call)
        self.calls.pop(call.id, None)
        nums = self.by_number.get(call.number)
        if nums is not None:
            nums.discard(call.id)
        self.done[call.id] = self.now
        self.finished.add(call.id)
        self._touch_call(call)

    def _start_rest(self, agent: Agent) -> None:
        """Q-8: any call ending on the line starts the rest of every queue it serves."""
        agent.last_end = self.now
        agent.rest_tseq = self._next_seq()
        for rest in sorted(self.line_rests.get(agent.line, ())):
            if rest:
                self._push_timer(self.now + rest * 1000, agent.rest_tseq, "rest", agent.line)

    # ---- distribution -----------------------------------------------------------------

    def _dispatch(self) -> None:
        """Offer waiting calls to available agents, longest-waiting call first (Q-3)."""
        if not self._touched and not self._newly_waiting:
            return
        heap = []
        for q in self._touched:
            lst = self.waiting.get(q)
            if lst:
                heap.append((lst[0][0], lst[0][1], q))
        self._touched.clear()
        heapq.heapify(heap)
        while heap:
            _, _, q = heapq.heappop(heap)
            lst = self.waiting.get(q)
            if not lst:
                continue
            call = self.calls[lst[0][2]]
            prof = self.config.numbers[q[0]].profiles[q[1]]
            line = self._pick(call, prof)
            if line is None:
                continue  # nobody for the head: nobody for the rest of this queue either
            lst.pop(0)
            self._offer(call, line, prof)
            if lst:
                heapq.heappush(heap, (lst[0][0], lst[0][1], q))
        for cid in self._newly_waiting:
            call = self.calls.get(cid)
            if call is not None and call.status == Status.WAITING and not call.music:
                prof = self._profile(call)
                call.music = True  # hold music only once the call actually waits
                self._cmd("play", call, media=(prof.music if prof else None) or "default")
        self._newly_waiting.clear()

    def _pick(self, call: Call, prof: Profile) -> str | None:
        """Q-4/Q-5/Q-6: best available agent not yet offered this call in this round
        (when everyone available was offered it, a new round starts)."""
        # available() inlined, one pass: this loop runs for every queue head at every
        # dispatch
        agents, now, rest_ms, offered = self.agents, self.now, prof.rest_s * 1000, call.offered
        if prof.mode == RANDOM:
            cands = []
            for c in self.pickable[(call.number, prof.name)]:
                ag = agents.get(c[1])
                if (ag is None or not ag.registered or ag.external or ag.call or ag.ringing
                        or ag.paused or (rest_ms and ag.last_end is not None
                                         and now - ag.last_end < rest_ms)):
                    continue
                cands.append(c)
            if not cands:
                return None
            fresh = [c for c in cands if c[1] not in offered]
            if not fresh:
                call.offered = []
                fresh = cands
            best = min(c[2] for c in fresh)
            pool = [c for c in fresh if c[2] == best]
            r = self._random(call) * sum(c[3] for c in pool)
            for c in pool:
                r -= c[3]
                if r < 0:
                    return c[1]
            return pool[-1][1]
        # inactivity: lowest priority value, then idle the longest (end of the last call,
        # or registration), then document order
        best_any = best_fresh = None
        for pos, line, priority, _ in self.pickable[(call.number, prof.name)]:
            ag = agents.get(line)
            if (ag is None or not ag.registered or ag.external or ag.call or ag.ringing
                    or ag.paused or (rest_ms and ag.last_end is not None
                                     and now - ag.last_end < rest_ms)):
                continue
            key = (priority, ag.since if ag.last_end is None else ag.last_end, pos, line)
            if best_any is None or key < best_any:
                best_any = key
            if line not in offered and (best_fresh is None or key < best_fresh):
                best_fresh = key
        if best_fresh is not None:
            return best_fresh[3]
        if best_any is not None:
            call.offered = []
            return best_any[3]
        return None

    def snapshot(self, number: str) -> dict:
        """The switchboard snapshot of one welcome number (engine/snapshot.py)."""
        return snapshot(self, number)

    def snapshot_json(self, number: str) -> str:
        """to_json(self.snapshot(number)), built faster (engine/snapshot.py)."""
        return snapshot_json(self, number)

    def _random(self, call: Call) -> float:
        """Seeded draw keyed by (seed, call, draw count): identical after a crash restart."""
        call.picks += 1
        digest = hashlib.blake2b(f"{self.seed}:{call.id}:{call.picks}".encode(),
                                 digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64



_seq_of = attrgetter("seq")


def restore(config: Config, seed: int, now: int, seq: int, calls: list[dict | list],
            agents: list[dict | list], done: dict[str, int]) -> State:
    """Rebuild a State from persisted entities (crash recovery)."""
    state = State(config, seed, now, seq)
    state.calls = {c.id: c for c in map(call_from_dict, calls)}
    state.agents = {a.line: a for a in map(agent_from_dict, agents)}
    state.done = dict(done)
    state.rebuild()
    return state

