"""Breaks (docs/requirements.md Q-13 "Pause" and "Pause automatique"), pure.

A mixin of `engine.state.State`: a paused line is offered no queue call, whatever
the queue (outside calls still ring it); a queue whose profile sets `autopause`
pauses a line after that many of its offers in a row rang out or were declined.
Every break start and end is a `log` record (statistics of breaks).
"""

from __future__ import annotations

from engine.entities import Agent
from engine.model import QUEUE, Profile


class Breaks:
    """`line.paused` / `line.unpaused` and the automatic pause."""

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

    def _missed(self, agent: Agent, prof: Profile | None) -> None:
        """A queue offer to `agent` rang out or was declined: "Pause automatique"."""
        if prof is not None and prof.type == QUEUE:
            agent.misses += 1
            self.dirty_agents.add(agent.line)
            if prof.autopause and agent.misses >= prof.autopause and agent.paused is None:
                self._pause(agent, "auto")
