"""DIR-5/DIR-6/LINE-4/LINE-5 in a real browser: create a folder, move a contact (drag on
desktop, the menu on a tablet), export, edit the file, synchronise with preview, read the
result; the blacklist and the history of a line. Screenshots in tests/artifacts/."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.browser.conftest import screenshot
from tests.browser.conftest import sign_in as _sign_in

pytestmark = pytest.mark.browser




def test_dir5_dir6_folders_move_export_edit_sync(live_server, new_page, demo, smtp, run_jobs,
                                                 tmp_path, db_conn):
    from webapp.models import Contact

    page = new_page(1280, 1400)  # the whole list fits: no scrolling in the middle of a drag
    _sign_in(page, live_server, demo, smtp, run_jobs)
    page.goto(live_server.url + "/annuaire/dossiers")
    page.get_by_label("Nouveau dossier").fill("Fournisseurs")
    page.get_by_label("Contacts extérieurs à l'entreprise").first.check()
    page.get_by_role("button", name="Créer le dossier").click()
    page.get_by_text("Dossier « Fournisseurs » créé.").wait_for()
    page.goto(live_server.url + "/annuaire/dossiers")
    # Desktop: drag Lucas onto the folder.
    page.locator("tr", has_text="Petit Lucas").drag_to(
        page.locator("[data-drop-folder]", has_text="Fournisseurs"))
    page.get_by_text("1 contact déplacé dans « Fournisseurs ».").wait_for()
    screenshot(page, "dir5-folders-desktop")
    lucas = Contact.get((Contact.account == demo.account) & (Contact.first_name == "Lucas"))
    assert lucas.folder.name == "Fournisseurs"

    # 10" tablet, touch: check a contact and use the "Déplacer vers" menu.
    tablet = new_page(800, 1280, has_touch=True, is_mobile=True)
    tablet.context.add_cookies(page.context.cookies())
    tablet.goto(live_server.url + "/annuaire/dossiers")
    tablet.get_by_label("Sélectionner Claire Dubois").check()
    tablet.get_by_label("Déplacer vers").select_option(label="Fournisseurs")
    screenshot(tablet, "dir5-folders-tablet")
    tablet.get_by_role("button", name="Déplacer la sélection").click()
    tablet.get_by_text("1 contact déplacé dans « Fournisseurs ».").wait_for()
    screenshot(tablet, "dir5-folder-after-move-tablet")

    # Export, edit, synchronise with preview.
    page.goto(live_server.url + "/annuaire/csv")
    screenshot(page, "dir6-csv-page")
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter", exact=True).click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    next(r for r in rows if r["prenom"] == "Lucas")["fonction"] = "Responsable logistique"
    new = dict.fromkeys(rows[0].keys(), "")
    new.update(nom="Bernard", prenom="Paul", societe="Transports Bernard",
               dossier="Fournisseurs", mobile="06 11 22 33 44")
    rows.append(new)
    edited = tmp_path / "annuaire-modifie.csv"
    with open(edited, "w", encoding="cp1252", newline="") as f:  # as Excel saves it
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    page.get_by_label("Fichier CSV").set_input_files(str(edited))
    page.get_by_role("button", name="Voir les changements").click()
    page.get_by_text("Cette page se met à jour toute seule.").wait_for()
    screenshot(page, "dir6-sync-progress")
    run_jobs()
    page.get_by_role("heading", name="Aperçu des changements").wait_for()
    assert page.locator('[data-count="creates"]').inner_text() == "1"
    assert page.locator('[data-count="updates"]').inner_text() == "1"
    assert page.locator('[data-count="deletes"]').inner_text() == "0"
    screenshot(page, "dir6-sync-preview")
    page.get_by_label("J'ai vérifié : appliquer ces changements à l'annuaire").check()
    page.get_by_role("button", name="Appliquer la synchronisation").click()
    run_jobs()
    page.get_by_role("heading", name="Synchronisation terminée").wait_for()
    screenshot(page, "dir6-sync-done")
    paul = Contact.get(Contact.last_name == "Bernard")
    assert paul.folder.name == "Fournisseurs" and paul.phone_mobile == "+33611223344"
    page.get_by_role("link", name="Voir l'annuaire par dossiers").click()
    page.get_by_role("link", name="Fournisseurs").first.click()
    page.get_by_text("Bernard Paul").wait_for()
    screenshot(page, "dir5-folder-after-sync")


def test_line4_line5_blacklist_and_history_pages(live_server, new_page, demo, smtp, run_jobs,
                                                  redis_conn, db_conn):
    import time

    from webapp.models import Service
    from worker.cdr import CdrConsumer

    now = int(time.time() * 1000)
    for i, (direction, peer, status, talk) in enumerate([
            ("in", "+33478000001", "answered", 125), ("out", "+33612345678", "answered", 61),
            ("in", "anonymous", "missed", 0), ("in", "+33478000003", "blocked", 0)]):
        started = now - 3_600_000 + i * 60_000
        answered = started + 4000 if status == "answered" else None
        redis_conn.xadd("pbx:cdr", {"line": "+33100000101", "direction": direction,
                                    "peer": peer, "started_ms": str(started),
                                    "answered_ms": str(answered or ""),
                                    "ended_ms": str((answered or started + 20000) + talk * 1000),
                                    "status": status, "call": ""})
    consumer = CdrConsumer(redis_conn, "calllog-browser")
    consumer.start()
    consumer.drain()
    line = Service.get(Service.number == "+33100000101")
    page = new_page(1280, 900)
    _sign_in(page, live_server, demo, smtp, run_jobs)
    page.goto(f"{live_server.url}/services/{line.id}/liste-noire")
    page.get_by_label("Numéro à bloquer").fill("06 12 34 56 78")
    page.get_by_role("button", name="Bloquer", exact=True).click()
    page.get_by_text("06 12 34 56 78 est bloqué").wait_for()
    page.get_by_label("Numéro à bloquer").fill("12345")
    page.get_by_role("button", name="Bloquer", exact=True).click()
    page.get_by_text("Numéro non valide").first.wait_for()
    screenshot(page, "line4-blacklist")
    page.goto(f"{live_server.url}/services/{line.id}/historique")
    page.get_by_role("heading", name="Consommation par période de facturation").wait_for()
    assert page.locator('[data-total="in"]').inner_text() == "1"
    assert page.locator('[data-total="blocked"]').inner_text() == "1"
    screenshot(page, "line5-history")
    phone = new_page(390, 844, has_touch=True, is_mobile=True)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server.url}/services/{line.id}/historique")
    screenshot(phone, "line5-history-phone")
