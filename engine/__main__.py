"""`python -m engine`: run one shard's distributor (PROTOCOL.md "Running it")."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from engine.config import ConfigError, load_file, parse
from engine.model import Config
from engine.redis_client import connect
from engine.streams import Engine, tune_gc


def config_loader(path: str | None, shard: int = 0) -> Callable[[], Config]:
    """The file when given, else the web side's builder for this shard's accounts only
    (imported only here, lazily)."""
    if path:
        return lambda: load_file(path)
    try:
        from webapp.services.engine_config import build_document
    except ImportError as exc:
        raise SystemExit(
            "engine: no --config given and webapp.services.engine_config.build_document "
            f"cannot be imported ({exc}); pass --config engine/demo_config.json") from exc
    return lambda: parse(build_document(shard=shard))


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
    loader = config_loader(args.config, args.shard)
    conn = connect(args.redis_url)  # one server or a Redis Cluster
    engine = Engine(conn, loader, shard=args.shard, clock=args.clock, seed=args.seed,
                    batch=args.batch)
    engine.install_signal_handlers()
    try:
        engine.setup()
    except ConfigError as exc:
        print(f"engine: invalid configuration document:\n{exc}", file=sys.stderr)
        return 2
    engine.work()
    logging.getLogger("engine").info("stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
