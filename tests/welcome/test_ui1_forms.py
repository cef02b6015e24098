"""UI-1: the welcome number's forms as a careful user finds them — the "Serveur vocal"
profile form without Python reprs or false red borders, a type switch that keeps what was
typed, a rule edit form that only edits, "À" a time picker like "De", a dated exception in
the past refused in French keeping what was typed."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

BASE = "/configurer/numeros-accueil"


def page_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_ui1_voice_menu_profile_form_has_no_python_repr_and_no_false_errors(admin, welcome):
    for response in (
            admin.client.get(f"{BASE}/{welcome.id}/profils/nouveau?type=menu"),
            admin.post(f"{BASE}/{welcome.id}/profils", {"op": "refresh", "kind": "menu",
                                                         "name": "Serveur"},
                       token_from=f"{BASE}/{welcome.id}/profils/nouveau?type=menu")):
        assert response.status_code == 200
        page = page_of(response)
        assert "built-in method" not in page and "<bound method" not in page
        selects = re.findall(r'<select id="f-key_\w+"', page)
        assert len(selects) == 12  # 0-9, * and #
        assert "field-invalid" not in page and 'class="field-error"' not in page
        assert 'id="form-error"' not in page


def test_ui1_switching_profile_type_keeps_size_rest_and_name(admin, welcome):
    url = f"{BASE}/{welcome.id}/profils"
    typed = {"name": "Comptabilité", "size": "7", "rest_s": "45", "sla_s": "30"}
    first = admin.post(url, {"op": "refresh", "kind": "queue", **typed},
                       token_from=f"{url}/nouveau")
    assert 'value="7"' in page_of(first)
    as_menu = admin.post(url, {"op": "refresh", "kind": "menu", **typed},
                         token_from=f"{url}/nouveau")
    back = admin.post(url, {"op": "refresh", "kind": "queue", **typed},
                      token_from=f"{url}/nouveau")
    for response in (as_menu, back):
        assert response.status_code == 200
    page = page_of(back)
    assert re.search(r'name="size"[^>]*value="7"|value="7"[^>]*name="size"', page)
    assert re.search(r'name="rest_s"[^>]*value="45"|value="45"[^>]*name="rest_s"', page)
    assert 'value="Comptabilité"' in page
    assert "field-invalid" not in page


def _first_rule(welcome):
    from webapp.models import WelcomeTimeRule

    return WelcomeTimeRule.select().where(WelcomeTimeRule.service == welcome.id).first()


def test_ui1_rule_edit_form_only_edits_and_end_is_a_time_picker(admin, welcome):
    rule = _first_rule(welcome)
    page = page_of(admin.client.get(f"{BASE}/{welcome.id}/regles/{rule.id}"))
    assert "Modifier la règle « " in page
    assert "Ajouter une règle" not in page
    start = re.search(r'<input[^>]*name="start"[^>]*>', page).group(0)
    end = re.search(r'<input[^>]*name="end"[^>]*>', page).group(0)
    assert 'type="time"' in start and 'type="time"' in end
    number = page_of(admin.client.get(f"{BASE}/{welcome.id}"))
    assert "Ajouter une règle" in number and "Modifier la règle « " not in number
    assert 'type="time"' in re.search(r'<input[^>]*name="end"[^>]*>', number).group(0)


def test_ui1_dated_exception_in_the_past_refused_in_french_keeping_what_was_typed(
        admin, welcome):
    from webapp.models import WelcomeProfile, WelcomeTimeRule

    profile = WelcomeProfile.select().where(WelcomeProfile.service == welcome.id).first()
    before = WelcomeTimeRule.select().count()
    response = admin.post(f"{BASE}/{welcome.id}/regles",
                          {"kind": "dated", "date": "2020-05-01", "start": "10:00",
                           "end": "12:30", "profile": str(profile.id),
                           "label": "Pont de mai"}, token_from=f"{BASE}/{welcome.id}")
    assert response.status_code == 400
    page = page_of(response)
    assert "Cette date est passée : une exception ne peut porter que sur aujourd'hui" in page
    assert "La règle n'a pas été ajoutée : corrigez les champs signalés." in page
    assert 'value="2020-05-01"' in page and 'value="Pont de mai"' in page
    assert 'value="12:30"' in page
    assert WelcomeTimeRule.select().count() == before
    # today (in the account's time zone) is still allowed
    today = dt.datetime.now(ZoneInfo(welcome.account.timezone or "Europe/Paris")).date()
    today = today.isoformat()
    ok = admin.post(f"{BASE}/{welcome.id}/regles",
                    {"kind": "dated", "date": today, "whole_day": "1",
                     "profile": str(profile.id)}, token_from=f"{BASE}/{welcome.id}")
    assert ok.status_code in (303, 200) and "Cette date est passée" not in page_of(ok)
