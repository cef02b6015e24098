"""`python -m engine.simulator`: the PBX side for demos (docs/protocol.md), in real time.

Reads the engine's commands from `acd:{N}:out`, writes events to `acd:{N}:in`:
callers arrive (Poisson), sometimes hang up while waiting, press menu keys;
agents answer after a random delay, sometimes let it ring or decline, confirm
with `*`, talk for a random time and make or receive outside calls. Every
finished leg on a line is appended to `pbx:cdr` (docs/protocol.md "Call detail
records"); an outside call to a line whose `pbx:blacklist:{line}` lists the caller
(or `anonymous`) is refused before ringing, with a `blocked` CDR (LINE-4).
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import time
from collections import Counter
from collections.abc import Callable

import redis

from engine.config import ConfigError, load_file
from engine.loader import config_loader
from engine.model import Config
from engine.protocol import Keys
from engine.redis_client import connect

CDR = "pbx:cdr"
BLACKLIST = "pbx:blacklist:{line}"


class Simulator:
    def __init__(self, conn: redis.Redis, config: Config, shard: int = 0, *,
                 rate_per_min: float = 6.0, answer_s: tuple[float, float] = (1.0, 6.0),
                 ring_out: float = 0.1, decline: float = 0.05, unreachable: float = 0.02,
                 talk_s: float = 45.0, patience_s: float = 90.0, abandon: float = 0.3,
                 external_per_hour: float = 4.0, nuisance: float = 0.15,
                 seed: int | None = None) -> None:
        self.conn = conn
        self.config = config
        keys = Keys(shard)
        self.inp, self.out = keys.inp, keys.out
        self.rng = random.Random(seed)
        self.rate = rate_per_min / 60.0
        self.answer_s, self.ring_out, self.decline = answer_s, ring_out, decline
        self.unreachable, self.talk_s = unreachable, talk_s
        self.patience_s, self.abandon = patience_s, abandon
        self.external_rate = external_per_hour / 3600.0
        self.nuisance = nuisance
        self.lines = sorted({a.line for n in config.numbers.values()
                             for p in n.profiles.values() for a in p.agents}
                            | {li for n in config.numbers.values()
                               for p in n.profiles.values() for li in p.lines})
        self.timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self.calls: dict[str, dict] = {}  # live caller legs
        self.legs: dict[tuple[str, str], dict] = {}  # (call, line) -> ringing/answered agent leg
        self.busy_lines: set[str] = set()  # lines in an external call
        self.stats: Counter[str] = Counter()
        self.last_out = "$"
        self.n = 0

    # ---- plumbing ---------------------------------------------------------------------

    def at(self, delay_s: float, fn: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay_s, self._seq, fn))

    def send(self, kind: str, **fields: str) -> None:
        self.conn.xadd(self.inp, {"type": kind, "ts": str(_ms()), **fields})

    def cdr(self, line: str, direction: str, peer: str, started: int, answered: int | None,
            status: str, call: str = "") -> None:
        self.conn.xadd(CDR, {"line": line, "direction": direction, "peer": peer or "anonymous",
                             "started_ms": str(started), "answered_ms": str(answered or ""),
                             "ended_ms": str(_ms()), "status": status, "call": call})

    def run(self, duration_s: float | None = None, summary_every_s: float = 1.0) -> None:
        self.last_out = self._last_id()
        for line in self.lines:
            self.send("line.registered", line=line)
            self.at(self.rng.expovariate(self.external_rate) if self.external_rate else 1e9,
                    lambda li=line: self.external(li))
        numbers = sorted(self.config.numbers)
        for number in numbers:
            self.at(self.rng.expovariate(self.rate), lambda n=number: self.arrival(n))
        end = time.monotonic() + duration_s if duration_s else None
        next_summary = time.monotonic() + summary_every_s
        while end is None or time.monotonic() < end:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
            wait = min([0.2] + [max(0.001, self.timers[0][0] - now)] if self.timers else [0.2])
            resp = self.conn.xread({self.out: self.last_out}, count=500, block=int(wait * 1000))
            for eid, raw in resp[0][1] if resp else []:
                self.last_out = eid
                self.command({k.decode(): v.decode() for k, v in raw.items()})
            if time.monotonic() >= next_summary:
                self.print_summary()
                next_summary += summary_every_s

    def _last_id(self) -> bytes | str:
        last = self.conn.xrevrange(self.out, count=1)
        return last[0][0] if last else "0"

    def print_summary(self) -> None:
        s = self.stats
        waiting = sum(1 for c in self.calls.values() if not c.get("bridged"))
        print(f"\rcalls {s['arrived']:5d} | waiting/ringing {waiting:3d} | talking "
              f"{sum(1 for c in self.calls.values() if c.get('bridged')):3d} | answered "
              f"{s['bridge']:5d} | abandoned {s['abandoned']:4d} | busy {s['reject_busy']:4d} | "
              f"forwarded {s['forward']:3d} | closed {s['hangup']:3d} | external "
              f"{s['external']:3d} | blocked {s['blocked']:3d}", end="", flush=True)

    # ---- callers ----------------------------------------------------------------------

    def arrival(self, number: str) -> None:
        self.at(self.rng.expovariate(self.rate), lambda: self.arrival(number))
        self.n += 1
        call = f"sim-{int(time.time())}-{self.n}"
        caller = f"+336{self.rng.randrange(10**8):08d}"
        self.calls[call] = {"number": number, "caller": caller, "started": _ms()}
        self.stats["arrived"] += 1
        self.send("call.arrived", call=call, number=number, caller=caller)
        if self.rng.random() < self.abandon:
            self.at(self.rng.expovariate(1 / self.patience_s), lambda: self.caller_hangs_up(call))

    def caller_hangs_up(self, call: str) -> None:
        info = self.calls.get(call)
        if info is None or info.get("bridged"):
            return
        self.stats["abandoned"] += 1
        self.end_call(call, "caller")

    def end_call(self, call: str, by: str) -> None:
        info = self.calls.pop(call, None)
        if info is None:
            return
        for (cid, line), leg in list(self.legs.items()):
            if cid == call:
                del self.legs[(cid, line)]
                status = "answered" if leg.get("answered") else "missed"
                self.cdr(line, "in", info["caller"], leg["started"], leg.get("answered"),
                         status, call)
        self.send("call.ended", call=call, by=by)

    # ---- agents -----------------------------------------------------------------------

    def command(self, cmd: dict[str, str]) -> None:
        kind, call = cmd["type"], cmd.get("call", "")
        self.stats[kind] += 1
        info = self.calls.get(call)
        if info is None:
            return
        if kind == "ring":
            self.ring(call, cmd["line"], cmd.get("confirm") == "1")
        elif kind == "stop_ring":
            leg = self.legs.pop((call, cmd["line"]), None)
            if leg is not None:
                self.cdr(cmd["line"], "in", info["caller"], leg["started"], leg.get("answered"),
                         "missed", call)
        elif kind == "bridge":
            info["bridged"] = cmd["line"]
            self.legs.setdefault((call, cmd["line"]), {"started": _ms()})["answered"] = _ms()
            self.at(self.rng.expovariate(1 / self.talk_s),
                    lambda: self.end_call(call, self.rng.choice(["caller", "agent"])))
        elif kind in ("forward", "transfer", "reject_busy", "hangup"):
            self.calls.pop(call, None)
        elif kind == "play" and self.config.numbers.get(info["number"]):
            self.maybe_press_key(call, info)

    def ring(self, call: str, line: str, confirm: bool) -> None:
        self.legs[(call, line)] = {"started": _ms()}
        r = self.rng.random()
        if line in self.busy_lines or r < self.unreachable:
            reason = "busy" if line in self.busy_lines else "unreachable"
            self.at(0.05, lambda: self.ring_fails(call, line, reason))
        elif r < self.unreachable + self.decline:
            self.at(self.rng.uniform(*self.answer_s), lambda: self.ring_fails(call, line,
                                                                               "declined"))
        elif r < self.unreachable + self.decline + self.ring_out:
            pass  # lets it ring: the engine's timeout sends stop_ring
        else:
            self.at(self.rng.uniform(*self.answer_s), lambda: self.answer(call, line, confirm))

    def ring_fails(self, call: str, line: str, reason: str) -> None:
        leg = self.legs.pop((call, line), None)
        info = self.calls.get(call)
        if leg is None or info is None:
            return
        self.cdr(line, "in", info["caller"], leg["started"], None,
                 "busy" if reason == "busy" else ("failed" if reason == "unreachable"
                                                  else "missed"), call)
        self.send("call.ring_failed", call=call, line=line, reason=reason)

    def answer(self, call: str, line: str, confirm: bool) -> None:
        if (call, line) not in self.legs or call not in self.calls:
            return
        self.legs[(call, line)]["answered"] = _ms()
        self.send("call.answered", call=call, line=line)
        if confirm:
            key = "*" if self.rng.random() < 0.9 else "1"
            self.at(1.0, lambda: (call, line) in self.legs
                    and self.send("call.key", call=call, line=line, key=key))

    def maybe_press_key(self, call: str, info: dict) -> None:
        number = self.config.numbers[info["number"]]
        menus = [p for p in number.profiles.values() if p.type == "menu" and p.keys]
        if menus and not info.get("keyed"):
            info["keyed"] = True
            key = self.rng.choice(sorted(menus[0].keys) + ["9"])
            self.at(self.rng.uniform(1, 4),
                    lambda: call in self.calls and self.send("call.key", call=call, line="",
                                                             key=key))

    def external(self, line: str) -> None:
        self.at(self.rng.expovariate(self.external_rate), lambda: self.external(line))
        if line in self.busy_lines or any(li == line for _, li in self.legs):
            return
        started, direction = _ms(), self.rng.choice(["in", "out"])
        peer = f"+334{self.rng.randrange(10**8):08d}"
        if direction == "in":
            peer = self.caller_for(line, peer)
            if self.is_blocked(line, peer):
                # LINE-4: the PBX refuses the call before it rings; one `blocked` CDR.
                self.stats["blocked"] += 1
                self.cdr(line, "in", peer, started, None, "blocked")
                return
        self.busy_lines.add(line)
        self.stats["external"] += 1
        self.send("line.busy", line=line)

        def done() -> None:
            self.busy_lines.discard(line)
            self.cdr(line, direction, peer, started, started + 2000, "answered")
            self.send("line.idle", line=line)
        self.at(self.rng.expovariate(1 / self.talk_s), done)

    # ---- liste noire (LINE-4) ---------------------------------------------------------

    def blacklist(self, line: str) -> set[str]:
        """`pbx:blacklist:{line}` (webapp/services/blacklist.py): one field per blocked
        E.164 number, plus `anonymous` when anonymous callers are blocked."""
        return {f.decode() if isinstance(f, bytes) else f
                for f in self.conn.hkeys(BLACKLIST.format(line=line))}

    def caller_for(self, line: str, peer: str) -> str:
        """Who calls `line` from outside: when the line blocks callers, a share
        (`nuisance`) of its calls come from one of them (a number, or anonymous)."""
        blocked = self.blacklist(line)
        if blocked and self.rng.random() < self.nuisance:
            return self.rng.choice(sorted(blocked))
        return peer

    def is_blocked(self, line: str, peer: str) -> bool:
        field = "anonymous" if not peer or peer == "anonymous" else peer
        return bool(self.conn.hexists(BLACKLIST.format(line=line), field))


def _ms() -> int:
    return int(time.time() * 1000)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.simulator", description=__doc__)
    ap.add_argument("--redis-url", required=True)
    ap.add_argument("--config", help="JSON document; without it, built from the database")
    ap.add_argument("--shard", type=int, default=0)
    ap.add_argument("--rate", type=float, default=6.0, help="calls per minute per number")
    ap.add_argument("--answer-min", type=float, default=1.0, help="agent answer delay min (s)")
    ap.add_argument("--answer-max", type=float, default=6.0, help="agent answer delay max (s)")
    ap.add_argument("--ring-out", type=float, default=0.1, help="share of rings left to time out")
    ap.add_argument("--decline", type=float, default=0.05, help="share of rings declined")
    ap.add_argument("--unreachable", type=float, default=0.02, help="share of unreachable rings")
    ap.add_argument("--talk", type=float, default=45.0, help="mean talk time (s)")
    ap.add_argument("--abandon", type=float, default=0.3, help="share of impatient callers")
    ap.add_argument("--patience", type=float, default=90.0, help="their mean patience (s)")
    ap.add_argument("--external", type=float, default=4.0,
                    help="external calls per hour per line")
    ap.add_argument("--nuisance", type=float, default=0.15,
                    help="share of outside calls to a line with a blacklist made by a "
                         "blocked caller")
    ap.add_argument("--duration", type=float, help="stop after this many seconds")
    ap.add_argument("--seed", type=int)
    args = ap.parse_args(argv)
    try:
        if args.config:
            config = load_file(args.config)
        else:
            config = config_loader(None)()
    except ConfigError as exc:
        print(f"simulator: invalid configuration document:\n{exc}", file=sys.stderr)
        return 2
    conn = connect(args.redis_url)  # a Redis or a Redis Cluster (ENGINE_REDIS_URL)
    sim = Simulator(conn, config, args.shard, rate_per_min=args.rate,
                    answer_s=(args.answer_min, args.answer_max), ring_out=args.ring_out,
                    decline=args.decline, unreachable=args.unreachable, talk_s=args.talk,
                    patience_s=args.patience, abandon=args.abandon,
                    external_per_hour=args.external, nuisance=args.nuisance,
                    seed=args.seed)
    try:
        sim.run(args.duration)
    except KeyboardInterrupt:
        pass
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())


