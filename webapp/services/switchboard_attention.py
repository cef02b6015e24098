"""Attention on the switchboard (SWB-6): today's counters of a welcome number and the
callers to call back, from the call log (the same rows as the statistics, SWB-3), and the
"traité" mark shared by the account's receptionists. No Flask here."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

from webapp.models import CallbackMark, CallLogEntry, Service

DEFAULT_SLA_S = 20
SHORT_ABANDON_MS = 5_000  # abandons under 5 s are counted apart (as Asterisk and Wazo do)
CALLBACK_TYPES = ("abandoned", "rejected", "closed")
COUNTED_TYPES = ("answered", "abandoned", "rejected", "forwarded", "transferred", "closed")


class NumberToday(Protocol):
    """What these functions read of a board (services/switchboard.Board)."""

    account_id: int
    number: str
    zone: str
    sla: dict[str, int]

    @property
    def sla_s(self) -> int: ...


def today_ms(zone: str) -> int:
    """Midnight today in the account's time zone, epoch ms."""
    z = ZoneInfo(zone)
    return int(dt.datetime.combine(dt.datetime.now(z).date(), dt.time(), z).timestamp() * 1000)


def _today(b: NumberToday):
    return ((CallLogEntry.account == b.account_id) & (CallLogEntry.number == b.number)
            & (CallLogEntry.ts_ms >= today_ms(b.zone)))


def today_counters(b: NumberToday) -> dict:
    """Today's received / answered / abandoned (short ones apart) / service level against
    each queue's threshold."""
    rows = CallLogEntry.select(CallLogEntry.type, CallLogEntry.wait_ms,
                               CallLogEntry.profile).where(
        _today(b) & CallLogEntry.type.in_(COUNTED_TYPES)).tuples()
    received = answered = abandoned = short = within = 0
    for kind, wait, profile in rows:
        received += 1
        if kind == "answered":
            answered += 1
            if (wait or 0) <= b.sla.get(profile or "", b.sla_s) * 1000:
                within += 1
        elif kind == "abandoned":
            if (wait or 0) < SHORT_ABANDON_MS:
                short += 1
            else:
                abandoned += 1
    counted = received - short
    return {"received": received, "answered": answered, "abandoned": abandoned,
            "short": short, "sl": (within / counted) if counted else None}


def callbacks(b: NumberToday) -> list[dict]:
    """Today's callers who were not answered (abandoned, refused busy, nobody answered),
    newest first, one row per caller, with the shared "traité" mark."""
    rows = list(CallLogEntry.select(CallLogEntry.call, CallLogEntry.type, CallLogEntry.caller,
                                    CallLogEntry.ts_ms, CallLogEntry.wait_ms).where(
        _today(b) & CallLogEntry.type.in_(CALLBACK_TYPES))
        .order_by(CallLogEntry.ts_ms.desc()).limit(50))
    answered_callers = {c for (c,) in CallLogEntry.select(CallLogEntry.caller).where(
        _today(b) & (CallLogEntry.type == "answered")
        & CallLogEntry.caller.is_null(False)).tuples()}
    marks = {m.call for m in CallbackMark.select(CallbackMark.call).where(
        (CallbackMark.account == b.account_id)
        & CallbackMark.call.in_([r.call for r in rows] or [""]))}
    seen: set[str] = set()
    out = []
    for r in rows:
        caller = r.caller or ""
        if caller in seen or caller in ("", "anonymous"):
            continue
        seen.add(caller)
        out.append({"call": r.call, "type": r.type, "caller": caller, "ts_ms": r.ts_ms,
                    "done": r.call in marks, "called_back": caller in answered_callers})
    return out


def mark_callback_done(service: Service, call: str, contact_id: int) -> bool:
    """The missed call `call` of this number is called back; False if unknown."""
    entry = CallLogEntry.get_or_none((CallLogEntry.account == service.account_id)
                                     & (CallLogEntry.number == service.number)
                                     & (CallLogEntry.call == call))
    if entry is None:
        return False
    CallbackMark.insert(account=service.account_id, call=call,
                        by=contact_id).on_conflict_ignore().execute()
    return True
