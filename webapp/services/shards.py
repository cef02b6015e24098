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

from webapp.db import db
from webapp.models import Account, Service
from webapp.services import audit
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


def shard_of_number(number: str) -> int | None:
    """The shard whose engine handles this welcome number or line (the PBX side routes a
    number's events there); None for a number nobody has."""
    found = (Account.select(Account.shard).join(Service)
             .where(Service.number == number).scalar())
    return None if found is None else int(found)


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


def move_account(account: Account, target: int, *, shards: int, engine_conn,
                 engine_url: str, timeout_s: float = 60.0, poll_s: float = 0.2,
                 actor: str = "cli") -> MoveReport:
    """Drain, move, reload both.

    1. drain: wait (at most `timeout_s`) until the source shard's snapshots of the
       account's welcome numbers show no call waiting, ringing, in a menu or connected;
    2. move: `Account.shard = target` in the database (audited);
    3. reload both, scoped to the account's welcome numbers (SCALE-2): `config.reload` on
       the target (it now builds the account's numbers),
       then the lines' presence as the source engine knew it (`line.registered`, and
       `line.busy` for a line in an outside call), then `config.reload` on the source
       (it drops them) and the source's stale snapshots of those numbers are removed.
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
    while True:
        snaps = engine_conn.hmget(_state_key(source), numbers) if numbers else []
        live = _live_calls(snaps)
        if not live:
            break
        if time.monotonic() - started >= timeout_s:
            raise MoveError(f"{live} call(s) still live on shard {source} after "
                            f"{timeout_s:.0f} s: nothing moved, try again when it is quiet")
        time.sleep(poll_s)
    report.waited_s = time.monotonic() - started
    lines = {n for (n,) in Service.select(Service.number).where(
        (Service.account == account.id) & (Service.kind.in_(("fixed", "mobile")))).tuples()}
    for raw in (json.loads(s) for s in snaps if s):
        for agent in raw.get("agents", []):
            if agent.get("line") in lines and agent.get("state") != "offline":
                report.lines[agent["line"]] = "busy" if agent.get("external") else "registered"
    with db.atomic():
        Account.update(shard=target).where(Account.id == account.id).execute()
        audit.record("account.shard_moved", account=account.id, by=actor,
                     source=source, target=target)
    account.shard = target
    publish_config_reload(engine_url, target, numbers)  # scoped (SCALE-2): just those
    ts = str(int(time.time() * 1000))
    for line, presence in sorted(report.lines.items()):
        engine_conn.xadd(engine_stream(target), {"type": "line.registered", "line": line,
                                                 "ts": ts})
        if presence == "busy":
            engine_conn.xadd(engine_stream(target), {"type": "line.busy", "line": line,
                                                     "ts": ts})
    publish_config_reload(engine_url, source, numbers)  # gone from the source's builder
    if numbers:
        engine_conn.hdel(_state_key(source), *numbers)
    return report
