"""The engine's live entities: calls, their offers, agents; and what a step emits.

Plain mutable dataclasses, persisted one by one by the shell (their stored form
is in `engine/codec.py`). A new field goes at the end of its dataclass, with a
default: stored rows are the field values in declaration order, and older,
shorter rows must still load. Pure: no I/O, no project import.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Status:
    """Call statuses (`Call.status`), plain strings as stored; a finished call is
    dropped rather than given a status."""

    NEW = "new"  # entering a profile (or between two)
    WAITING = "waiting"  # in a queue's waiting list
    RINGING = "ringing"  # one or more offers out (queue, ring_all, sequential)
    MENU = "menu"  # waiting for the caller's key
    BRIDGED = "bridged"  # connected to an agent
    ALL = (NEW, WAITING, RINGING, MENU, BRIDGED)


@dataclass
class Offer:
    line: str
    start: int
    deadline: int
    tseq: int
    confirming: bool = False


@dataclass
class Call:
    id: str
    number: str
    caller: str
    arrived: int
    seq: int
    profile: str = ""
    status: str = Status.NEW  # one of Status.ALL
    enqueued: int = 0  # FIFO key: when the call entered its current queue
    offers: dict[str, Offer] = field(default_factory=dict)
    offered: list[str] = field(default_factory=list)  # lines offered in the current round
    seq_pos: int = 0  # sequential profile: index of the next line to try
    line: str | None = None  # bridged line
    bridged: int = 0
    held: bool = False
    deadline: int = 0  # menu timeout
    tseq: int = 0
    chain_at: int = -1
    chain: int = 0
    music: bool = False  # hold music already started in this profile
    picks: int = 0  # random draws so far, keys the deterministic RNG


@dataclass
class Agent:
    line: str
    registered: bool = False
    since: int = 0  # registration time: idle reference when never called
    external: int = 0  # external calls in progress (line.busy / line.idle)
    call: str | None = None  # bridged call
    ringing: str | None = None  # call being offered (one at a time, Q-1)
    last_end: int | None = None  # end of the last call of any kind
    rest_tseq: int = 0
    paused: str | None = None  # the break's reason code while paused
    paused_at: int = 0  # when the break started
    misses: int = 0  # queue offers in a row let ring out or declined ("Pause automatique")


@dataclass(slots=True)
class Output:
    """What one `handle`/`advance` produced, in emission order."""

    commands: list[dict[str, str]] = field(default_factory=list)
    logs: list[dict[str, str]] = field(default_factory=list)
    ignored: str | None = None  # why the event was dropped (malformed / unknown type)
