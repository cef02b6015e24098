"""Per-line call history (LINE-5): CDR ingestion (idempotent), filtered pages, CSV.

CDRs arrive from `pbx:cdr` (docs/protocol.md "Call detail records") through consumer group
`calllog` (worker/cdr.py). Each stream entry id becomes `CallRecord.entry_id` (unique):
inserting with ON CONFLICT IGNORE makes a replay after a crash harmless.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from peewee import fn

from webapp.db import db
from webapp.i18n import Duration, _
from webapp.models import Account, Service
from webapp.models.history import ANONYMOUS, CALL_STATUSES, DIRECTIONS, CallRecord
from webapp.services import csv_safe, phones

log = logging.getLogger(__name__)

PAGE_SIZE = 50
KINDS = {
    "": _("Tous les appels"),
    "in": _("Entrants répondus"),
    "out": "Sortants",
    "missed": _("Manqués"),
    "blocked": _("Bloqués"),
}
MISSED = ("missed", "busy", "failed")


def _ms(value) -> dt.datetime | None:
    text = (value or "").strip() if isinstance(value, str) else value
    if text in (None, ""):
        return None
    return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC).replace(tzinfo=None)


def _decode(fields: dict) -> dict:
    return {(k.decode() if isinstance(k, bytes) else k):
            (v.decode() if isinstance(v, bytes) else v) for k, v in fields.items()}


def parse_cdr(entry_id: str, fields: dict, lines: dict[str, tuple[int, int]]) -> dict | None:
    """A CallRecord row from one stream entry, or None (unknown line, malformed)."""
    f = _decode(fields)
    line = f.get("line", "")
    if line not in lines:
        return None
    direction = f.get("direction")
    status = f.get("status")
    if direction not in DIRECTIONS or status not in CALL_STATUSES:
        return None
    try:
        started, ended = _ms(f.get("started_ms")), _ms(f.get("ended_ms"))
        answered = _ms(f.get("answered_ms"))
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    if started is None or ended is None:
        return None
    peer = (f.get("peer") or ANONYMOUS)[:20]
    duration = 0
    if answered is not None and status == "answered":
        duration = max(0, round((ended - answered).total_seconds()))
    account_id, service_id = lines[line]
    return {"account": account_id, "service": service_id, "entry_id": entry_id,
            "direction": direction, "peer": peer, "status": status, "started_at": started,
            "answered_at": answered, "ended_at": ended, "duration_s": duration,
            "call_ref": (f.get("call") or "")[:64]}


def ingest(entries: Iterable[tuple[str, dict]]) -> tuple[int, int]:
    """Store CDR entries; returns (stored, ignored). Replays insert nothing new."""
    entries = [(e.decode() if isinstance(e, bytes) else e, f) for e, f in entries]
    numbers = {_decode(f).get("line", "") for _e, f in entries}
    lines = {s.number: (s.account_id, s.id) for s in
             Service.select(Service.id, Service.number, Service.account)
             .where(Service.number.in_(list(numbers) or [""]))}
    rows = [r for r in (parse_cdr(e, f, lines) for e, f in entries) if r is not None]
    ignored = len(entries) - len(rows)
    if rows:
        with db.atomic():
            before = CallRecord.select().where(
                CallRecord.entry_id.in_([r["entry_id"] for r in rows])).count()
            for start in range(0, len(rows), 200):
                CallRecord.insert_many(rows[start:start + 200]).on_conflict_ignore().execute()
        stored = len(rows) - before
    else:
        stored = 0
    return stored, ignored


# --- reading ----------------------------------------------------------------------

def zone(account_id: int) -> ZoneInfo:
    account = Account.get_by_id(account_id)
    try:
        return ZoneInfo(account.timezone or "Europe/Paris")
    except Exception:  # an unknown zone name: fall back to the French default
        return ZoneInfo("Europe/Paris")


def local_to_utc(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return (dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC).replace(tzinfo=None))


def to_local(value: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).astimezone(tz)


@dataclass
class Filters:
    start: dt.date
    end: dt.date  # inclusive
    kind: str = ""
    errors: dict | None = None


def parse_filters(args, tz: ZoneInfo, today: dt.date | None = None) -> Filters:
    """Period "du"/"au" (dates, inclusive) and kind; default: the current month."""
    today = today or dt.datetime.now(tz).date()
    errors: dict = {}
    start_default = today.replace(day=1)

    def date(name, default):
        raw = (args.get(name) or "").strip()
        if not raw:
            return default
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            errors[name] = "Date invalide (format attendu : AAAA-MM-JJ)."
            return default

    start, end = date("du", start_default), date("au", today)
    if start > end:
        errors["au"] = _("La fin de la période précède son début.")
        start, end = start_default, today
    kind = args.get("type", "")
    if kind not in KINDS:
        kind = ""
    return Filters(start, end, kind, errors)


def query(service: Service, filters: Filters, tz: ZoneInfo):
    q = CallRecord.select().where(
        (CallRecord.service == service.id)
        & (CallRecord.started_at >= local_to_utc(filters.start, tz))
        & (CallRecord.started_at < local_to_utc(filters.end + dt.timedelta(days=1), tz)))
    if filters.kind == "in":
        q = q.where((CallRecord.direction == "in") & (CallRecord.status == "answered"))
    elif filters.kind == "out":
        q = q.where(CallRecord.direction == "out")
    elif filters.kind == "missed":
        q = q.where((CallRecord.direction == "in") & CallRecord.status.in_(MISSED))
    elif filters.kind == "blocked":
        q = q.where(CallRecord.status == "blocked")
    return q.order_by(CallRecord.started_at.desc(), CallRecord.id.desc())


def kind_of(record: CallRecord) -> str:
    if record.status == "blocked":
        return "blocked"
    if record.direction == "out":
        return "out"
    return "in" if record.status == "answered" else "missed"


def totals(service: Service, filters: Filters, tz: ZoneInfo) -> dict[str, dict]:
    """Calls and talk seconds per kind over the period (ignoring the kind filter)."""
    base = query(service, Filters(filters.start, filters.end), tz).order_by()
    rows = (base.select(CallRecord.direction, CallRecord.status, fn.COUNT(CallRecord.id),
                        fn.COALESCE(fn.SUM(CallRecord.duration_s), 0))
            .group_by(CallRecord.direction, CallRecord.status).tuples())
    out = {k: {"calls": 0, "seconds": 0} for k in ("in", "out", "missed", "blocked")}
    for direction, status, calls, seconds in rows:
        probe = CallRecord(direction=direction, status=status)
        out[kind_of(probe)]["calls"] += calls
        out[kind_of(probe)]["seconds"] += int(seconds or 0)
    out["all"] = {"calls": sum(v["calls"] for v in out.values()),
                  "seconds": sum(v["seconds"] for v in out.values())}
    return out


def duration_label(seconds: int) -> Duration:
    """A call's length, shown by Babel in the reader's language (UI-5)."""
    return Duration(int(seconds or 0))


def peer_label(peer: str) -> str:
    return "Anonyme" if peer == ANONYMOUS else phones.display(peer)


CSV_COLUMNS = ["date", "heure", "sens", "correspondant", "statut", "duree_s", "ligne"]


def export_rows(service: Service, filters: Filters, tz: ZoneInfo) -> Iterator[str]:
    """The filtered history as CSV text chunks (UTF-8 BOM first, `;` separator, ISO dates)."""
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer)
    yield "\ufeff"
    writer.writerow(CSV_COLUMNS)
    for record in query(service, filters, tz).iterator():
        local = to_local(record.started_at, tz)
        # data, not display: ISO 8601 date and time, read by any spreadsheet (UI-5)
        writer.writerow([local.date().isoformat(), local.time().isoformat("seconds"),
                         DIRECTIONS[record.direction], peer_label(record.peer),
                         CALL_STATUSES.get(record.status, record.status), record.duration_s,
                         phones.display(service.number)])
        if buffer.tell() > 16_384:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
