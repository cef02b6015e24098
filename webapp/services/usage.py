"""Usage per billing period (LINE-5): the calendar month in the account's time zone.

Minutes are talk time of answered calls, each call rounded up to the whole minute
(as operators bill); mobile data is shown only when the PBX side reports it, which
`pbx:cdr` does not carry today (the page says so rather than showing zeros).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from peewee import fn

from webapp.i18n import _
from webapp.models import Service
from webapp.models.history import CallRecord
from webapp.services.call_history import local_to_utc

MONTHS = [_("janvier"), _("février"), _("mars"), _("avril"), _("mai"), _("juin"),
          _("juillet"), _("août"), _("septembre"), _("octobre"), _("novembre"), _("décembre")]


@dataclass
class Period:
    label: str
    start: dt.date
    end: dt.date  # exclusive

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


@dataclass
class Usage:
    period: Period
    calls_in: int
    calls_out: int
    minutes_in: int
    minutes_out: int
    data_mb: float | None = None

    @property
    def minutes(self) -> int:
        return self.minutes_in + self.minutes_out


def periods(today: dt.date) -> list[Period]:
    """The current and previous billing periods."""
    start = today.replace(day=1)
    prev_start = (start - dt.timedelta(days=1)).replace(day=1)
    next_start = (start + dt.timedelta(days=32)).replace(day=1)
    return [Period(_("%(month)s %(year)s (en cours)", month=MONTHS[start.month - 1],
                     year=start.year), start, next_start),
            Period(_("%(month)s %(year)s", month=MONTHS[prev_start.month - 1],
                     year=prev_start.year), prev_start, start)]


def usage(service: Service, period: Period, tz: ZoneInfo) -> Usage:
    rows = (CallRecord.select(CallRecord.direction, fn.COUNT(CallRecord.id),
                              fn.COALESCE(fn.SUM((CallRecord.duration_s + 59) / 60), 0))
            .where((CallRecord.service == service.id) & (CallRecord.status == "answered")
                   & (CallRecord.started_at >= local_to_utc(period.start, tz))
                   & (CallRecord.started_at < local_to_utc(period.end, tz)))
            .group_by(CallRecord.direction).tuples())
    data = {d: (int(c), int(m)) for d, c, m in rows}
    calls_in, minutes_in = data.get("in", (0, 0))
    calls_out, minutes_out = data.get("out", (0, 0))
    return Usage(period, calls_in, calls_out, minutes_in, minutes_out)


def for_line(service: Service, tz: ZoneInfo, today: dt.date | None = None) -> list[Usage]:
    today = today or dt.datetime.now(tz).date()
    return [usage(service, p, tz) for p in periods(today)]
