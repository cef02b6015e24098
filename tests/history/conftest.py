"""Fixtures of the line history / blacklist tests: CDRs appended to the real `pbx:cdr`."""

from __future__ import annotations

import time

import pytest


class Cdrs:
    """Appends CDRs the way the PBX side (engine/simulator.py) does."""

    def __init__(self, conn):
        self.conn = conn
        self.sent: list[dict] = []

    def add(self, line: str, direction: str, peer: str, status: str, talk_s: int = 0,
            started_ms: int | None = None, call: str = "") -> None:
        started = started_ms or int(time.time() * 1000) - 3_600_000
        answered = started + 5_000 if status == "answered" else None
        ended = (answered or started + 20_000) + talk_s * 1000
        fields = {"line": line, "direction": direction, "peer": peer,
                  "started_ms": str(started), "answered_ms": str(answered or ""),
                  "ended_ms": str(ended), "status": status, "call": call}
        self.conn.xadd("pbx:cdr", fields)
        self.sent.append(dict(fields, talk_s=talk_s))


@pytest.fixture
def cdrs(redis_conn):
    return Cdrs(redis_conn)
