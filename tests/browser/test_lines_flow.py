"""LINE-1/LINE-2/WN-5 in a real browser: an administrator of the demo company sets up two
forwarding profiles, forces one, and sets up voicemail with an uploaded greeting."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.lines.audio_files import wav_bytes

pytestmark = pytest.mark.browser




def test_line1_line2_wn5_profiles_and_voicemail_in_the_browser(live_server, page, new_page,
                                                               demo, smtp, run_jobs):
    from webapp.db import db
    from webapp.models import AudioFile, ForwardingProfile, Service, VoicemailSettings

    with db.connection_context():
        lucas = Service.get(Service.number == "+33100000102")
        paris = Service.get(Service.number == "+33100000101")
    line_url = f"{live_server.url}/services/{lucas.id}/ligne"
    sign_in(page, live_server, demo, smtp, run_jobs)

    # Profile 1: "Bureau" — on busy to a mobile typed the French way, on no answer to a line.
    page.goto(line_url)
    page.get_by_role("heading", name="Paramètres de la ligne").wait_for()
    page.get_by_role("link", name="Nouveau profil").click()
    page.get_by_label("Nom du profil").fill("Bureau")
    page.locator("#f-busy_kind").select_option("number")
    page.locator("#f-busy_number").fill("06 12 34 56 78")
    page.locator("#f-noanswer_kind").select_option("line")
    page.locator("#f-noanswer_line").select_option(str(paris.id))
    page.locator("#f-noanswer_delay_s").fill("25")
    screenshot(page, "lines-profile-form")
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.get_by_text("Profil « Bureau » créé.").wait_for()

    # A mistake first (delay out of range): French message, typed values kept.
    page.get_by_role("link", name="Nouveau profil").click()
    page.get_by_label("Nom du profil").fill("Télétravail")
    page.locator("#f-immediate_kind").select_option("number")
    page.locator("#f-immediate_number").fill("07 00 11 22 33")
    page.locator("#f-noanswer_kind").select_option("number")
    page.locator("#f-noanswer_number").fill("0612345678")
    page.locator("#f-noanswer_delay_s").fill("90")
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.get_by_text("Indiquez une durée de sonnerie entre 5 et 60 secondes.").wait_for()
    assert page.get_by_label("Nom du profil").input_value() == "Télétravail"
    assert page.locator("#f-immediate_number").input_value() == "07 00 11 22 33"
    assert page.get_by_text("Sans effet tant qu'un renvoi immédiat est défini.").first.is_visible()
    screenshot(page, "lines-profile-form-error")
    page.locator("#f-noanswer_delay_s").fill("30")
    page.get_by_role("button", name="Enregistrer le profil").click()
    page.get_by_text("Profil « Télétravail » créé.").wait_for()

    # Force "Télétravail" in one click.
    card = page.locator("li.profile", has=page.get_by_role("heading", name="Télétravail"))
    card.get_by_role("button", name="Forcer ce profil").click()
    page.get_by_text("Le profil « Télétravail » est en vigueur.").wait_for()
    assert card.get_by_text("En vigueur").is_visible()
    screenshot(page, "lines-settings")

    # Voicemail with an uploaded greeting.
    page.get_by_role("link", name="Configurer la messagerie vocale").click()
    page.get_by_label("Activer la messagerie vocale").check()
    page.get_by_label("Message personnalisé").check()
    page.get_by_label("Ou envoyer un nouveau fichier").set_input_files(
        files=[{"name": "accueil-lucas.wav", "mimeType": "audio/wav",
                "buffer": wav_bytes(1.5)}])
    page.get_by_label("Code PIN", exact=True).fill("4829")
    page.get_by_label("Confirmer le code PIN").fill("4829")
    page.get_by_label("Adresse e-mail").fill("lucas.petit@atelier-dupont.example")
    page.get_by_label("Joindre le message à l'e-mail").check()
    screenshot(page, "lines-voicemail-form")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Messagerie vocale enregistrée.").wait_for()
    page.locator("#messagerie").get_by_text("accueil-lucas (2 s)").wait_for()

    # The greeting is in the library and plays in the browser.
    page.goto(f"{live_server.url}/configurer/audio")
    item = page.locator("li", has=page.get_by_role("heading", name="accueil-lucas"))
    player = item.locator("audio")
    player.evaluate("el => el.load()")
    page.wait_for_function("el => el.readyState >= 1 && el.duration > 1.4",
                           arg=player.element_handle())
    screenshot(page, "lines-audio-library")

    with db.connection_context():
        profiles = {p.name: p for p in ForwardingProfile.select().where(
            ForwardingProfile.service == lucas.id)}
        assert set(profiles) == {"Par défaut", "Bureau", "Télétravail"}
        assert [n for n, p in profiles.items() if p.is_active] == ["Télétravail"]
        assert profiles["Bureau"].busy_number == "+33612345678"
        assert profiles["Bureau"].noanswer_line_id == paris.id
        assert profiles["Télétravail"].immediate_number == "+33700112233"
        vm = VoicemailSettings.get(VoicemailSettings.service == lucas.id)
        assert vm.enabled and vm.pin_hash.startswith("$argon2id$")
        assert AudioFile.get_by_id(vm.greeting_audio_id).name == "accueil-lucas"

    # Phone and 10" tablet: the same page, readable without horizontal scrolling.
    for name, width, height in (("phone", 390, 844), ("tablet", 800, 1280)):
        small = new_page(width=width, height=height)
        small.context.add_cookies(page.context.cookies())
        small.goto(line_url)
        small.get_by_role("heading", name="Paramètres de la ligne").wait_for()
        assert small.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(small, f"lines-settings-{name}")
