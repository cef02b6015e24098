"""Engine shards (SCALE-1): which shard an account's telephony lives on, and moving an
account from one shard to another without losing a call.

Every account has `Account.shard` (set at creation over ENGINE_SHARDS, never changed by
anything but `move_account`); every key of its telephony is `acd:{shard}:…` on
ENGINE_REDIS_URL (docs/protocol.md "Keys"). One engine per shard (`python -m engine --shard N`)
builds only that shard's accounts. No Flask here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from peewee import fn

from engine.codec import agent_from_dict, loads
from engine.entities import Agent
from webapp.db import db
from webapp.models import Account, Service
from webapp.services import audit, sip_directory
from webapp.services.engine_notify import engine_stream, publish_config_reload


def assign_shard(shards: int) -> int:
    """The shard a new account goes to: the least populated of 0..shards-1 (lowest first),
    so accounts spread evenly and an existing account never moves by itself."""
    shards = max(1, shards)
    counts = dict(Account.select(Account.shard, fn.COUNT(Account.id)).where(
        Account.shard < shards).group_by(Account.shard).tuples())
    return min(range(shards), key=lambda n: (counts.get(n, 0), n))


def shard_of(account_id: int | None) -> int:
    if account_id is None:
        return 0
    found = Account.select(Account.shard).where(Account.id == account_id).scalar()
    return int(found or 0)


class MoveError(RuntimeError):
    pass


@dataclass
class MoveReport:
    account_id: int
    source: int
    target: int
    waited_s: float = 0.0
    lines: dict[str, str] = field(default_factory=dict)  # line → state carried over


def _state_key(shard: int) -> str:
    return f"acd:{{{shard}}}:state"


def _live_calls(snapshots: list[bytes | None]) -> int:
    total = 0
    for raw in snapshots:
        snap = json.loads(raw) if raw else {}
        total += sum(len(snap.get(part, [])) for part in ("waiting", "ringing", "menu",
                                                           "bridged"))
    return total


def _caught_up(conn, shard: int) -> bool:
    """The shard's engine has handled everything sent to it (its records are current)."""
    stream = engine_stream(shard)
    if not conn.exists(stream):
        return True
    groups = conn.xinfo_groups(stream)
    last = conn.xinfo_stream(stream)["last-generated-id"]
    return not groups or (groups[0]["pending"] == 0
                          and groups[0]["last-delivered-id"] == last)


def _wait(ready, timeout_s: float, poll_s: float) -> bool:
    """Poll `ready()` until it holds (True) or `timeout_s` has passed (False)."""
    started = time.monotonic()
    while not ready():
        if time.monotonic() - started >= timeout_s:
            return False
        time.sleep(poll_s)
    return True


def _presence(engine_conn, shard: int, lines: list[str]) -> dict[str, Agent]:
    """The engine's records of these lines on `shard` (engine/codec.py rows)."""
    rows = engine_conn.hmget(f"acd:{{{shard}}}:agents", lines) if lines else []
    return {line: agent_from_dict(loads(raw)) for line, raw in zip(lines, rows, strict=True)
            if raw}


def _carry(agent: Agent) -> list[dict[str, str]]:
    """Events that give a fresh engine this line's presence: registered, its outside
    calls in progress, its break (Q-13, with its reason)."""
    events = []
    if agent.registered:
        events.append({"type": "line.registered"})
    events += [{"type": "line.busy"}] * agent.external
    if agent.paused is not None:
        events.append({"type": "line.paused", "reason": agent.paused})
    return events


def _release(agent: Agent) -> list[dict[str, str]]:
    """Events that leave the old shard's record of the line blank (a later move back
    starts from the truth, not from a stale presence): its break ends there (logged, so
    break statistics see it end on one shard and go on on the other)."""
    events = []
    if agent.paused is not None:
        events.append({"type": "line.unpaused"})
    events += [{"type": "line.idle"}] * agent.external
    if agent.registered:
        events.append({"type": "line.unregistered"})
    return events


def _send(engine_conn, shard: int, line: str, events: list[dict[str, str]]) -> None:
    ts = str(int(time.time() * 1000))
    for event in events:
        engine_conn.xadd(engine_stream(shard), {**event, "line": line, "ts": ts})


def move_account(account: Account, target: int, *, shards: int, engine_conn,
                 engine_url: str, timeout_s: float = 60.0, poll_s: float = 0.2,
                 actor: str = "cli") -> MoveReport:
    """Drain, move, reload both.

    1. drain: wait (at most `timeout_s`) until the source shard's snapshots of the
       account's welcome numbers show no call waiting, ringing, in a menu or connected;
    2. move: `Account.shard = target` in the database (audited);
    3. reload both, scoped to the account's welcome numbers (SCALE-2): `config.reload` on
       the target (it now builds the account's numbers); the lines' state as the source
       engine holds it, once it has handled everything it was sent (registered, outside
       calls in progress, a break with its reason: Q-13) sent to the target as events;
       the SIP directory republished with the new shard (Kamailio and the connector
       send the account's events there from now on); a second drain of the source (a
       call that reached it before the directory changed ends there); `config.reload`
       on the source (it drops the numbers), the lines' records there left blank, and
       its stale snapshots of those numbers removed.
    Not carried (the protocol has no event for them): a rest delay still running after
    a line's last call (Q-8) and the count of missed offers toward "Pause automatique".
    """
    source = int(account.shard)
    if not 0 <= target < max(1, shards):
        raise MoveError(f"shard {target} does not exist (ENGINE_SHARDS={shards})")
    report = MoveReport(account.id, source, target)
    if source == target:
        return report
    numbers = [n for (n,) in Service.select(Service.number).where(
        (Service.account == account.id) & (Service.kind == "welcome")).tuples()]
    started = time.monotonic()

    def quiet() -> bool:
        return not numbers or not _live_calls(engine_conn.hmget(_state_key(source), numbers))

    if not _wait(quiet, timeout_s, poll_s):
        live = _live_calls(engine_conn.hmget(_state_key(source), numbers))
        raise MoveError(f"{live} call(s) still live on shard {source} after "
                        f"{timeout_s:.0f} s: nothing moved, try again when it is quiet")
    report.waited_s = time.monotonic() - started
    lines = sorted(n for (n,) in Service.select(Service.number).where(
        (Service.account == account.id) & (Service.kind.in_(("fixed", "mobile")))).tuples())
    with db.atomic():
        Account.update(shard=target).where(Account.id == account.id).execute()
        audit.record("account.shard_moved", account=account.id, by=actor,
                     source=source, target=target)
    account.shard = target
    publish_config_reload(engine_url, target, numbers)  # scoped (SCALE-2): just those
    if not _wait(lambda: _caught_up(engine_conn, source), timeout_s, poll_s):
        raise MoveError(f"shard {source} did not catch up within {timeout_s:.0f} s")
    agents = _presence(engine_conn, source, lines)
    for line, agent in agents.items():
        carried = _carry(agent)
        if carried:
            _send(engine_conn, target, line, carried)
            report.lines[line] = ("paused" if agent.paused is not None else
                                  "busy" if agent.external else "registered")
    sip_directory.account_moved(account.id, engine_conn)
    # a call that reached the source meanwhile ends there (it keeps its numbers until then)
    _wait(quiet, timeout_s, poll_s)
    publish_config_reload(engine_url, source, numbers)  # gone from the source's builder
    for line, agent in agents.items():
        _send(engine_conn, source, line, _release(agent))
    if numbers:
        engine_conn.hdel(_state_key(source), *numbers)
    return report
