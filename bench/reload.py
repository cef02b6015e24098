"""Reload benchmark: `python -m bench.reload` (figures printed, never asserted).

What a `config.reload` costs call distribution, at 1, 100 and 1,000 accounts of 5
welcome numbers x 10 agents each (5 to 5,000 numbers, 50 to 50,000 agents, all
registered), on a throw-away Redis, the engine as a `--clock wall` subprocess:
  scoped  `config.reload` with `numbers` = one number (the engine asks its builder for
          that number only; here the builder serves the document from memory, so the
          figure is the engine's own cost: the web builder's query is per number too);
  whole   `config.reload` without `numbers`, the document file rewritten with one
          number changed (parse, check, compare and index happen in a thread);
  none    no reload (the baseline).
Each round XADDs the reload and, right after it, a `call.arrived` for another number;
the stall is the time from that call's XADD to its first command (p50 and max over
the rounds). Target: flat for scoped reloads; whole reload of 5,000 numbers <= 150 ms.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from engine.config import load_file, parse
from engine.scenario import build_config
from engine.streams import Engine, tune_gc
from tests.servers import RedisServer

IN, OUT = "acd:{0}:in", "acd:{0}:out"


def serve(url: str, path: str) -> None:
    """The engine of the benchmark (`--serve URL FILE`): file mode for whole reloads,
    and a per-number builder answering from the document as first read."""
    tune_gc()
    doc = json.loads(Path(path).read_text())

    def numbers(listed: list[str]):
        return parse({"timezone": doc["timezone"], "lines": {},
                      "numbers": {n: doc["numbers"][n] for n in listed if n in doc["numbers"]}})

    engine = Engine(redis.Redis.from_url(url), lambda: load_file(path), clock="wall",
                    load_numbers=numbers)
    engine.install_signal_handlers()
    engine.setup()
    engine.work()


def first_command(conn: redis.Redis, call: str, since: str, timeout: float = 30.0) -> float:
    """Seconds until `out` has an entry for `call` (polling without delay)."""
    start = time.perf_counter()
    last = since
    while time.perf_counter() - start < timeout:
        resp = conn.xread({OUT: last}, count=1000, block=1)
        for eid, fields in resp[0][1] if resp else []:
            last = eid
            if fields.get(b"call") == call.encode():
                return time.perf_counter() - start
    raise RuntimeError(f"no command for {call}")


def measure(accounts: int, rounds: int) -> dict[str, tuple[float, float]]:
    doc = build_config(accounts * 5, 10, rest_s=0)
    numbers = sorted(doc["numbers"])
    with RedisServer() as server, tempfile.TemporaryDirectory() as tmp:
        conn = redis.Redis.from_url(server.url)
        path = Path(tmp) / "doc.json"
        path.write_text(json.dumps(doc))
        proc = subprocess.Popen([sys.executable, "-m", "bench.reload", "--serve", server.url,
                                 str(path)], stdout=subprocess.DEVNULL)
        try:
            while not conn.exists(IN):
                time.sleep(0.05)
            pipe = conn.pipeline(transaction=False)
            for i, n in enumerate(numbers):
                for a in doc["numbers"][n]["profiles"]["q"]["agents"]:
                    pipe.xadd(IN, {"type": "line.registered", "ts": "0", "line": a["line"]})
                if i % 100 == 99:
                    pipe.execute()
            pipe.execute()
            wait_idle(conn)
            time.sleep(1.0 + len(numbers) / 1000)  # the snapshots of the registrations
            results: dict[str, list[float]] = {"none": [], "scoped": [], "whole": []}
            seq = 0
            for r in range(rounds):
                for kind in results:
                    target, other = numbers[(2 * r) % len(numbers)], numbers[-1 - r % 2]
                    if kind == "whole":  # one number changed in the file
                        changed = copy.deepcopy(doc)
                        changed["numbers"][target]["profiles"]["q"]["ring_s"] = 20 + r % 2
                        path.write_text(json.dumps(changed))
                    wait_idle(conn)
                    since = conn.xinfo_stream(OUT)["last-generated-id"] if conn.exists(
                        OUT) else "0"
                    seq += 1
                    call = f"c{seq}"
                    pipe = conn.pipeline(transaction=False)
                    if kind == "scoped":
                        pipe.xadd(IN, {"type": "config.reload", "ts": "0", "numbers": target})
                    elif kind == "whole":
                        pipe.xadd(IN, {"type": "config.reload", "ts": "0"})
                    pipe.xadd(IN, {"type": "call.arrived", "ts": "0", "call": call,
                                   "number": other, "caller": "+33612345678"})
                    pipe.execute()
                    results[kind].append(first_command(conn, call, since) * 1000)
                    conn.xadd(IN, {"type": "call.ended", "ts": "0", "call": call,
                                   "by": "caller"})
                    if kind == "whole":  # the swap, before the next round
                        time.sleep(1.0 + len(numbers) / 2000)
        finally:
            proc.terminate()
            proc.wait(20)
    return {k: (sorted(v)[len(v) // 2], max(v)) for k, v in results.items()}


def wait_idle(conn: redis.Redis, timeout: float = 120.0) -> None:
    """The engine has acknowledged everything it was sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        groups = conn.xinfo_groups(IN)
        last = conn.xinfo_stream(IN)["last-generated-id"]
        if groups and groups[0]["pending"] == 0 and groups[0]["last-delivered-id"] == last:
            return
        time.sleep(0.01)
    raise RuntimeError("engine not idle")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.reload", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--accounts", default="1,100,1000")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--serve", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        return serve(*args.serve)
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("accounts numbers agents | call after no reload | after scoped reload | "
          "after whole reload   (ms: p50 / max)")
    for accounts in (int(a) for a in args.accounts.split(",")):
        r = measure(accounts, args.rounds)
        print(f"{accounts:8d} {accounts * 5:7d} {accounts * 50:6d} | "
              f"{r['none'][0]:7.2f} / {r['none'][1]:7.2f}    | "
              f"{r['scoped'][0]:7.2f} / {r['scoped'][1]:7.2f}   | "
              f"{r['whole'][0]:7.2f} / {r['whole'][1]:7.2f}", flush=True)
    print("load average at end: {:.2f} {:.2f} {:.2f} (2 cores shared: figures vary with it)"
          .format(*os.getloadavg()))


if __name__ == "__main__":
    main()
