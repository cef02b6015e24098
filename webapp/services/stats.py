"""Queue statistics of a welcome number (SWB-3), computed from the call history that the
calllog worker copies from the engine's log — so they match that log exactly.

Definitions (shown on the page):
- received: calls with an outcome in the period (answered, abandoned, rejected busy,
  forwarded to a backup number, transferred by the switchboard, closed by the scenario);
- wait: `wait_ms` of answered calls (arrival at the number → bridge); 90th percentile by
  nearest rank; "answered within 20 s": answered calls with wait ≤ 20 s / received;
- per agent: calls answered, offers, ring time (sum of `ring_ms` of its offers), talk
  time (sum of `talk_ms` of its completed calls), rest time (after each completed call,
  its queue's rest delay, cut short by the agent's next answered call), pause time (sum of
  `paused_ms` of the line's ended breaks, Q-13);
- service level: answered within the threshold of the call's own queue (`sla_s` of the
  profile, default 20 s) / received; short abandons (under 5 s, as Asterisk and Wazo do)
  are shown apart and left out of the abandon rate and of the service level's base.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.numbers import format_decimal

from webapp.i18n import Duration, _
from webapp.models import CallLogEntry, Service, StatsSubscription, WelcomeLine, WelcomeProfile
from webapp.services import audit, csv_safe
from webapp.services.actor import Actor
from webapp.services.errors import FormError

OUTCOMES = ("answered", "abandoned", "rejected", "forwarded", "transferred", "closed")
PERIODS = {"today": "Aujourd'hui", "7d": "7 derniers jours", "30d": "30 derniers jours",
           "custom": _("Personnalisée")}
SERVICE_LEVEL_MS = 20_000  # the default threshold of a queue (`sla_s`)
SHORT_ABANDON_MS = 5_000
MAX_CUSTOM_DAYS = 366


class PeriodError(FormError):
    """A custom period that cannot be used (webapp.services.errors)."""


@dataclass(frozen=True)
class Period:
    key: str
    first: dt.date  # local dates, inclusive
    last: dt.date
    start_ms: int
    end_ms: int  # exclusive


def period(key: str, zone: ZoneInfo, today: dt.date | None = None,
           start: str = "", end: str = "") -> Period:
    today = today or dt.datetime.now(zone).date()
    if key == "custom":
        try:
            first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError:
            raise PeriodError(_("Saisissez les deux dates de la période (du … au …).")) from None
        if last < first:
            raise PeriodError(_("La date de fin doit être le même jour ou après la date de début."))
        if (last - first).days >= MAX_CUSTOM_DAYS:
            raise PeriodError(_("La période ne peut dépasser un an."))
    else:
        days = {"7d": 7, "30d": 30}.get(key, 1)
        key = key if key in PERIODS else "today"
        first, last = today - dt.timedelta(days=days - 1), today

    def ms(day: dt.date) -> int:
        return int(dt.datetime.combine(day, dt.time(), zone).timestamp() * 1000)

    return Period(key, first, last, ms(first), ms(last + dt.timedelta(days=1)))


@dataclass
class AgentStats:
    line: str
    label: str = ""
    answered: int = 0
    offers: int = 0
    ring_ms: int = 0
    talk_ms: int = 0
    rest_ms: int = 0
    pause_ms: int = 0


@dataclass
class Stats:
    counts: dict[str, int]
    received: int
    waits: list[int]
    avg_wait_ms: int | None
    p90_wait_ms: int | None
    within_20s: int
    service_level: float | None  # answered within their queue's threshold / counted calls
    agents: list[AgentStats]
    days: list[tuple[dt.date, dict[str, int]]] = field(default_factory=list)
    short_abandoned: int = 0  # abandoned under 5 s: shown apart
    abandon_rate: float | None = None  # abandoned (5 s or more) / (received − short ones)
    thresholds: dict[str, int] = field(default_factory=dict)  # profile name → seconds


def percentile(values: list[int], q: float) -> int | None:
    """Nearest-rank percentile: the smallest value with at least q of them at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def compute(service: Service, p: Period, zone: ZoneInfo) -> Stats:
    rows = list(CallLogEntry.select().where(
        (CallLogEntry.account == service.account_id) & (CallLogEntry.number == service.number)
        & (CallLogEntry.ts_ms >= p.start_ms) & (CallLogEntry.ts_ms < p.end_ms))
        .order_by(CallLogEntry.ts_ms, CallLogEntry.id))
    counts = dict.fromkeys(OUTCOMES, 0)
    waits: list[int] = []
    profiles = list(WelcomeProfile.select().where(WelcomeProfile.service == service.id))
    sla = {p.key: (p.sla_s or 20) * 1000 for p in profiles if p.kind == "queue"}
    rest = {p.key: p.rest_s * 1000 for p in profiles if p.kind == "queue"}
    within = short = 0
    ends: dict[str, list[tuple[int, str]]] = {}  # line → (end ts, profile) of its calls
    starts: dict[str, list[int]] = {}  # line → bridge ts
    agents: dict[str, AgentStats] = {}
    ndays = (p.last - p.first).days + 1
    per_day = {p.first + dt.timedelta(days=i): dict.fromkeys(OUTCOMES, 0) for i in range(ndays)}

    def agent(line: str) -> AgentStats:
        return agents.setdefault(line, AgentStats(line))

    for r in rows:
        if r.type in counts:
            counts[r.type] += 1
            day = dt.datetime.fromtimestamp(r.ts_ms / 1000, zone).date()
            if day in per_day:
                per_day[day][r.type] += 1
            if r.type == "answered":
                waits.append(r.wait_ms or 0)
                if (r.wait_ms or 0) <= sla.get(r.profile or "", SERVICE_LEVEL_MS):
                    within += 1
                if r.line:
                    agent(r.line).answered += 1
                    starts.setdefault(r.line, []).append(r.ts_ms)
            elif r.type == "abandoned" and (r.wait_ms or 0) < SHORT_ABANDON_MS:
                short += 1
        elif r.type == "offered" and r.line:
            a = agent(r.line)
            a.offers += 1
            a.ring_ms += r.ring_ms or 0
        elif r.type == "completed" and r.line:
            agent(r.line).talk_ms += r.talk_ms or 0
            ends.setdefault(r.line, []).append((r.ts_ms, r.profile or ""))
    for line, done in ends.items():
        later = starts.get(line, [])
        for end, prof in done:
            nxt = min((t for t in later if t >= end), default=None)
            delay = rest.get(prof, max(rest.values(), default=0))
            agent(line).rest_ms += min(delay, nxt - end) if nxt is not None else min(
                delay, max(0, p.end_ms - end))
    agent_lines = {r.line.number for r in WelcomeLine.select(WelcomeLine, Service).join(
        Service, on=(WelcomeLine.line == Service.id)).join_from(
        WelcomeLine, WelcomeProfile).where(WelcomeProfile.service == service.id)} | set(agents)
    for line, paused in CallLogEntry.select(CallLogEntry.line, CallLogEntry.paused_ms).where(
            (CallLogEntry.account == service.account_id) & (CallLogEntry.type == "line.unpaused")
            & CallLogEntry.line.in_(list(agent_lines) or [""])
            & (CallLogEntry.ts_ms >= p.start_ms) & (CallLogEntry.ts_ms < p.end_ms)).tuples():
        agent(line).pause_ms += paused or 0
    received = sum(counts.values())
    counted = received - short
    labels = {s.number: (s.label or "") for s in Service.select(Service.number, Service.label)
              .where((Service.account == service.account_id)
                     & Service.number.in_(list(agents) or [""]))}
    for a in agents.values():
        a.label = labels.get(a.line, "")
    return Stats(counts=counts, received=received, waits=waits,
                 avg_wait_ms=round(sum(waits) / len(waits)) if waits else None,
                 p90_wait_ms=percentile(waits, 0.9), within_20s=within,
                 service_level=(within / counted) if counted else None,
                 agents=sorted(agents.values(), key=lambda a: a.line),
                 days=sorted(per_day.items()), short_abandoned=short,
                 abandon_rate=((counts["abandoned"] - short) / counted) if counted else None,
                 thresholds={p.name: p.sla_s or 20 for p in profiles if p.kind == "queue"})


def seconds(ms: int | None) -> Duration | str:
    """A duration in the reader's language (Babel, UI-5): "1 min 5 s", "12 s"; "—" when
    nothing was measured."""
    if ms is None:
        return "—"
    return Duration.of_ms(ms)


def percent(share: float | None) -> str:
    return "—" if share is None else _("%(value)s %%", value=share * 100.0)


def to_csv(service: Service, p: Period, s: Stats) -> str:
    """Semicolon-separated (French spreadsheets), durations in seconds with decimals."""
    out = io.StringIO()
    w = csv_safe.writer(out)
    w.writerow([_("Numéro d'accueil"), service.number])
    w.writerow([_("Du"), p.first.isoformat(), _("Au"), p.last.isoformat()])
    w.writerow([])
    w.writerow(["Indicateur", "Valeur"])
    for label, value in (
        (_("Appels reçus"), s.received), (_("Répondus"), s.counts["answered"]),
        (_("Abandonnés"), s.counts["abandoned"]), (_("Rejetés (occupation)"), s.counts["rejected"]),
        (_("Renvoyés (numéro de secours)"), s.counts["forwarded"]),
        (_("Transférés (standard)"), s.counts["transferred"]),
        (_("Terminés par le scénario"), s.counts["closed"]),
        ("Attente moyenne (s)", _sec(s.avg_wait_ms)),
        ("Attente 90e centile (s)", _sec(s.p90_wait_ms)),
        (_("Répondus dans le seuil de leur file"), s.within_20s),
        (_("Qualité de service (%)"),
         "" if s.service_level is None else _csv_decimal(s.service_level * 100)),
        (_("Abandons courts (moins de 5 s)"), s.short_abandoned),
        ("Taux d'abandon, hors abandons courts (%)",
         "" if s.abandon_rate is None else _csv_decimal(s.abandon_rate * 100)),
    ):
        w.writerow([label, value])
    w.writerow([])
    w.writerow(["Ligne", _("Libellé"), _("Appels répondus"), _("Présentations"), "Sonnerie (s)",
                "Conversation (s)", "Repos (s)", "Pause (s)"])
    for a in s.agents:
        w.writerow([a.line, a.label, a.answered, a.offers, _sec(a.ring_ms), _sec(a.talk_ms),
                    _sec(a.rest_ms), _sec(a.pause_ms)])
    w.writerow([])
    w.writerow(["Jour", _("Reçus"), _("Répondus"), _("Abandonnés"), _("Rejetés")])
    for day, c in s.days:
        w.writerow([day.isoformat(), sum(c.values()), c["answered"], c["abandoned"],
                    c["rejected"]])
    return out.getvalue()


def _sec(ms: int | None) -> str:
    return "" if ms is None else _csv_decimal(ms / 1000)


def _csv_decimal(value: float) -> str:
    """French decimals without grouping ("1200,5"): read as numbers by French spreadsheets."""
    return format_decimal(value, format="0.0", locale="fr")


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    cls: str
    title: str


def day_chart(s: Stats, width: int = 640, height: int = 200, locale: str = "fr") -> dict:
    """Geometry of a stacked bar chart (answered / abandoned / other) per day, for an SVG
    drawn by the template: no chart library, no script. Days read as in `locale`."""
    pad_l, pad_b, pad_t = 36, 24, 8
    inner_w, inner_h = width - pad_l - 4, height - pad_b - pad_t
    top = max([sum(c.values()) for _day, c in s.days] + [1])
    step = inner_w / max(len(s.days), 1)
    bars: list[Bar] = []
    labels = []
    every = max(1, math.ceil(len(s.days) / 10))
    for i, (day, c) in enumerate(s.days):
        x = pad_l + i * step + step * 0.15
        y = pad_t + inner_h
        when = format_skeleton("dM", day, locale=locale)
        parts = (("answered", c["answered"], _("répondus")), ("abandoned", c["abandoned"],
                 _("abandonnés")), ("other", sum(c.values()) - c["answered"] - c["abandoned"],
                 _("autres issues")))
        for cls, value, name in parts:
            if value:
                h = inner_h * value / top
                y -= h
                bars.append(Bar(round(x, 1), round(y, 1), round(step * 0.7, 1), round(h, 1),
                                cls, _("%(day)s : %(count)s %(what)s", day=when, count=value,
                                       what=name)))
        if i % every == 0:
            labels.append((round(x + step * 0.35, 1), when))
    return {"width": width, "height": height, "bars": bars, "labels": labels, "top": top,
            "axis_y": pad_t + inner_h, "pad_l": pad_l, "pad_t": pad_t}


def agent_chart(s: Stats, width: int = 400, row: int = 48) -> dict:
    """Horizontal bars of answered calls per agent, each labelled above its bar (the
    labels stay readable when the chart shrinks to a phone's width)."""
    pad_l = 0
    top = max([a.answered for a in s.agents] + [1])
    bars = []
    for i, a in enumerate(s.agents):
        w = (width - pad_l - 40) * a.answered / top
        bars.append({"y": i * row + 4, "w": round(w, 1), "label": a.label or a.line,
                     "value": a.answered})
    return {"width": width, "height": max(len(s.agents), 1) * row + 8, "bars": bars,
            "pad_l": pad_l, "row": row}


def is_subscribed(service: Service, contact_id: int) -> bool:
    """Whether this contact gets the weekly report of this number (SWB-8)."""
    return StatsSubscription.select().where(
        (StatsSubscription.service == service.id)
        & (StatsSubscription.contact == contact_id)).exists()


def subscribe(service: Service, on: bool, *, actor: Actor) -> None:
    """The acting user's own subscription to the weekly report of this number (SWB-8)."""
    contact_id = actor.user.contact_id
    if on:
        StatsSubscription.insert(service=service.id, contact=contact_id
                                 ).on_conflict_ignore().execute()
    else:
        StatsSubscription.delete().where((StatsSubscription.service == service.id)
                                         & (StatsSubscription.contact == contact_id)).execute()
    audit.record("stats.weekly_report", account=service.account_id, actor=actor,
                 service_id=service.id, on=on)
