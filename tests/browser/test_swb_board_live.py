"""Issue 15 in a real browser with the simulator's live traffic (engine and simulator as
subprocesses, document from the database): breaks (Q-13) from "Ma ligne" and from the
board keep an agent out of offers, a long wait turns the number's card red (SWB-6), a
transfer to a directory contact reaches the engine (SWB-5), live updates keep the focus
(SWB-7), the wallboard (SWB-8); on a phone, a frozen server shows "Connexion perdue" and
the page resynchronises when it comes back (SWB-7). Screenshots in tests/artifacts/."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_switchboard_live import telephony  # noqa: F401 (fixture)
from tests.servers import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parents[2]
HUGO, CLAIRE = "+33100000104", "+33100000101"
AGENTS = ("+33100000101", "+33100000102", "+33100000103", "+33100000104")


def handled(redis_conn) -> bool:
    """The engine has read and acknowledged everything sent so far."""
    info = redis_conn.xinfo_groups("acd:{0}:in")
    last = redis_conn.xrevrange("acd:{0}:in", count=1)
    return bool(info and last) and info[0]["pending"] == 0 and (
        info[0]["last-delivered-id"] == last[0][0])


def rings_since(redis_conn, last_id: str) -> list[str]:
    return [f[b"line"].decode() for _, f in redis_conn.xrange("acd:{0}:out", f"({last_id}")
            if f[b"type"] == b"ring"]


def test_q13_swb4_swb5_swb6_swb8_breaks_red_card_directory_transfer_on_a_tablet(
        live_server, new_page, demo, smtp, run_jobs, telephony, redis_conn, db_conn):  # noqa: F811
    from webapp.models import Service, WelcomeProfile

    welcome = Service.get(Service.number == "+33100000001")
    WelcomeProfile.update(sla_s=5).where(WelcomeProfile.service == welcome.id).execute()
    page = new_page(1280, 800)
    # Q-13 from the agent's own page: Claire takes a lunch break
    sign_in(page, live_server, demo, smtp, run_jobs, "/ma-ligne")
    page.get_by_label("Motif").select_option(label="Déjeuner")
    page.get_by_role("button", name="Me mettre en pause").click()
    page.get_by_text("Vous êtes en pause (Déjeuner)").wait_for()
    page.goto(live_server.url + "/standard")
    page.locator("#sb-link[data-state=open]").wait_for()
    claire = page.locator(f".sb-agent[data-line='{CLAIRE}']")
    claire.locator("text=En pause · Déjeuner").wait_for(timeout=15000)
    # Q-13 from the board: Hugo goes to a meeting
    page.get_by_role("button", name="Pause Hugo Laurent").click()
    panel = page.locator("#sb-action")
    panel.get_by_label("Motif").select_option(label="Réunion")
    panel.get_by_role("button", name="Mettre Hugo Laurent en pause").click()
    panel.get_by_text("Hugo Laurent est mis(e) en pause (Réunion)").wait_for()
    hugo = page.locator(f".sb-agent[data-line='{HUGO}']")
    hugo.locator("text=En pause · Réunion").wait_for(timeout=15000)
    panel.get_by_role("link", name="Fermer").click()
    wait_until(lambda: handled(redis_conn))
    # the simulator's traffic goes on: the paused lines are never rung
    last = redis_conn.xrevrange("acd:{0}:out", count=1)
    last_id = last[0][0].decode() if last else "0"
    wait_until(lambda: len(rings_since(redis_conn, last_id)) >= 3, 90)
    rung = rings_since(redis_conn, last_id)
    assert HUGO not in rung and CLAIRE not in rung, rung
    # SWB-7: a live update of Hugo's card keeps the focus on its button
    button = hugo.get_by_role("button", name="Fin de pause Hugo Laurent")
    button.focus()
    page.evaluate("document.activeElement.sbKept = 'kept'")
    redis_conn.xadd("acd:{0}:in", {"type": "line.busy", "line": HUGO,
                                    "ts": str(int(time.time() * 1000))})
    hugo.locator("text=appel externe").wait_for()
    assert page.evaluate("document.activeElement.sbKept") == "kept"  # the same node
    screenshot(page, "swb-tablet-breaks")

    # SWB-6: everyone on a break, a caller waits past the 5 s threshold: the card turns red
    import json

    snap = json.loads(redis_conn.hget("acd:{0}:state", welcome.number))
    for c in snap["waiting"]:  # room in the queue (size 5) for our caller
        redis_conn.xadd("acd:{0}:in", {"type": "call.ended", "call": c["call"], "by": "caller",
                                        "ts": str(int(time.time() * 1000))})
    for line in AGENTS:  # (the simulator's callers soon fill the queue: arrive right away)
        redis_conn.xadd("acd:{0}:in", {"type": "line.paused", "line": line, "reason": "pause",
                                        "ts": str(int(time.time() * 1000))})
    redis_conn.xadd("acd:{0}:in", {"type": "call.arrived", "ts": str(int(time.time() * 1000)),
                                    "call": "desk-red", "number": welcome.number,
                                    "caller": "+33600000104"})
    card = page.locator(".sb-call[data-call='desk-red']")
    card.wait_for()
    assert "Hugo Laurent" in card.inner_text()  # SWB-5: the caller is named
    page.locator(f"#n{welcome.id}[data-level=amber]").wait_for(timeout=10000)
    page.locator(f"#n{welcome.id}[data-level=red]").wait_for(timeout=10000)
    assert card.get_attribute("data-level") == "red"
    screenshot(page, "swb-tablet-red-card")

    # SWB-4/SWB-5: the panel names the caller; a directory search transfers in one tap
    card.get_by_role("button", name="Décrocher / transférer").click()
    panel.get_by_role("heading", name="Appel de Hugo Laurent").wait_for()
    pick = panel.get_by_label("Décrocher sur la ligne")  # the receptionist's own line
    assert pick.evaluate("s => s.selectedOptions[0].textContent").startswith("Claire Dubois")
    panel.get_by_text("Par défaut, ma ligne : 01 00 00 01 01.").wait_for()
    panel.get_by_label("Transférer à une personne de l'annuaire").fill("Manon")
    target = panel.get_by_role("button", name="Mobile 06 00 00 01 09")
    target.wait_for()
    screenshot(page, "swb-tablet-directory")
    target.click()
    panel.get_by_text("l'appel de Hugo Laurent est transféré vers Manon Roux").wait_for()

    def transferred():
        return next((f for _, f in redis_conn.xrange("acd:{0}:log")
                     if f[b"type"] == b"transferred" and f[b"call"] == b"desk-red"), None)

    assert wait_until(transferred)[b"to"] == b"+33600000109"
    card.wait_for(state="detached")
    for line in AGENTS:
        redis_conn.xadd("acd:{0}:in", {"type": "line.unpaused", "line": line,
                                        "ts": str(int(time.time() * 1000))})
    page.locator(".sb-agent[data-state=paused]").first.wait_for(state="detached")
    page.set_viewport_size({"width": 800, "height": 1280})
    page.locator(".sb-agent").first.wait_for()
    screenshot(page, "swb-tablet-portrait")

    # SWB-8: the wallboard on a 1080p TV, same live feed
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(live_server.url + "/standard/mur")
    page.locator("#sb-link[data-state=open]").wait_for()
    tile = page.locator(f"#n{welcome.id}-wall")
    tile.get_by_text("Plus longue attente").wait_for()
    assert page.locator("button, input, select").count() == 0  # read-only
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                         "'.wall-kpis dd')).fontSize)")
    assert size >= 80  # readable from 3 m
    screenshot(page, "swb-wallboard-1080p")


@pytest.fixture
def web_process(app, database_url, redis_url, tmp_path):
    """The app in a process of its own (heartbeat 1 s), so the test can freeze it."""
    port = free_port()
    code = ("import sys; from werkzeug.serving import make_server; "
            "from webapp.app import create_app; "
            "app = create_app({'TESTING': True, 'SSE_HEARTBEAT_S': 1}); "
            f"make_server('127.0.0.1', {port}, app, threaded=True).serve_forever()")
    with open(tmp_path / "web.err", "ab") as err:
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=err, stderr=err,
                                env={**os.environ, "DATABASE_URL": database_url,
                                     "REDIS_URL": redis_url})

    class Server:
        url = f"http://127.0.0.1:{port}"

    import urllib.request

    def up():
        try:
            urllib.request.urlopen(Server.url + "/connexion", timeout=1)
            return True
        except OSError:
            return False

    wait_until(up, 30)
    yield proc, Server
    os.kill(proc.pid, signal.SIGCONT)
    proc.terminate()
    proc.wait(10)


def test_swb7_phone_layout_frozen_server_shows_connexion_perdue_then_resyncs(
        new_page, demo, smtp, run_jobs, telephony, web_process, redis_conn, db_conn):  # noqa: F811
    proc, server = web_process
    page = new_page(390, 844, is_mobile=True, has_touch=True)
    sign_in(page, server, demo, smtp, run_jobs, "/standard")
    page.locator("#sb-link[data-state=open]").wait_for()
    page.locator(".sb-agent[data-state=available], .sb-agent[data-state=in_call], "
                 ".sb-agent[data-state=ringing]").first.wait_for(timeout=20000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    screenshot(page, "swb-phone")
    # the side menu has "Standard" for whoever may see it
    assert page.locator("nav a", has_text="Standard").count() >= 1
    # SWB-6: the sound is off by default and remembered by this browser
    sound = page.get_by_label("Son à chaque nouvel appel en attente")
    assert not sound.is_checked()
    sound.check()
    page.reload()
    page.locator("#sb-link[data-state=open]").wait_for()
    assert page.get_by_label("Son à chaque nouvel appel en attente").is_checked()
    assert page.locator("[aria-live]").count() <= 2  # the status line (and panel results)
    os.kill(proc.pid, signal.SIGSTOP)  # a frozen server: no message, no heartbeat
    try:
        page.locator("#sb-link[data-state=lost]").wait_for(timeout=8000)
        page.get_by_text("Connexion perdue").first.wait_for()
        screenshot(page, "swb-phone-connexion-perdue")
        # meanwhile a caller arrives: the page shows it once the server is back (full resync)
        redis_conn.xadd("acd:{0}:in", {"type": "call.arrived",
                                        "ts": str(int(time.time() * 1000)), "call": "after-1",
                                        "number": "+33100000001", "caller": "+33612345678"})
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    syncs = int(page.locator("#sb-live").get_attribute("data-syncs"))
    page.locator("#sb-link[data-state=open]").wait_for(timeout=40000)
    wait_until(lambda: int(page.locator("#sb-live").get_attribute("data-syncs")) > syncs, 20)
    screenshot(page, "swb-phone-back")
    # statistics on the phone: charts and the per-agent table keep their labels
    from webapp.models import Service

    welcome = Service.get(Service.number == "+33100000001")
    page.goto(server.url + f"/configurer/statistiques/{welcome.id}?periode=7d")
    page.get_by_role("heading", name="Statistiques de la file").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "swb-stats-phone")
