"""`python -m pbx`: the media connector (PBX-2; pbx/connector.py)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time

import redis

from engine.redis_client import connect
from pbx.connector import Connector
from pbx.settings import load
from pbx.sipua import StartError

log = logging.getLogger("connector")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pbx", description="the media connector (PBX-2)")
    ap.add_argument("--shards", default=None,
                    help="comma-separated shards to serve (default: 0..ENGINE_SHARDS-1)")
    ap.add_argument("--consumer", default="connector")
    ap.add_argument("--idle-on-error", action="store_true",
                    help="after a start error, stay idle instead of exiting (make run)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s connector %(levelname)s %(message)s")

    shards = [int(x) for x in args.shards.split(",")] if args.shards else list(
        range(int(os.environ.get("ENGINE_SHARDS", "1"))))
    s = load()
    delay = 0.5
    while True:
        try:  # a Redis or a Redis Cluster (ENGINE_REDIS_URL): the engine's keys are there
            conn = connect(s.redis_url, socket_connect_timeout=3)
            conn.ping()
            break
        except redis.RedisError as exc:
            print(f"connector: Redis unreachable at {s.redis_url} ({exc}); retrying in "
                  f"{delay:.0f} s", file=sys.stderr, flush=True)
            time.sleep(delay)
            delay = min(delay * 2, 30)
    connector = Connector(s, conn, shards, args.consumer)
    try:
        connector.start()
    except StartError as exc:
        print(exc, file=sys.stderr, flush=True)
        if args.idle_on_error:
            signal.sigwait({signal.SIGTERM, signal.SIGINT})
        return 1

    def stop(*_a) -> None:
        connector.running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("answering welcome numbers on %s:%s/udp (RTP %s..%s), shards %s", s.bind,
             s.connector_port, s.rtp_port, s.rtp_port + s.rtp_ports - 1, shards)
    while True:
        try:
            connector.run()
            break
        except redis.RedisError as exc:
            print(f"connector: Redis unreachable ({type(exc).__name__}); retrying",
                  file=sys.stderr, flush=True)
            time.sleep(1)
    connector.stop()
    log.info("stopped cleanly")
    return 0



if __name__ == "__main__":
    sys.exit(main())
