"""A call's steps through its welcome number's scenario (docs/requirements.md Q-2..Q-12), pure.

A mixin of `engine.state.State`: entering a profile (queue, ring all, sequential,
menu, announcement, following `then`), offering it to a line and ending that offer,
bridging, closing and finishing it, and the rest that starts when a call ends on a
line (Q-8). Each step keeps the state's indices (waiting lists, timers, dirty sets)
as it goes; which waiting call goes to which agent is `engine/distribution.py`.
"""

from __future__ import annotations

import bisect

from engine.entities import Agent, Call, Offer, Status
from engine.model import MENU, QUEUE, RING_ALL, SEQUENTIAL, Profile

MAX_CHAIN = 16  # docs/protocol.md: a `then` loop without time passing is cut after 16 steps


class CallFlow:
    """Profile steps, offers, bridge, end of a call."""

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
            self._missed(agent, self._profile(call))  # engine/breaks.py
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
