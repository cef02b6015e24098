"""`python -m engine.shards`: one engine per shard, for the Procfile (SCALE-1).

    python -m engine.shards --redis-url URL [--shards N] [engine options...]

starts `python -m engine --redis-url URL --shard i [engine options...]` for i in
0..N-1 (N defaults to ENGINE_SHARDS, else 1), restarts an engine that dies (it resumes
from Redis: docs/protocol.md recovery) and stops them all on SIGTERM/SIGINT. In production
run one `python -m engine --shard i` per shard under your process manager instead, on
as many machines as you like: the shards share nothing but the Redis (Cluster).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time

log = logging.getLogger("engine.shards")
RESTART_DELAY_S = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.shards", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--shards", type=int,
                        default=int(os.environ.get("ENGINE_SHARDS", "1") or 1))
    args, rest = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s engine.shards %(message)s")
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start(shard: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "engine", "--redis-url", args.redis_url,
                                 "--shard", str(shard), *rest])

    children = {shard: start(shard) for shard in range(max(1, args.shards))}
    log.info("%d engine(s) started: shards %s", len(children), ", ".join(map(str, children)))
    died: dict[int, float] = {}
    while not stopping:
        time.sleep(0.2)
        for shard, proc in list(children.items()):
            code = proc.poll()
            if code is None:
                continue
            if code == 2:  # invalid configuration: restarting would not help
                log.error("engine shard %d refused its configuration; not restarted", shard)
                del children[shard]
                continue
            since = died.setdefault(shard, time.monotonic())
            if time.monotonic() - since >= RESTART_DELAY_S:
                log.warning("engine shard %d exited (%s): restarted", shard, code)
                children[shard] = start(shard)
                del died[shard]
        if not children:
            return 2
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in children.values():
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
