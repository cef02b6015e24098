"""What each event of the PBX does to the state (docs/protocol.md "Events"), pure.

A mixin of `engine.state.State`: one `_on_<type>` method per event type
(`State.handle` finds it by name once the event passed `protocol.malformed`), each
a short translation of the event into the call steps of `engine/callflow.py`.
Breaks (`line.paused`/`line.unpaused`) are in `engine/breaks.py`.
"""

from __future__ import annotations

from engine.entities import Call, Status
from engine.model import route


class Events:
    """The `_on_*` handlers of line and call events."""

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
