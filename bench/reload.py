"""Reload benchmark: `python -m bench.reload` (figures printed, never asserted).

What a `config.reload` costs call distribution, at 1, 100 and 1,000 accounts of 5
welcome numbers x 10 agents each (5 to 5,000 numbers, 50 to 50,000 agents, all
registered), on a throw-away Redis, the engine as a `--clock wall` subprocess reading
its document from a file (`engine.loader.DocumentSource`, as `--config` does):
  none    no reload (the baseline);
  scoped  `config.reload` with `numbers` = one number (the engine asks its builder for
          that number only; here the builder serves the document from memory, so the
          figure is the engine's own cost: the web builder's query is per number too);
  whole   `config.reload` without `numbers`, the file rewritten with one number's ring
          time changed (read, decoded, compared and checked by the helper process,
          engine/prepare.py; the changed section swapped in between two batches).
Calls keep arriving during the reload: a separate producer process XADDs
`call.arrived` (and, a little later, `call.ended`) at --rate calls/s to every number
for --seconds; the reload is XADDed 0.5 s in. The stall is the time from a call's XADD
to its first command, over the calls sent from the reload on (p50 / p99 / max); for the
whole reload, "swap" is the time from the reload's XADD to the first call that rings
with the new ring time (the new document in force).
Targets: flat for scoped reloads; whole reload of 5,000 numbers holds events back at
most 150 ms (max stall).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

from bench.engine import caught_up
from engine.config import parse
from engine.loader import DocumentSource
from engine.scenario import build_config
from engine.streams import Engine, tune_gc
from tests.servers import RedisServer
from tests.waiting import wait_until

IN, OUT = "acd:{0}:in", "acd:{0}:out"
RELOAD_AT_S = 0.5


def serve(url: str, path: str) -> None:
    """The engine of the benchmark (`--serve URL FILE`): file mode for whole reloads,
    and a per-number builder answering from the document as first read."""
    tune_gc()
    doc = json.loads(Path(path).read_text())

    def numbers(listed: list[str]):
        return parse({"timezone": doc["timezone"], "lines": {},
                      "numbers": {n: doc["numbers"][n] for n in listed if n in doc["numbers"]}})

    engine = Engine(redis.Redis.from_url(url), source=DocumentSource(path), clock="wall",
                    load_numbers=numbers)
    engine.install_signal_handlers()
    engine.setup()
    engine.work()


def produce(url: str, numbers_file: str, rate: float, seconds: float, tag: str,
            out_file: str, target: int) -> None:
    """The producer process (`--produce`): calls at `rate`/s for `seconds`, each ended
    50 ms after it arrived, one in ten to number `target` (the one a reload changes);
    writes {call: XADD time} to `out_file`."""
    conn = redis.Redis.from_url(url)
    numbers = json.loads(Path(numbers_file).read_text())
    rng = random.Random(tag)
    sent: dict[str, float] = {}
    ends: list[tuple[float, str]] = []
    t0 = time.time()
    i = 0
    while True:
        at = t0 + i / rate
        now = time.time()
        if at - t0 > seconds:
            break
        while ends and ends[0][0] <= now:
            conn.xadd(IN, {"type": "call.ended", "ts": "0", "call": ends.pop(0)[1],
                           "by": "caller"})
        if at > now:
            time.sleep(at - now)
        n = target if i % 10 == 0 else rng.randrange(len(numbers))
        call = f"{tag}-{i}-{n}"
        sent[call] = time.time()
        conn.xadd(IN, {"type": "call.arrived", "ts": "0", "call": call,
                       "number": numbers[n], "caller": "+33612345678"})
        ends.append((sent[call] + 0.05, call))
        i += 1
    for _, call in ends:
        conn.xadd(IN, {"type": "call.ended", "ts": "0", "call": call, "by": "caller"})
    Path(out_file).write_text(json.dumps(sent))


class Reader(threading.Thread):
    """The time each call's first command appears on `out`, and its ring time."""

    def __init__(self, url: str, since: str) -> None:
        super().__init__(daemon=True)
        self.conn = redis.Redis.from_url(url)
        self.last = since
        self.first: dict[str, float] = {}
        self.ring_s: dict[str, str] = {}
        self.done = threading.Event()

    def read_up_to(self, entry_id: bytes | str) -> bool:
        """Whether the reader has seen `out` up to this entry."""
        def text(v: bytes | str) -> str:
            return v.decode() if isinstance(v, bytes) else v
        return text(self.last) == text(entry_id)

    def run(self) -> None:
        while not self.done.is_set():
            resp = self.conn.xread({OUT: self.last}, count=1000, block=50)
            now = time.time()
            for eid, fields in resp[0][1] if resp else []:
                self.last = eid
                call = fields.get(b"call", b"").decode()
                self.first.setdefault(call, now)
                if fields.get(b"type") == b"ring" and call not in self.ring_s:
                    self.ring_s[call] = fields[b"timeout_s"].decode()


def round_(url: str, kind: str, doc: dict, path: Path, target: str, tmp: Path,
           rate: float, seconds: float, r: int) -> dict:
    numbers = sorted(doc["numbers"])
    nfile = tmp / "numbers.json"
    nfile.write_text(json.dumps(numbers))
    new_ring = str(20 + r % 2 * 10)  # differs from the round before
    if kind == "whole":
        changed = copy.deepcopy(doc)
        changed["numbers"][target]["profiles"]["q"]["ring_s"] = int(new_ring)
        path.write_text(json.dumps(changed))
    conn = redis.Redis.from_url(url)
    wait_idle(conn)
    reader = Reader(url, conn.xinfo_stream(OUT)["last-generated-id"] if conn.exists(OUT)
                    else "0")
    reader.start()
    sent_file = tmp / f"sent-{kind}-{r}.json"
    producer = subprocess.Popen([sys.executable, "-m", "bench.reload", "--produce", url,
                                 str(nfile), str(rate), str(seconds), f"{kind}{r}",
                                 str(sent_file), str(numbers.index(target))])
    time.sleep(RELOAD_AT_S)  # the producer is under way
    reload_t = time.time()
    if kind == "scoped":
        conn.xadd(IN, {"type": "config.reload", "ts": "0", "numbers": target})
    elif kind == "whole":
        conn.xadd(IN, {"type": "config.reload", "ts": "0"})
    producer.wait(seconds + 60)
    wait_idle(conn)
    wait_until(lambda: reader.read_up_to(conn.xinfo_stream(OUT)["last-generated-id"]), 30,
               message="the reader did not see every reply")
    reader.done.set()
    reader.join(10)
    sent = json.loads(sent_file.read_text())
    stalls = sorted((reader.first[c] - t) * 1000 for c, t in sent.items()
                    if t >= reload_t and c in reader.first)
    swap = None
    tidx = str(numbers.index(target))
    rung = sorted(reader.first[c] for c, rs in reader.ring_s.items()
                  if c.rsplit("-", 1)[1] == tidx and rs == new_ring and c in reader.first
                  and sent.get(c, 0) >= reload_t)
    if kind == "whole" and rung:
        swap = (rung[0] - reload_t) * 1000
    conn.close()
    return {"stalls": stalls, "swap": swap, "lost": len([c for c in sent
                                                         if c not in reader.first])}


def measure(accounts: int, rounds: int, rate: float, seconds: float) -> dict[str, dict]:
    doc = build_config(accounts * 5, 10, rest_s=0)
    numbers = sorted(doc["numbers"])
    with RedisServer() as server, tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        conn = redis.Redis.from_url(server.url)
        path = tmp / "doc.json"
        path.write_text(json.dumps(doc))
        proc = subprocess.Popen([sys.executable, "-m", "bench.reload", "--serve", server.url,
                                 str(path)], stdout=subprocess.DEVNULL)
        try:
            wait_until(lambda: conn.exists(IN), 60, message="the engine did not start")
            pipe = conn.pipeline(transaction=False)
            for i, n in enumerate(numbers):
                for a in doc["numbers"][n]["profiles"]["q"]["agents"]:
                    pipe.xadd(IN, {"type": "line.registered", "ts": "0", "line": a["line"]})
                if i % 100 == 99:
                    pipe.execute()
            pipe.execute()
            wait_idle(conn)
            time.sleep(1.0 + len(numbers) / 1000)  # the snapshots of the registrations
            results: dict[str, dict] = {k: {"stalls": [], "swaps": [], "lost": 0}
                                        for k in ("none", "scoped", "whole")}
            for r in range(rounds):
                for kind in results:
                    target = numbers[(2 * r) % len(numbers)]
                    got = round_(server.url, kind, doc, path, target, tmp, rate, seconds, r)
                    results[kind]["stalls"] += got["stalls"]
                    results[kind]["lost"] += got["lost"]
                    if got["swap"] is not None:
                        results[kind]["swaps"].append(got["swap"])
        finally:
            proc.terminate()
            proc.wait(20)
    return results


def wait_idle(conn: redis.Redis, timeout: float = 120.0) -> None:
    """The engine has acknowledged everything it was sent."""
    wait_until(lambda: caught_up(conn), timeout, 0.01, "engine not idle")


def _fmt(stalls: list[float]) -> str:
    if not stalls:
        return "       n/a           "
    p = stalls[len(stalls) // 2], stalls[min(len(stalls) - 1, int(len(stalls) * 0.99))]
    return f"{p[0]:5.1f} / {p[1]:6.1f} / {stalls[-1]:6.1f}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.reload", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", default="1,100,1000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=float, default=200.0, help="calls/s during each round")
    ap.add_argument("--seconds", type=float, default=2.5, help="length of each round")
    ap.add_argument("--serve", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    ap.add_argument("--produce", nargs=7, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        return serve(*args.serve)
    if args.produce:
        url, nfile, rate, seconds, tag, out, target = args.produce
        return produce(url, nfile, float(rate), float(seconds), tag, out, int(target))
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"calls at {args.rate:.0f}/s from another process, {args.rounds} rounds of "
          f"{args.seconds} s per kind; stall = call.arrived -> first command, over the calls "
          "sent from the reload on (ms: p50 / p99 / max); swap = reload -> new document in "
          "force (ms: max)")
    print("accounts numbers agents | no reload              | scoped reload          | "
          "whole reload           | swap    | calls")
    for accounts in (int(a) for a in args.accounts.split(",")):
        r = measure(accounts, args.rounds, args.rate, args.seconds)
        swaps = r["whole"]["swaps"]
        print(f"{accounts:8d} {accounts * 5:7d} {accounts * 50:6d} | "
              f"{_fmt(sorted(r['none']['stalls']))} | {_fmt(sorted(r['scoped']['stalls']))} | "
              f"{_fmt(sorted(r['whole']['stalls']))} | "
              f"{max(swaps) if swaps else float('nan'):7.1f} | "
              f"{sum(len(v['stalls']) for v in r.values())} "
              f"(lost {sum(v['lost'] for v in r.values())})", flush=True)
    print("load average at end: {:.2f} {:.2f} {:.2f} (2 cores shared: figures vary with it)"
          .format(*os.getloadavg()))


if __name__ == "__main__":
    main()
