"""UI-3 and UI-1 in Chromium: an upload too big is refused before anything is sent and an
HTMX upload reports progress; a save answers in place; a failed HTMX request (server error,
lost connection) says so in place; focus goes to the error summary of a refused form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.lines.audio_files import wav_bytes

pytestmark = pytest.mark.browser


def test_ui3_upload_size_checked_in_browser_and_progress_shown(live_server, page, demo, smtp,
                                                               run_jobs):
    from webapp.db import db
    from webapp.models import AudioFile

    with db.connection_context():
        before = AudioFile.select().count()
    sign_in(page, live_server, demo, smtp, run_jobs, "/configurer/audio")
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    upload = page.locator("#upload-form")
    upload.get_by_label("Fichier audio").set_input_files(
        {"name": "gros.wav", "mimeType": "audio/wav", "buffer": b"\0" * (6 * 1024 * 1024)})
    page.get_by_text("« gros.wav » dépasse 5 Mo").wait_for()
    upload.get_by_role("button", name="Ajouter").click()
    assert page.evaluate("document.activeElement.id") == "f-file"
    assert sent == []  # nothing left the browser
    screenshot(page, "ui3-upload-too-big")
    page.evaluate("""document.addEventListener("htmx:xhr:progress", () => sessionStorage
        .setItem("progress", String(Number(sessionStorage.getItem("progress") || 0) + 1)))""")
    upload.get_by_label("Fichier audio").set_input_files(
        {"name": "accueil.wav", "mimeType": "audio/wav", "buffer": wav_bytes(0.5)})
    assert page.locator(".upload-too-big").count() == 0
    upload.get_by_role("button", name="Ajouter").click()
    page.get_by_text("ajouté à la bibliothèque").wait_for()
    assert int(page.evaluate("sessionStorage.getItem('progress') || 0")) >= 1
    with db.connection_context():
        assert AudioFile.select().count() == before + 1


def test_ui1_htmx_save_in_place_failures_said_in_place_focus_on_errors(live_server, page,
                                                                      demo, smtp, run_jobs):
    from webapp.db import db
    from webapp.models import Service

    with db.connection_context():
        line = Service.get(Service.number == "+33100000101")
    sign_in(page, live_server, demo, smtp, run_jobs, f"/services/{line.id}/ligne")
    section = page.locator("#file-accueil")
    section.get_by_label("Numéro de secours").fill("06 12 34 56 78")
    section.get_by_role("button", name="Enregistrer").click()
    section.get_by_text("Paramètres d'appels du numéro d'accueil enregistrés.").wait_for()
    assert page.url.endswith(f"/services/{line.id}/ligne")  # no navigation: in place
    assert section.get_by_label("Numéro de secours").input_value() == "06 12 34 56 78"
    # a refused value: the error summary takes the focus
    section.get_by_label("Numéro de secours").fill("12")
    section.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#file-accueil #form-error")).to_be_focused()
    # the server fails: said in place, in French
    page.route("**/file-accueil", lambda route: route.fulfill(status=500, body="boom"))
    page.locator("#file-accueil").get_by_role("button", name="Enregistrer").click()
    page.get_by_text("L'action n'a pas abouti (erreur 500)").wait_for()
    expect(page.locator(".htmx-error")).to_be_focused()
    screenshot(page, "ui1-htmx-error-in-place")
    # the connection is lost: said in place too
    page.unroute("**/file-accueil")
    page.route("**/file-accueil", lambda route: route.abort())
    page.locator("#file-accueil").get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Le serveur ne répond pas").wait_for()
    assert page.locator(".htmx-error").count() == 1
