"""Breaks of queue agents (Q-13): reasons (built-in and the account's own), pausing and
unpausing a line through docs/protocol.md events (`line.paused` / `line.unpaused` on
`acd:{N}:in`), and the line's current break as the engine publishes it in its switchboard
snapshots. The engine is the only judge of a pause (it also pauses lines by itself,
"Pause automatique"); nothing here keeps a second copy of it. No Flask.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from dataclasses import dataclass

from peewee import fn
from redis import Redis

from webapp.db import db
from webapp.i18n import _
from webapp.models import PAUSE_REASONS, PauseReason, Service, WelcomeLine, WelcomeProfile
from webapp.services import audit
from webapp.services.actor import Actor
from webapp.services.errors import FormError

LABEL_MAX = 40
AUTO = "auto"


def reasons(account_id: int) -> list[tuple[str, str]]:
    """(code, label) of every reason the account may use: built-in first (French msgids,
    to translate on display), then its own, by label."""
    return list(PAUSE_REASONS.items()) + [(r.code, r.label) for r in own_reasons(account_id)]


def own_reasons(account_id: int) -> list[PauseReason]:
    """The reasons the account added, by label."""
    return list(PauseReason.select().where(PauseReason.account == account_id)
                .order_by(PauseReason.label))


def reason_label(account_id: int, code: str | None) -> str:
    """The label of a reason code (French msgid for the built-in ones and "auto")."""
    if not code:
        return ""
    if code == AUTO:
        return "Pause automatique"
    if code in PAUSE_REASONS:
        return PAUSE_REASONS[code]
    row = PauseReason.get_or_none((PauseReason.account == account_id) & (PauseReason.code == code))
    return row.label if row else code


def _code(account_id: int, label: str) -> str:
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:20] or "motif"
    code, n = base, 1
    while code in PAUSE_REASONS or code == AUTO or PauseReason.select().where(
            (PauseReason.account == account_id) & (PauseReason.code == code)).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def add_reason(account_id: int, label: str, actor: Actor) -> PauseReason:
    label = " ".join((label or "").split())
    if not label:
        raise FormError({"label": _("Donnez un nom au motif (ex. « Rendez-vous client »).")},
                        {"label": label})
    if len(label) > LABEL_MAX:
        raise FormError({"label": _("Le motif ne peut dépasser %(n)s caractères.", n=LABEL_MAX)},
                        {"label": label})
    taken = {v.lower() for v in PAUSE_REASONS.values()} | {
        r.label.lower() for r in PauseReason.select().where(PauseReason.account == account_id)}
    if label.lower() in taken:
        raise FormError({"label": _("Ce motif existe déjà.")}, {"label": label})
    with db.atomic():
        row = PauseReason.create(account=account_id, code=_code(account_id, label), label=label)
        audit.record("breaks.reason_added", account=account_id, user=actor.user, ip=actor.ip,
                     code=row.code, label=label)
    return row


def delete_reason(account_id: int, reason_id: int, actor: Actor) -> bool:
    row = PauseReason.get_or_none((PauseReason.id == reason_id)
                                  & (PauseReason.account == account_id))
    if row is None:
        return False
    with db.atomic():
        row.delete_instance()
        audit.record("breaks.reason_deleted", account=account_id, user=actor.user,
                     ip=actor.ip, code=row.code, label=row.label)
    return True


def reason_exists(reason_id: int) -> bool:
    """Whether any account has this reason (telling another account's from one deleted)."""
    return PauseReason.get_or_none(PauseReason.id == reason_id) is not None


def valid_reason(account_id: int, code: str) -> bool:
    return code in PAUSE_REASONS or PauseReason.select().where(
        (PauseReason.account == account_id) & (PauseReason.code == code)).exists()


def _send(conn: Redis, shard: int, fields: dict[str, str]) -> None:
    conn.xadd(f"acd:{{{shard}}}:in", {"ts": str(int(time.time() * 1000)), **fields})


def pause(conn: Redis, line: Service, code: str, actor: Actor, where: str) -> None:
    """`line.paused` for the engine (the state shows once it has handled it), audited."""
    _send(conn, actor.engine_shard, {"type": "line.paused", "line": line.number, "reason": code})
    audit.record("breaks.paused", account=line.account_id, user=actor.user, ip=actor.ip,
                 line=line.number, reason=code, where=where)


def unpause(conn: Redis, line: Service, actor: Actor, where: str) -> None:
    _send(conn, actor.engine_shard, {"type": "line.unpaused", "line": line.number})
    audit.record("breaks.unpaused", account=line.account_id, user=actor.user, ip=actor.ip,
                 line=line.number, where=where)


def agent_lines(contact_id: int | None) -> list[Service]:
    """The fixed lines a person holds that are agents of a welcome-number queue."""
    if not contact_id:
        return []
    return list(Service.select().where(
        (Service.holder == contact_id) & (Service.kind == "fixed")
        & Service.id.in_(WelcomeLine.select(WelcomeLine.line).join(WelcomeProfile).where(
            WelcomeProfile.kind == "queue")))
        .order_by(Service.number))


@dataclass
class LineState:
    state: str  # snapshot agent state ("paused", "available", …) or "" if unknown
    reason: str | None = None
    paused_since_ms: int | None = None


def line_state(conn: Redis, shard: int, line: Service) -> LineState:
    """What the engine's snapshots say of this line (any welcome number it serves)."""
    numbers = [n for (n,) in Service.select(Service.number).join(
        WelcomeProfile, on=(WelcomeProfile.service == Service.id)).join(
        WelcomeLine, on=(WelcomeLine.profile == WelcomeProfile.id)).where(
        WelcomeLine.line == line.id).distinct().tuples()]
    if not numbers:
        return LineState("")
    for raw in conn.hmget(f"acd:{{{shard}}}:state", numbers):
        if not raw:
            continue
        for a in json.loads(raw).get("agents", []):
            if a.get("line") == line.number:
                return LineState(a.get("state", ""), a.get("pause_reason"),
                                 a.get("paused_since_ms"))
    return LineState("")


def reason_count(account_id: int) -> int:
    return PauseReason.select(fn.COUNT(PauseReason.id)).where(
        PauseReason.account == account_id).scalar()
