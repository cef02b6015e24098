"""A batch's one round trip on a single Redis server: MULTI, the batch's commands, EXEC
and, when the engine has caught up, the blocking XREADGROUP that waits for the next
events, packed into one send on one connection the engine holds; the replies are read
in order.

The transaction is the same MULTI/EXEC as through redis-py's pipeline (docs/protocol.md:
a batch's state, `out`/`log` entries and XACK are atomic); the read after EXEC is
outside it, exactly like the separate blocking read it replaces (entries it delivers
are pending until a later batch acknowledges them, so a crash re-reads them). Sending
both at once saves a round trip per batch when events come one or two at a time
(2,000 events/s): one send and one server read instead of two, and none of
redis-py's per-command layers (client CPU per batch here: ~36 µs for
MULTI/EVAL/EXEC + XREADGROUP, against ~45 + ~33 µs through `pipeline()` and
`xreadgroup()`); `pack` writes the RESP request itself (~6 µs for a batch's four
commands, ~18 µs through redis-py's `pack_commands`; less with `prefix`, the constant
script and keys packed once).

Only for a plain `redis.Redis` (`redis_client.one_node`): a Redis Cluster client has no
single connection pool, and the shell keeps redis-py's cluster pipeline there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import redis
from redis.connection import Connection
from redis.exceptions import ResponseError

from engine.commit import Entry

Command = Sequence[object]


class Wire:
    """One connection of `conn`'s pool, held for the engine's batches (taking one from the
    pool and giving it back costs a poll of the socket and a lock, each time)."""

    def __init__(self, conn: redis.Redis) -> None:
        self.pool = conn.connection_pool
        self.connection: Connection | None = None

    def transact(self, commands: list[Command],
                 then: Command | None = None) -> tuple[list, object]:
        """Run `commands` in one MULTI/EXEC, then `then` (a command outside the
        transaction, e.g. a blocking XREADGROUP), all sent at once. Returns (EXEC's
        replies, then's reply or None). Raises the first error (a refused command:
        nothing was executed; an error inside EXEC: redis-py's pipeline raises it the same
        way); any error drops the connection (replies may still be on their way), the
        next call connects again."""
        c = self.connection
        if c is None:
            c = self.connection = self.pool.get_connection()
        try:
            wire = [("MULTI",), *commands, ("EXEC",)]
            if then is not None:
                wire.append(then)
            c.send_packed_command([pack(wire)])
            refused: ResponseError | None = None
            for _ in range(len(commands) + 1):  # +OK for MULTI, +QUEUED for each command
                try:
                    c.read_response()
                except ResponseError as exc:
                    refused = refused or exc
            try:
                replies = c.read_response()
            except ResponseError as exc:  # EXECABORT: the reason is the refused command's
                raise refused or exc from None
            for reply in replies:
                if isinstance(reply, ResponseError):
                    raise reply
            return replies, (c.read_response() if then is not None else None)
        except BaseException:
            c.disconnect()
            raise

    def close(self) -> None:
        """Give the connection back to the pool."""
        if self.connection is not None:
            self.pool.release(self.connection)
            self.connection = None


class Prefix(NamedTuple):
    """The first arguments of a command, packed once (`prefix`): a command given to
    `pack` as (Prefix, more arguments...) costs only its last arguments."""
    packed: bytes
    count: int


def prefix(*args: object) -> Prefix:
    out: list[bytes] = []
    _add(out, args)
    return Prefix(b"".join(out), len(args))


def pack(commands: list[Command]) -> bytes:
    """The commands in RESP, as redis-py's `pack_commands` writes them (arguments: bytes,
    str as UTF-8, numbers as decimal text), in a third of its time."""
    out: list[bytes] = []
    for command in commands:
        first = command[0]
        if type(first) is Prefix:
            out.append(b"*%d\r\n" % (first.count + len(command) - 1))
            out.append(first.packed)
            _add(out, command[1:])
        else:
            out.append(b"*%d\r\n" % len(command))
            _add(out, command)
    return b"".join(out)


def _add(out: list[bytes], args: Sequence[object]) -> None:
    for arg in args:
        if type(arg) is not bytes:
            arg = str(arg).encode()
        out.append(b"$%d\r\n%b\r\n" % (len(arg), arg))


def xreadgroup(group: str, consumer: str, stream: str, count: int) -> Callable[[int], Command]:
    """The blocking XREADGROUP of new entries, as a command for `Wire.transact`'s `then`,
    given how long it may block (ms)."""
    head = prefix("XREADGROUP", "GROUP", group, consumer, "COUNT", count, "BLOCK")
    return lambda block: (head, block, "STREAMS", stream, ">")


def stream_entries(reply: object) -> list[Entry]:
    """An XREADGROUP reply of one stream as it comes off the wire (RESP3: a map, RESP2:
    [[stream, entries]]; None when the read timed out), fields decoded as UTF-8."""
    if not reply:
        return []
    streams = reply.values() if isinstance(reply, dict) else [s[1] for s in reply]
    batch: list[Entry] = []
    for raw in streams:
        for eid, fields in raw:
            if fields:
                it = iter([x.decode("utf-8", "replace") for x in fields])
                batch.append((eid.decode(), dict(zip(it, it, strict=True))))
            else:
                batch.append((eid.decode(), None))
    return batch
