"""SWB-1/SWB-2 in a real browser on tablet viewports: the switchboard updates live while
the simulator runs (engine and simulator as subprocesses, document from the database),
and a transfer made on the page reaches the engine. Also looks at the WN forms and SWB-3."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_directory_sites import sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parents[2]


@pytest.fixture
def telephony(redis_url, database_url, tmp_path, db_conn, demo):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": database_url}
    procs = []
    with open(tmp_path / "engine.err", "ab") as err:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "engine", "--redis-url", redis_url], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=err, env=env))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "engine.simulator", "--redis-url", redis_url, "--rate", "30",
             "--answer-min", "2", "--answer-max", "4", "--talk", "6", "--abandon", "0.2",
             "--patience", "20", "--seed", "5"], cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=err, env=env))
    yield
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def test_swb1_swb2_switchboard_live_on_a_tablet_and_transfer_reaches_engine(
        live_server, new_page, demo, smtp, run_jobs, telephony, redis_conn, db_conn):
    from webapp.models import Service

    welcome = Service.get(Service.number == "+33100000001")
    page = new_page(1280, 800)
    sign_in(page, live_server, demo, smtp, run_jobs, "/standard")
    page.get_by_role("heading", name="Standard", exact=True).wait_for()
    page.locator("#sb-link[data-state=open]").wait_for()
    # live: agents become available / ring / talk without any reload
    page.locator(".sb-agent[data-state=available], .sb-agent[data-state=in_call], "
                 ".sb-agent[data-state=ringing]").first.wait_for(timeout=20000)
    seen = set()

    def on_page() -> set[str]:
        return set(page.locator(".sb-call").evaluate_all("els => els.map(e => e.dataset.call)"))

    def calls_seen():
        seen.update(on_page())
        return len(seen) >= 3

    wait_until(calls_seen, 60)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    screenshot(page, "switchboard-tablet-landscape")

    # a caller nobody answers for now: the reception desk transfers them to a mobile
    redis_conn.xadd("acd:{0}:in", {"type": "call.arrived", "ts": str(int(time.time() * 1000)),
                                    "call": "desk-1", "number": welcome.number,
                                    "caller": "+33612345678"})
    card = page.locator(".sb-call[data-call='desk-1']")
    card.wait_for()
    assert "06 12 34 56 78" in card.inner_text()
    card.get_by_role("button", name="Décrocher / transférer").click()
    panel = page.locator("#sb-action")
    panel.get_by_label("ou vers un numéro").fill("06 98 76 54 32")
    screenshot(page, "switchboard-transfer-panel")
    panel.get_by_role("button", name="Transférer").click()
    panel.get_by_text("Demande envoyée").wait_for()

    def transferred():
        for _, f in redis_conn.xrange("acd:{0}:log"):
            if f[b"type"] == b"transferred" and f[b"call"] == b"desk-1":
                return f
        return None

    entry = wait_until(transferred)
    assert entry[b"to"] == b"+33698765432"
    card.wait_for(state="detached")

    page.set_viewport_size({"width": 800, "height": 1280})
    earlier = seen | on_page()  # a live update lands after the rotation: a new call shows
    wait_until(lambda: on_page() - earlier, 60, message="no live update after the rotation")
    screenshot(page, "switchboard-tablet-portrait")


def test_wn3_wn4_queue_form_and_swb3_statistics_on_a_tablet(live_server, new_page, demo, smtp,
                                                            run_jobs, db_conn):
    from webapp.models import Service, WelcomeProfile

    welcome = Service.get(Service.number == "+33100000001")
    profile = WelcomeProfile.get(WelcomeProfile.key == "accueil")
    page = new_page(1280, 800)
    sign_in(page, live_server, demo, smtp, run_jobs,
            f"/configurer/numeros-accueil/{welcome.id}/profils/{profile.id}")
    page.get_by_role("heading", name="Profil « Accueil »").wait_for()
    # weight appears only in "Aléatoire"; a line is added in place (HTMX), nothing saved yet
    assert page.get_by_label("Poids de", exact=False).count() == 0
    page.get_by_label("Mode").select_option("random")
    page.get_by_label("Poids de", exact=False).first.wait_for()
    page.get_by_label("Ajouter une ligne interne").select_option(
        label="Léa Simon — 01 00 00 01 05")
    page.get_by_role("button", name="Ajouter", exact=True).click()
    page.get_by_text("Ligne Léa Simon — 01 00 00 01 05").wait_for()
    page.get_by_label("Taille de la file").fill("12")
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.get_by_text("Taille de la file : saisissez un nombre entier entre 1 et 10.").wait_for()
    assert page.get_by_label("Taille de la file").input_value() == "12"
    screenshot(page, "welcome-queue-form-error")
    page.get_by_label("Taille de la file").fill("8")
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.get_by_text("Profil « Accueil » enregistré.").wait_for()
    screenshot(page, "welcome-number")
    page.set_viewport_size({"width": 800, "height": 1280})
    page.goto(live_server.url + f"/configurer/statistiques/{welcome.id}?periode=7d")
    page.get_by_role("heading", name="Statistiques de la file").wait_for()
    screenshot(page, "statistics-portrait")
