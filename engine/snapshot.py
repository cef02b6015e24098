"""The switchboard snapshot (`acd:{N}:state`, shape in engine/README.md), pure.

One JSON object per welcome number: its waiting, ringing, menu and bridged calls
and the state of every line of its profiles, read from a `State` (its entities
and indices) without changing it; the shell publishes it (encoded by orjson) up to
~1,000 times a second.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from engine.codec import to_json
from engine.entities import Status

if TYPE_CHECKING:
    from engine.state import State

# Agent states in a snapshot (`agents[].state`)
OFFLINE = "offline"
IN_CALL = "in_call"  # a queue call or an external one (`external` tells which)
RINGING = "ringing"
NOT_ACCEPTING = "not_accepting"
RESTING = "resting"
AVAILABLE = "available"
PAUSED = "paused"
AGENT_STATES = (OFFLINE, IN_CALL, RINGING, NOT_ACCEPTING, RESTING, AVAILABLE, PAUSED)


def snapshot(state: State, number: str) -> dict:
    """The `acd:{N}:state` JSON for one welcome number (shape in engine/README.md)."""
    waiting, ringing, menu, bridged = _snapshot_calls(state, number)
    agents = [{"line": line, "state": view, "call": call, "external": external,
               "rest_until_ms": rest_until, "rests": rests, "pause_reason": reason,
               "paused_since_ms": since}
              for line, view, call, external, rest_until, rests, reason, since
              in agent_views(state, number)]
    return {"number": number, "ts": state.now, "waiting": waiting, "ringing": ringing,
            "menu": menu, "bridged": bridged, "agents": agents}


def snapshot_json(state: State, number: str) -> str:
    """to_json(snapshot(state, number)): what the shell publishes."""
    return to_json(snapshot(state, number))


def _snapshot_calls(state: State, number: str) -> tuple[list, list, list, list]:
    """The number's waiting, ringing, menu and bridged calls, as snapshot entries."""
    calls = state.calls
    by_seq = sorted([calls[c] for c in state.by_number.get(number, ())], key=_seq_of)
    waiting, ringing, menu, bridged = [], [], [], []
    positions: dict[str, int] = {}
    for q in state.queues_by_number.get(number, ()):  # this number's queues only
        for pos, (_, _, cid) in enumerate(state.waiting[q], 1):
            positions[cid] = pos
    for c in by_seq:
        status = c.status
        if status == Status.WAITING:
            waiting.append({"call": c.id, "caller": c.caller, "profile": c.profile,
                            "arrived_ms": c.arrived, "position": positions.get(c.id, 0),
                            "queued_ms": c.enqueued})
        elif status == Status.RINGING:
            offers = c.offers
            ringing.append({"call": c.id, "caller": c.caller, "profile": c.profile,
                            "arrived_ms": c.arrived,
                            "lines": sorted(offers, key=lambda li: offers[li].tseq)
                            if len(offers) > 1 else list(offers),
                            "since_ms": min((o.start for o in offers.values()),
                                            default=c.arrived)})
        elif status == Status.MENU:
            menu.append({"call": c.id, "caller": c.caller, "profile": c.profile,
                         "arrived_ms": c.arrived})
        elif status == Status.BRIDGED:
            bridged.append({"call": c.id, "caller": c.caller, "profile": c.profile,
                            "arrived_ms": c.arrived, "line": c.line, "since_ms": c.bridged,
                            "held": c.held})
    if len(waiting) > 1:
        waiting.sort(key=_queue_place)
    return waiting, ringing, menu, bridged


def agent_views(state: State, number: str) -> list[tuple]:
    """(line, view, call, external, rest_until_ms, rests, pause_reason, paused_since_ms) of
    every line of the number's profiles, in document order.

    Q-8: each queue applies its own rest, so the line is `resting` only while it rests
    for every queue of this number that has it — until the earliest of those ends
    (`rest_until_ms`), when the engine may offer it this number's calls again; `rests`
    lists, when the line is in several of the number's queues, {queue: end} of those
    where it still rests (else null). Q-13: a paused line is `paused` (unless a call is
    up or ringing) with its reason and start."""
    now, agents_by_line = state.now, state.agents
    views = []
    for line, queue_rests, accepts in state.number_views.get(number, ()):
        agent = agents_by_line.get(line)
        if agent is None:
            views.append((line, OFFLINE, None, False, None, None, None, None))
            continue
        rest_until = rests = None
        last_end = agent.last_end
        if last_end is not None and queue_rests:
            rest_until = min(last_end + ms for _, ms in queue_rests)
            if rest_until <= now:
                rest_until = None
            if len(queue_rests) > 1:
                rests = {name: last_end + ms for name, ms in queue_rests
                         if last_end + ms > now} or None
        paused = agent.paused
        if not agent.registered:
            view = OFFLINE
        elif agent.call or agent.external:
            view = IN_CALL
        elif agent.ringing:
            view = RINGING
        elif paused is not None:
            view = PAUSED
        elif not accepts:
            view = NOT_ACCEPTING
        elif rest_until is not None:
            view = RESTING
        else:
            view = AVAILABLE
        views.append((line, view, agent.call or agent.ringing, bool(agent.external),
                      rest_until, rests, paused,
                      agent.paused_at if paused is not None else None))
    return views


_seq_of = attrgetter("seq")


def _queue_place(w: dict) -> tuple[str, int]:
    return (w["profile"], w["position"])
