"""The weekly statistics report (SWB-8): every Monday morning, each user who subscribed to
a welcome number's report gets last week's statistics by e-mail, the CSV attached and a
link to the page. Run by the RQ scheduler; the job schedules the next one itself (one job
id per week, so restarts and several workers never schedule it twice)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from webapp.i18n import _
from webapp.models import StatsSubscription, User
from webapp.redis_conn import redis_for
from webapp.services import mail, stats
from webapp.services.notify import send_once
from webapp.settings import load
from worker.notify import _run, schedule_once

REPORT_ZONE = ZoneInfo("Europe/Paris")
REPORT_HOUR = 7  # Monday, 07:00 Paris time


def weekly_reports(today: str | None = None) -> int:
    """Last week's report (Monday to Sunday before `today`) to every subscriber."""
    def body(settings) -> int:
        sent = 0
        for sub in StatsSubscription.select():
            service, contact = sub.service, sub.contact
            user = User.get_or_none((User.contact == contact.id) & User.is_active)
            if user is None or service.account_id != contact.account_id:
                continue
            zone = ZoneInfo(service.account.timezone or "Europe/Paris")
            day = dt.date.fromisoformat(today) if today else dt.datetime.now(zone).date()
            monday = day - dt.timedelta(days=day.weekday() + 7)
            period = stats.period("custom", zone, start=monday.isoformat(),
                                  end=(monday + dt.timedelta(days=6)).isoformat())
            s = stats.compute(service, period, zone)
            name = f"statistiques-{service.number.lstrip('+')}-{period.first}-{period.last}.csv"
            sent += send_once(
                settings.REDIS_URL, key=f"weekly_report:{service.id}:{period.first}",
                to=user.email, kind="weekly_report", template="weekly_report",
                account=service.account_id,
                subject=_("Rapport hebdomadaire du %(number)s",
                          number=service.label or service.number),
                locale=mail.locale_of(user),
                attachment=(name, stats.to_csv(service, period, s)),
                first_name=contact.first_name, number=service.label or service.number,
                first=period.first, last=period.last,
                received=s.received, answered=s.counts["answered"],
                abandoned=s.counts["abandoned"] - s.short_abandoned,
                service_level=stats.percent(s.service_level),
                link=(f"{settings.BASE_URL}/configurer/statistiques/{service.id}?periode=custom"
                      f"&du={period.first}&au={period.last}"))
        return sent

    done = _run(body)
    schedule_weekly_reports(redis_for(load().REDIS_URL))
    return done


def schedule_weekly_reports(connection, now: dt.datetime | None = None) -> str:
    now = (now or dt.datetime.now(REPORT_ZONE)).astimezone(REPORT_ZONE)
    run_at = (now - dt.timedelta(days=now.weekday())).replace(
        hour=REPORT_HOUR, minute=0, second=0, microsecond=0)
    if run_at <= now:
        run_at += dt.timedelta(days=7)
    return schedule_once(connection, run_at, "worker.reports.weekly_reports", "weekly-report")
