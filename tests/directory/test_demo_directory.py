"""DIR-5 / LINE-4 / LINE-5 demo data: the demo company shows folders, outside
contacts, a blacklist and a call history over two billing months; loading it again
duplicates nothing. Links from the directory and line pages."""

from __future__ import annotations

import datetime as dt
import re

from webapp.models import Contact, Service
from webapp.models.core import Folder
from webapp.models.history import BlockedNumber, CallRecord
from webapp.services import blacklist
from webapp.services.call_history import local_to_utc, zone
from webapp.services.demo_directory import HISTORY_LINES, OUTSIDE


def _counts(account) -> tuple[int, ...]:
    return (Folder.select().where(Folder.account == account).count(),
            Contact.select().where(Contact.account == account).count(),
            CallRecord.select().where(CallRecord.account == account).count(),
            BlockedNumber.select().join(Service).where(Service.account == account).count())


def test_dir5_demo_has_folders_with_every_employee_filed(demo, db_conn):
    folders = {f.name: f for f in Folder.select().where(Folder.account == demo.account)}
    assert {"Direction générale", "Atelier", "Commercial", OUTSIDE} <= set(folders)
    assert folders[OUTSIDE].external and not folders["Atelier"].external
    employees = Contact.select().where((Contact.account == demo.account)
                                       & (Contact.folder != folders[OUTSIDE]))
    assert employees.count() >= 15
    assert all(c.folder_id and c.job_title for c in employees)
    assert Contact.get(Contact.email == "claire.dubois@atelier-dupont.example").folder.name \
        == "Direction générale"


def test_dir5_demo_outside_contacts_have_company_job_and_numbers(demo, db_conn):
    outside = list(Contact.select().join(Folder).where(
        (Contact.account == demo.account) & (Folder.name == OUTSIDE)))
    assert 3 <= len(outside) <= 4
    for c in outside:
        assert c.company and c.job_title and (c.phone_work or c.phone_mobile)
        assert c.phone_work is None or c.phone_work.startswith("+33")


def test_line5_demo_history_spans_current_and_previous_billing_month(demo, db_conn):
    tz = zone(demo.account.id)
    today = dt.datetime.now(tz).date()
    month_start = local_to_utc(today.replace(day=1), tz)
    prev_start = local_to_utc((today.replace(day=1) - dt.timedelta(days=1)).replace(day=1), tz)
    rows = list(CallRecord.select().where(CallRecord.account == demo.account))
    lines = {r.service_id for r in rows}
    assert len(lines) == len(HISTORY_LINES) >= 3
    assert {r.status for r in rows} >= {"answered", "missed", "blocked"}
    assert {r.direction for r in rows} == {"in", "out"}
    assert all(prev_start <= r.started_at <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
               for r in rows)
    assert any(r.started_at < month_start for r in rows)
    answered = [r for r in rows if r.status == "answered"]
    assert all(r.duration_s > 0 and r.answered_at and r.ended_at > r.answered_at
               for r in answered)
    assert all(r.duration_s == 0 for r in rows if r.status != "answered")
    # Blocked calls come only from callers the line blocks (LINE-4).
    for r in rows:
        if r.status == "blocked":
            assert BlockedNumber.select().where((BlockedNumber.service == r.service_id)
                                                & (BlockedNumber.number == r.peer)).exists()


def test_line5_demo_history_and_usage_pages_are_not_empty(admin, demo, db_conn):
    reception = Service.get(Service.number == "+33100000103")
    tz = zone(demo.account.id)
    today = dt.datetime.now(tz).date()
    prev = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    html = admin.client.get(f"/services/{reception.id}/historique?du={prev.isoformat()}"
                            f"&au={today.isoformat()}").get_data(as_text=True)
    assert int(re.search(r'data-total="in">(\d+)<', html).group(1)) > 0
    assert int(re.search(r'data-total="blocked">(\d+)<', html).group(1)) > 0
    assert html.count("<tr><td>") > 10
    minutes = [int(m) for m in re.findall(r'data-usage="minutes">(\d+) min<', html)]
    assert len(minutes) == 2 and minutes[1] > 0  # the previous billing month


def test_line4_demo_blacklist_published_for_the_pbx(demo, db_conn, redis_conn):
    assert blacklist.is_blocked(redis_conn, "+33100000103", "+33970123456")
    assert blacklist.is_blocked(redis_conn, "+33100000103", "anonymous")


def test_dir5_line5_loading_the_demo_twice_duplicates_nothing(demo, db_conn):
    from webapp.services.demo import load_demo

    before = _counts(demo.account)
    assert all(before)
    again = load_demo()
    assert not again.created
    assert _counts(demo.account) == before
    # A contact moved by someone stays where they put it.
    claire = Contact.get(Contact.email == "claire.dubois@atelier-dupont.example")
    atelier = Folder.get((Folder.account == demo.account) & (Folder.name == "Atelier"))
    Contact.update(folder=atelier).where(Contact.id == claire.id).execute()
    load_demo()
    assert Contact.get_by_id(claire.id).folder_id == atelier.id
    assert _counts(demo.account) == before
