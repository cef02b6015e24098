"""Development SMTP sink: every message lands in var/mail/*.eml, nothing leaves.

`python -m worker.mailsink [--host 127.0.0.1] [--port 8025] [--dir var/mail]`
Never run it in production: it accepts mail for anyone.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller

from webapp.settings import ROOT

_counter = itertools.count()


class MaildirHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        name = f"{time.time_ns()}-{next(_counter):06d}.eml"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.directory / name)  # atomic: readers never see half a file
        return "250 Message accepted for delivery"


def start(directory: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    # aiosmtpd logs every DATA line at DEBUG: message bodies (codes, links) stay out.
    logging.getLogger("mail.log").setLevel(logging.INFO)
    controller = Controller(MaildirHandler(directory), hostname=host, port=port)
    controller.start()
    return controller


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", default=str(ROOT / "var" / "mail"))
    args = parser.parse_args()
    controller = start(Path(args.dir), args.host, args.port)
    print(f"SMTP sink on {args.host}:{args.port}, writing {args.dir}/*.eml", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
