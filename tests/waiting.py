"""The one way tests (and the benchmarks' set-up) wait for something: poll an observable
condition until it holds. A fixed sleep is never a synchronisation; where a test sleeps,
the duration itself is what it tests (an outage lasting 30 s) and a comment says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.05,
               message: str | Callable[[], str] = "", *,
               ignoring: type[BaseException] | tuple[type[BaseException], ...] = (),
               pause: Callable[[float], object] = time.sleep) -> T:
    """Call `predicate` every `interval` seconds until it returns a true value, and return
    that value; after `timeout` seconds raise AssertionError(`message`).

    `message` may be a function (called only on failure, e.g. to show a log's tail);
    exceptions of the `ignoring` types count as "not yet" (a server still starting) and
    the last one is chained to the failure; `pause` replaces time.sleep where the waiting
    thread must keep working meanwhile (a SIP endpoint handling its events).
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except ignoring as error:
            value, last_error = None, error
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"timed out ({timeout} s): "
                                 f"{text or getattr(predicate, '__name__', predicate)}"
                                 ) from last_error
        pause(interval)
