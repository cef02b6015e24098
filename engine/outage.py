"""Riding out a Redis or database outage (REL-2, REL-4), for every long-running process.

`Outage` logs ONE line when a dependency stops answering (no traceback), sleeps with a
jittered exponential backoff between tries, and logs one line when it answers again.
`transient(exc)` says whether an exception is such an outage (connection refused or
lost, server loading, database unreachable or locked) rather than a bug.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import redis

REDIS_OUTAGES = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


def transient(exc: BaseException) -> bool:
    if isinstance(exc, REDIS_OUTAGES):
        return True
    if isinstance(exc, redis.ResponseError):  # a restarted server: group or data reloading
        text = str(exc)
        return text.startswith(("NOGROUP", "LOADING", "MASTERDOWN", "TRYAGAIN"))
    try:
        from peewee import InterfaceError, OperationalError
    except ImportError:  # pragma: no cover - peewee is a dependency of the product
        return False
    if isinstance(exc, (OperationalError, InterfaceError)):  # not a lost write conflict
        return getattr(exc.__cause__ or exc, "pgcode", None) not in ("40001", "40P01")
    return False


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class Outage:
    def __init__(self, log: logging.Logger, what: str, first: float = 0.25,
                 cap: float = 5.0) -> None:
        self.log, self.what, self.first, self.cap = log, what, first, cap
        self.since: float | None = None
        self.tries = 0

    @property
    def down(self) -> bool:
        return self.since is not None

    def wait(self, exc: BaseException, stopping: Callable[[], bool] = lambda: False) -> None:
        """Called on each failed try: the first logs the line, every one sleeps."""
        if self.since is None:
            self.since = time.monotonic()
            self.log.warning("%s unreachable (%s): retrying with backoff", self.what,
                             describe(exc))
        delay = min(self.cap, self.first * 2 ** self.tries) * random.uniform(0.8, 1.2)
        self.tries += 1
        end = time.monotonic() + delay
        while not stopping() and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def ok(self) -> None:
        if self.since is not None:
            self.log.warning("%s reachable again after %.1f s: resuming", self.what,
                             time.monotonic() - self.since)
            self.since, self.tries = None, 0


def retry(fn: Callable, outage: Outage, stopping: Callable[[], bool] = lambda: False):
    """fn() until it stops failing with an outage; returns its value (None if `stopping()`
    became true meanwhile). Any other exception propagates."""
    while True:
        try:
            value = fn()
        except Exception as exc:
            if not transient(exc):
                raise
            if stopping():
                return None
            outage.wait(exc, stopping)
            continue
        outage.ok()
        return value
