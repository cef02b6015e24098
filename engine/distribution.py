"""Queue distribution (docs/requirements.md Q-1, Q-3..Q-6), pure.

A mixin of `engine.state.State`: after every event, the queues worth looking at
(`State._touched`: a call joined an empty queue, an agent may have become free)
offer their longest-waiting call to the best available agent, by inactivity or by
weighted random draw (seeded, so a restored state draws the same). The invariant
that makes skipping every other queue correct is stated at `State._touch_agent`.
"""

from __future__ import annotations

import hashlib
import heapq

from engine.entities import Call, Status
from engine.model import RANDOM, Profile


class Distribution:
    """`_dispatch` and the pick of an agent."""

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

    def _random(self, call: Call) -> float:
        """Seeded draw keyed by (seed, call, draw count): identical after a crash restart."""
        call.picks += 1
        digest = hashlib.blake2b(f"{self.seed}:{call.id}:{call.picks}".encode(),
                                 digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64
