"""`python -m engine`: run one shard's distributor (docs/protocol.md "Running it")."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from engine.config import ConfigError
from engine.loader import DocumentSource, numbers_loader
from engine.outage import Outage, retry, transient
from engine.redis_client import connect
from engine.streams import Engine, tune_gc

log = logging.getLogger("engine")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--config", help="JSON document; without it, built from the database")
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--clock", choices=("wall", "events"), default="wall")
    parser.add_argument("--seed", type=int, default=0, help="fixes the 'Aléatoire' draws")
    parser.add_argument("--batch", type=int, default=100, help="events per MULTI/EXEC")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s engine %(levelname)s %(message)s")
    tune_gc()
    source = DocumentSource(args.config, args.shard)
    loader = source.config
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:  # REL-4: the document is checked before anything connects to Redis
        if retry(loader, Outage(log, "database (configuration document)"),
                 lambda: stopping) is None:
            return 0
    except ConfigError as exc:
        print(f"engine: invalid configuration document:\n{exc}", file=sys.stderr)
        return 2
    redis_down = Outage(log, f"Redis at {args.redis_url}")
    conn = retry(lambda: connect(args.redis_url), redis_down, lambda: stopping)  # or a Cluster
    if conn is None:
        return 0
    engine = Engine(conn, source=source, shard=args.shard, clock=args.clock, seed=args.seed,
                    batch=args.batch, load_numbers=numbers_loader(args.config, args.shard))
    engine.install_signal_handlers()
    engine.stopping = stopping
    while not engine.stopping:
        try:
            # (re)built from what Redis holds: a batch whose MULTI/EXEC failed is still
            # pending there and is replayed from the state it was read in (REL-2)
            retry(engine.setup, redis_down, lambda: engine.stopping)
            engine.work()
        except ConfigError as exc:
            print(f"engine: invalid configuration document:\n{exc}", file=sys.stderr)
            return 2
        except Exception as exc:
            if not transient(exc):
                raise
            redis_down.wait(exc, lambda: engine.stopping)
    log.info("stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
