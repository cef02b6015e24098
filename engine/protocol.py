"""The streams contract (docs/protocol.md "Keys", "Events"), pure.

What both sides of `acd:{N}:…` agree on: the key names of a shard, the engine's
consumer group, and the events with their required fields. The engine, the
simulator, the scenario player and the PBX connector read it; it imports
nothing of the project.
"""

from __future__ import annotations

GROUP = "engine"  # the engine's consumer group on `in`
RING_FAIL_REASONS = ("unreachable", "busy", "declined")

# Required fields per event type (docs/protocol.md "Events"); `call.key` may have line "".
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "line.registered": ("line",),
    "line.unregistered": ("line",),
    "line.busy": ("line",),
    "line.idle": ("line",),
    "call.arrived": ("call", "number"),
    "call.answered": ("call", "line"),
    "call.key": ("call", "key"),
    "call.ring_failed": ("call", "line", "reason"),
    "call.ended": ("call",),
    "clock": (),
    "call.pickup": ("call", "line"),
    "call.transfer": ("call", "to"),
    "call.hold": ("call",),
    "call.resume": ("call",),
    "config.reload": (),
    "line.paused": ("line", "reason"),
    "line.unpaused": ("line",),
}


class Keys:
    """The Redis keys of shard N; the braces keep a shard in one Redis Cluster slot."""

    def __init__(self, shard: int) -> None:
        p = f"acd:{{{shard}}}:"
        self.inp, self.out, self.log, self.state = p + "in", p + "out", p + "log", p + "state"
        self.calls, self.agents, self.done, self.meta = (
            p + "calls", p + "agents", p + "done", p + "meta")


def malformed(event: dict) -> str | None:
    """Reason an event cannot be handled, or None; unknown calls are not malformed."""
    kind = event.get("type")
    if kind not in EVENT_FIELDS:
        return f"unknown type {kind!r}"
    ts = event.get("ts")
    if not isinstance(ts, str) or not ts.isdigit():
        return f"{kind}: bad ts {ts!r}"
    for name in EVENT_FIELDS[kind]:
        if not event.get(name):
            return f"{kind}: missing {name}"
    if kind == "call.key" and "line" not in event:
        return "call.key: missing line"
    if kind == "call.ring_failed" and event["reason"] not in RING_FAIL_REASONS:
        return f"call.ring_failed: bad reason {event['reason']!r}"
    return None
