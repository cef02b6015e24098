"""Q-13 "Pause automatique" and the SWB-8 statistics in a real browser, with the simulator's
live traffic (engine, simulator and call log writer as subprocesses, document from the
database): the supervisor turns the automatic pause on in the queue form, an agent who
declines an offer shows "En pause · Pause automatique" on the board and the engine offers
them nothing more; ended from the board, the break is logged; on a phone (390 px) the
statistics page shows today's real figures — per agent talk, rest and pause time, the
service level, short abandons — with the per-agent table keeping its labels."""

from __future__ import annotations

import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parents[2]
AGENTS = ("+33100000101", "+33100000102", "+33100000103", "+33100000104")


@pytest.fixture
def traffic(redis_url, database_url, tmp_path, db_conn, demo):
    """Engine, call log writer and a simulator whose agents decline a third of the offers
    (at once: no ring-out wait), answer in 1–2 s, talk ~4 s; impatient callers hang up."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": database_url,
           "REDIS_URL": redis_url}
    commands = [
        ["engine", "--redis-url", redis_url],
        ["worker.calllog"],
        ["engine.simulator", "--redis-url", redis_url, "--rate", "40", "--answer-min", "1",
         "--answer-max", "2", "--talk", "4", "--decline", "0.35", "--ring-out", "0",
         "--unreachable", "0", "--abandon", "0.3", "--patience", "6", "--external", "0",
         "--seed", "7"],
    ]
    procs = []
    with open(tmp_path / "traffic.err", "ab") as err:
        for command in commands:
            procs.append(subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, env=env,
                                          stdout=subprocess.DEVNULL, stderr=err))
    yield
    for proc in reversed(procs):
        proc.terminate()
        proc.wait(10)


def auto_pauses(redis_conn) -> list[tuple[str, str]]:
    """(log entry id, line) of the engine's automatic pauses so far."""
    return [(i.decode(), f[b"line"].decode()) for i, f in redis_conn.xrange("acd:{0}:log")
            if f[b"type"] == b"line.paused" and f.get(b"reason") == b"auto"]


def rings_after(redis_conn, entry_id: str) -> list[str]:
    """Lines rung by the engine after `entry_id` (stream ids of one Redis are times)."""
    return [f[b"line"].decode() for _, f in redis_conn.xrange("acd:{0}:out", f"({entry_id}")
            if f[b"type"] == b"ring"]


def test_q13_swb8_autopause_on_the_board_and_todays_statistics_on_a_phone(
        live_server, new_page, demo, smtp, run_jobs, traffic, redis_conn, db_conn):
    from webapp.models import CallLogEntry, Service, WelcomeProfile
    from webapp.services import stats

    welcome = Service.get(Service.number == "+33100000001")
    profile = WelcomeProfile.get((WelcomeProfile.service == welcome.id)
                                 & (WelcomeProfile.key == "accueil"))
    page = new_page(1280, 800)
    sign_in(page, live_server, demo, smtp, run_jobs,
            f"/configurer/numeros-accueil/{welcome.id}/profils/{profile.id}")
    page.get_by_label("Pause automatique").select_option(label="Après 1 appel non pris")
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.get_by_text("Profil « Accueil » enregistré.").wait_for()

    # an agent declines an offer: the engine pauses them, the board says why
    page.goto(live_server.url + "/standard")
    page.locator("#sb-link[data-state=open]").wait_for()
    paused = page.locator(".sb-agent[data-state=paused]", has_text="Pause automatique").first
    paused.wait_for(timeout=60000)
    line = paused.get_attribute("data-line")
    name = paused.locator(".name").inner_text()
    assert line in AGENTS
    screenshot(page, "swb-autopause-board")
    since, _line = next(p for p in auto_pauses(redis_conn) if p[1] == line)
    # the engine offers them nothing more while the others keep being rung
    wait_until(lambda: len([li for li in rings_after(redis_conn, since) if li != line]) >= 3,
               90)
    assert line not in rings_after(redis_conn, since)
    assert page.locator(f".sb-agent[data-line='{line}']").get_attribute("data-state") == "paused"

    # the supervisor ends the break from the board; the call log keeps it with its length
    page.get_by_role("button", name=f"Fin de pause {name}").click()
    panel = page.locator("#sb-action")
    panel.get_by_role("button", name=f"Mettre fin à la pause de {name}").click()
    panel.get_by_text(f"fin de pause pour {name}").wait_for()
    panel.get_by_role("link", name="Fermer").click()

    zone = zoneinfo.ZoneInfo(demo.account.timezone or "Europe/Paris")

    def figures():
        s = stats.compute(welcome, stats.period("today", zone), zone)
        agents = {a.line: a for a in s.agents}
        me = agents.get(line)
        talked = [a for a in s.agents if a.talk_ms > 0 and a.rest_ms > 0]
        return s if me and me.pause_ms > 0 and talked and s.service_level is not None else None

    s = wait_until(figures, 90)
    assert CallLogEntry.select().where((CallLogEntry.type == "line.paused")
                                       & (CallLogEntry.line == line)).exists()

    # on a phone: today's figures, the per-agent table keeps its labels
    phone = new_page(390, 844, is_mobile=True, has_touch=True)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(live_server.url + f"/configurer/statistiques/{welcome.id}?periode=today")
    phone.get_by_role("heading", name="Statistiques de la file").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.locator("#kpi-received").inner_text() != "0"
    assert phone.locator("#kpi-sl").inner_text().endswith("%")
    phone.locator("#kpi-short").wait_for()
    row = phone.locator(f"#agents-table tr[data-line='{line}']")
    pause_cell = row.locator("td[data-label='Temps de pause']")
    assert pause_cell.inner_text() not in ("0\u202fs", "—")
    labels = phone.evaluate("""() => Array.from(document.querySelectorAll(
        '#agents-table td[data-label]')).map(td => getComputedStyle(td, '::before').content)""")
    assert labels and all("Temps" in x or "Appels" in x or "Présentations" in x for x in labels)
    assert any("Temps de conversation" in x for x in labels)
    talk = [phone.locator(f"#agents-table tr[data-line='{a.line}'] "
                          "td[data-label='Temps de conversation']").inner_text()
            for a in s.agents if a.talk_ms > 0]
    assert talk and all(t not in ("0\u202fs", "—") for t in talk)
    # the charts' labels stay readable (not shrunk below ~9 px by the phone's width)
    sizes = phone.evaluate("""() => Array.from(document.querySelectorAll('svg.chart text'))
        .map(t => t.getBoundingClientRect().height)""")
    assert sizes and min(sizes) >= 9, sizes
    screenshot(phone, "swb-stats-phone-live")
