"""WN-1..4: profile forms, validation, atomic saves, time rules, preview, engine document."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.models import AuditEvent, WelcomeLine, WelcomeProfile, WelcomeTimeRule

BASE = "/configurer/numeros-accueil"


def queue_form(ids, **over) -> dict:
    data = {"name": "Accueil", "kind": "queue", "size": "5", "rest_s": "10", "ring_s": "20",
            "mode": "inactivity", "op": "save",
            "line": [str(ids["fixed_paris"]), str(ids["fixed_lyon"])],
            "priority": ["1", "2"], "weight": ["1", "1"]}
    data.update(over)
    return data


def entry(welcome):
    return WelcomeProfile.get((WelcomeProfile.service == welcome.id) & WelcomeProfile.is_entry)


def snapshot(welcome):
    from webapp.services.engine_config import number_section

    return number_section(welcome)


def test_wn4_valid_queue_edit_is_saved_audited_and_publishes_reload(admin, welcome, ids,
                                                                     redis_conn):
    p = entry(welcome)
    url = f"{BASE}/{welcome.id}/profils/{p.id}"
    r = admin.post(url, queue_form(ids, size="7", mode="random", weight=["3", "1"]))
    assert r.status_code == 303, r.data[-2000:]
    doc = snapshot(welcome)["profiles"]["accueil"]
    assert doc["size"] == 7 and doc["mode"] == "random"
    assert doc["agents"] == [{"line": "+33100000101", "priority": 1, "weight": 3},
                             {"line": "+33100000102", "priority": 2, "weight": 1}]
    entries = redis_conn.xrange("acd:{0}:in")
    assert entries and entries[-1][1][b"type"] == b"config.reload"
    assert AuditEvent.select().where(AuditEvent.kind == "welcome.profile_saved").count() == 1


@pytest.mark.parametrize("field,value,message", [
    ("size", "0", "Taille de la file : saisissez un nombre entier entre 1 et 10."),
    ("size", "11", "entre 1 et 10"),
    ("size", "abc", "entre 1 et 10"),
    ("rest_s", "241", "Délai de repos : saisissez un nombre entier entre 0 et 240."),
    ("rest_s", "-1", "entre 0 et 240"),
    ("ring_s", "4", "Durée de sonnerie maximale : saisissez un nombre entier entre 5 et 120."),
    ("ring_s", "121", "entre 5 et 120"),
    ("mode", "roundrobin", "Choisissez le mode"),
    ("name", "", "Donnez un nom au profil"),
    ("name", "x" * 61, "60 caractères"),
    ("kind", "voicemail", "Choisissez le type de profil."),
])
def test_wn4_bad_field_is_refused_in_french_keeps_values_and_writes_nothing(
        admin, welcome, ids, redis_conn, field, value, message):
    p = entry(welcome)
    before = snapshot(welcome)
    redis_conn.delete("acd:{0}:in")
    r = admin.post(f"{BASE}/{welcome.id}/profils/{p.id}", queue_form(ids, **{field: value}))
    assert r.status_code == 400
    page = r.data.decode()
    assert message.replace("'", "&#39;") in page or message in page
    if value and len(value) < 20:
        assert f'value="{value}"' in page or f'"{value}" selected' in page or field in (
            "mode", "kind")
    assert snapshot(welcome) == before
    assert redis_conn.xlen("acd:{0}:in") == 0


@pytest.mark.parametrize("prio,weight,mode,error", [
    ("0", "1", "inactivity", "Priorité : saisissez un nombre entier entre 1 et 5."),
    ("6", "1", "inactivity", "Priorité"),
    ("1", "6", "random", "Poids : saisissez un nombre entier entre 1 et 5."),
    ("1", "0", "random", "Poids"),
])
def test_wn4_priority_and_weight_bounds(admin, welcome, ids, prio, weight, mode, error):
    p = entry(welcome)
    before = snapshot(welcome)
    r = admin.post(f"{BASE}/{welcome.id}/profils/{p.id}",
                   queue_form(ids, mode=mode, priority=[prio, "1"], weight=[weight, "1"]))
    assert r.status_code == 400 and error in r.data.decode()
    assert snapshot(welcome) == before


def test_wn4_weight_shown_and_used_only_in_random_mode(admin, welcome, ids):
    p = entry(welcome)
    url = f"{BASE}/{welcome.id}/profils/{p.id}"
    page = admin.client.get(url).data.decode()
    assert 'name="weight" min="1"' not in page  # inactivity: no weight input
    r = admin.post(url, queue_form(ids, op="refresh", mode="random"))
    assert r.status_code == 200 and 'name="weight" min="1"' in r.data.decode()
    # in "Inactivité", a stray weight is neither validated nor sent to the engine
    r = admin.post(url, queue_form(ids, weight=["9", "4"]))
    assert r.status_code == 303
    assert {a["weight"] for a in snapshot(welcome)["profiles"]["accueil"]["agents"]} == {1}


def test_wn4_only_internal_fixed_lines_of_the_account_can_be_agents(admin, welcome, ids,
                                                                    db_conn):
    from webapp.models import Service
    from webapp.services.accounts import create_account, default_site

    p = entry(welcome)
    url = f"{BASE}/{welcome.id}/profils/{p.id}"
    page = admin.client.get(url).data.decode()
    assert "+33600000101" not in page and "06 00 00 01 01" not in page  # mobiles not offered
    other = create_account("Concurrent SARL")
    foreign = Service.create(account=other, site=default_site(other), kind="fixed",
                             number="+33199999999")
    before = snapshot(welcome)
    for bad in (ids["mobile_paris"], ids["fax_paris"], foreign.id, welcome.id):
        r = admin.post(url, queue_form(ids, line=[str(bad)], priority=["1"], weight=["1"]))
        assert r.status_code == 404, bad
        r = admin.post(url, queue_form(ids, op="add", add_line=str(bad)))
        assert r.status_code == 404, bad
    assert snapshot(welcome) == before


def test_wn4_lines_added_removed_and_reordered_in_place_without_saving(admin, welcome, ids):
    p = entry(welcome)
    url = f"{BASE}/{welcome.id}/profils/{p.id}"
    before = snapshot(welcome)
    form = queue_form(ids, op="add", add_line=str(ids["fixed_entrepot"]))
    r = admin.post(url, form, headers={"HX-Request": "true", "HX-Target": "profile-form"})
    page = r.data.decode()
    assert r.status_code == 200 and page.lstrip().startswith("<form")
    assert page.count('name="line"') == 3
    r = admin.post(url, queue_form(ids, op="down:0"))
    rows = r.data.decode().split('name="line" value="')[1:]
    assert [x.split('"')[0] for x in rows] == [str(ids["fixed_lyon"]), str(ids["fixed_paris"])]
    r = admin.post(url, queue_form(ids, op="remove:1"))
    assert r.data.decode().count('name="line"') == 1
    assert snapshot(welcome) == before
    r = admin.post(url, queue_form(ids, line=[str(ids["fixed_lyon"]), str(ids["fixed_paris"])]))
    assert r.status_code == 303
    agents = snapshot(welcome)["profiles"]["accueil"]["agents"]
    assert [a["line"] for a in agents] == ["+33100000102", "+33100000101"]


def test_wn4_duplicate_line_and_empty_lines_refused(admin, welcome, ids):
    p = entry(welcome)
    url = f"{BASE}/{welcome.id}/profils/{p.id}"
    r = admin.post(url, queue_form(ids, line=[str(ids["fixed_paris"])] * 2))
    assert r.status_code == 400 and "figure déjà" in r.data.decode()
    r = admin.post(url, {k: v for k, v in queue_form(ids).items()
                         if k not in ("line", "priority", "weight")})
    assert r.status_code == 400 and "Ajoutez au moins une ligne" in r.data.decode()


def _audio(db_conn, welcome, kind, name):
    from tests.lines.audio_files import wav_bytes
    from webapp.models import User
    from webapp.services.actor import Actor
    from webapp.services.audio import upload
    from webapp.settings import load

    s = load()
    user = User.get(User.account == welcome.account_id)
    return upload(filename=f"{name}.wav", data=wav_bytes(0.2), name=name, kind=kind,
                  actor=Actor(user, "127.0.0.1", s.REDIS_URL, 0, s.DATA_DIR))


def test_wn3_non_entry_profile_needs_caller_preanswer_for_its_music(admin, welcome, ids,
                                                                     db_conn):
    music = _audio(db_conn, welcome, "music", "Jazz")
    hello = _audio(db_conn, welcome, "announcement", "Bonjour")
    url = f"{BASE}/{welcome.id}/profils"
    r = admin.post(url, queue_form(ids, name="Compta", music=str(music.id)))
    assert r.status_code == 400
    assert "un prédécroché pour l'appelant est nécessaire" in r.data.decode().replace("&#39;",
                                                                                      "'")
    assert not WelcomeProfile.select().where(WelcomeProfile.name == "Compta").exists()
    r = admin.post(url, queue_form(ids, name="Compta", music=str(music.id),
                                   caller_preanswer=str(hello.id)))
    assert r.status_code == 303
    doc = snapshot(welcome)["profiles"]["compta"]
    assert doc["music"] == f"audio-{music.id}" and doc["caller_preanswer"] == f"audio-{hello.id}"
    # the entry profile itself may have music without a pre-answer
    p = entry(welcome)
    r = admin.post(f"{BASE}/{welcome.id}/profils/{p.id}", queue_form(ids, music=str(music.id)))
    assert r.status_code == 303
    # a music file cannot be used as a pre-answer, nor another account's file
    r = admin.post(url, queue_form(ids, name="X", caller_preanswer=str(music.id)))
    assert r.status_code == 400 and "bibliothèque du compte" in r.data.decode()


def test_wn3_form_shows_seed_help_and_limitations(admin, welcome):
    page = admin.client.get(f"{BASE}/{welcome.id}/profils/{entry(welcome).id}").data.decode()
    page = page.replace("&#39;", "'")
    for text in ("Étape 1", "Étape 2", "Étape 3", "Prédécroché pour l'appelant",
                 "peut limiter la durée de sonnerie", "Confirmation de prise en charge",
                 "touche étoile [*]", "Limitations", "Il n'y a pas de limite du temps",
                 "messagerie vocale en fin de scénario", "numéro de secours sont toujours suivis"):
        assert text in page, text


def test_wn2_menu_and_announcement_profiles(admin, welcome, ids, db_conn):
    hello = _audio(db_conn, welcome, "announcement", "Choix")
    url = f"{BASE}/{welcome.id}/profils"
    p = entry(welcome)
    r = admin.post(url, {"name": "Menu", "kind": "menu", "op": "save", "timeout_s": "8"})
    assert r.status_code == 400
    assert "Choisissez le message du menu." in r.data.decode()
    assert "Associez au moins une touche" in r.data.decode()
    r = admin.post(url, {"name": "Menu", "kind": "menu", "op": "save", "timeout_s": "8",
                         "media": str(hello.id), "key_1": str(p.id), "key_star": str(p.id)})
    assert r.status_code == 303, r.data[-1500:]
    menu = snapshot(welcome)["profiles"]["menu"]
    assert menu["keys"] == {"*": "accueil", "1": "accueil"} and menu["timeout_s"] == 8
    r = admin.post(url, {"name": "Tous", "kind": "ring_all", "op": "save", "ring_s": "15",
                         "line": [str(ids["fixed_paris"])], "priority": ["1"], "weight": ["1"],
                         "then": str(p.id)})
    assert r.status_code == 303
    assert snapshot(welcome)["profiles"]["tous"] == {
        "type": "ring_all", "lines": ["+33100000101"], "ring_s": 15, "confirm": False,
        "then": "accueil", "caller_preanswer": None, "callee_preanswer": None, "music": None}


def test_wn1_time_rules_overlap_refused_and_preview(admin, welcome, db_conn):
    url = f"{BASE}/{welcome.id}/regles"
    shut = WelcomeProfile.get(WelcomeProfile.key == "ferme")
    count = WelcomeTimeRule.select().count()
    # Monday 12:00-13:00 overlaps the demo's weekday 09:00-12:30 slot
    r = admin.post(url, {"kind": "weekly", "days": ["0"], "start": "12:00", "end": "13:00",
                         "profile": str(shut.id)})
    assert r.status_code == 400 and "chevauche" in r.data.decode()
    assert 'value="13:00"' in r.data.decode()
    r = admin.post(url, {"kind": "weekly", "days": [], "start": "12:00", "end": "11:00",
                         "profile": str(shut.id)})
    page = r.data.decode()
    page = page.replace("&#39;", "'")
    assert "Cochez au moins un jour" in page and "L'heure de fin doit être après" in page
    r = admin.post(url, {"kind": "dated", "date": "2026-12-25", "whole_day": "1",
                         "profile": str(shut.id)})
    assert r.status_code == 400 and "chevauche" in r.data.decode()
    assert WelcomeTimeRule.select().count() == count
    # Saturday 10:00-12:00 is free; then the preview says who answers
    r = admin.post(url, {"kind": "weekly", "days": ["5"], "start": "10:00", "end": "12:00",
                         "profile": str(shut.id), "label": "Samedi"})
    assert r.status_code == 303
    def answer(date, time):
        return admin.client.get(f"{BASE}/{welcome.id}?date={date}&time={time}").data.decode()
    assert "le profil « Fermé » répond" in answer("2026-12-05", "11:00")  # a Saturday
    assert "le profil « Accueil » répond" in answer("2026-12-05", "12:00")  # entry
    assert "le profil « Fermé » répond" in answer("2026-12-25", "10:00")  # holiday
    assert "le profil « Accueil » répond" in answer("2026-12-07", "09:00")  # Monday slot
    r = admin.client.get(f"{BASE}/{welcome.id}?date=nope&time=10:00")
    assert r.status_code == 400 and "date et une heure valides" in r.data.decode()


def test_wn1_entry_profile_cannot_be_deleted_and_changes_atomically(admin, welcome, db_conn):
    p = entry(welcome)
    r = admin.post(f"{BASE}/{welcome.id}/profils/{p.id}/supprimer")
    assert r.status_code == 409 and "profil d'entrée" in r.data.decode().replace("&#39;", "'")
    shut = WelcomeProfile.get(WelcomeProfile.key == "ferme")
    r = admin.post(f"{BASE}/{welcome.id}/profils/{shut.id}/entree")
    assert r.status_code == 303
    assert entry(welcome).id == shut.id and snapshot(welcome)["entry"] == "ferme"
    assert WelcomeProfile.select().where(WelcomeProfile.is_entry).count() == 1


def test_wn4_demo_document_validates_and_matches_demo_config(db_conn, demo):
    import json
    from pathlib import Path

    from engine.config import parse
    from webapp.services.engine_config import build_document

    doc = build_document()
    config = parse(doc)
    number = config.numbers["+33100000001"]
    file = json.loads(Path("engine/demo_config.json").read_text())["numbers"]["+33100000001"]
    def rules(items):  # dated rules never overlap: their order does not matter
        return sorted(json.dumps(r, sort_keys=True) for r in items)

    assert rules(doc["numbers"]["+33100000001"]["rules"]) == rules(file["rules"])
    assert number.entry == file["entry"]
    ours = doc["numbers"]["+33100000001"]["profiles"]["accueil"]
    for key in ("type", "size", "rest_s", "ring_s", "mode", "confirm", "agents"):
        assert ours[key] == file["profiles"]["accueil"][key], key


def test_wn4_agent_lines_are_queue_agents(db_conn, demo, ids):
    from webapp.models import Service
    from webapp.services.welcome_numbers import is_queue_agent

    assert is_queue_agent(Service.get_by_id(ids["fixed_paris"]))
    assert not is_queue_agent(Service.get_by_id(ids["fixed_entrepot"]))
    assert WelcomeLine.select().count() == 4


def test_wn1_restricted_user_cannot_reach_out_of_scope_number(browser, demo, welcome):
    browser.sign_in(demo.user_email, demo.password)
    assert browser.client.get(f"{BASE}/{welcome.id}").status_code == 404
    page = browser.client.get(BASE).data.decode().replace("&#39;", "'")
    assert "Aucun numéro d'accueil dans votre périmètre" in page


def test_wn1_dates_shown_in_account_time_zone(db_conn, demo, welcome):
    from webapp.services.routing_preview import preview

    profile, at = preview(welcome, dt.datetime(2026, 1, 1, 10, 0))
    assert profile.key == "ferme" and at.hour == 10


def test_wn1_time_rule_edited_in_place_checked_like_a_new_one(admin, welcome, redis_conn,
                                                              db_conn):
    shut = WelcomeProfile.get(WelcomeProfile.key == "ferme")
    url = f"{BASE}/{welcome.id}/regles"
    assert admin.post(url, {"kind": "weekly", "days": ["5"], "start": "10:00", "end": "12:00",
                            "profile": str(shut.id), "label": "Samedi"}).status_code == 303
    rule = WelcomeTimeRule.get(WelcomeTimeRule.label == "Samedi")
    count = WelcomeTimeRule.select().count()
    form = admin.client.get(f"{url}/{rule.id}").data.decode()
    assert 'value="10:00"' in form and "Enregistrer la règle" in form  # prefilled
    # Overlap with another rule is refused, the typed values are kept, nothing changes.
    r = admin.post(f"{url}/{rule.id}", {"kind": "weekly", "days": ["0"], "start": "12:00",
                                         "end": "13:00", "profile": str(shut.id),
                                         "label": "Samedi"}, token_from=f"{url}/{rule.id}")
    assert r.status_code == 400 and "chevauche" in r.data.decode()
    assert 'value="13:00"' in r.data.decode()
    assert WelcomeTimeRule.get_by_id(rule.id).days == "5"
    # Moving the slot over its own old hours is not an overlap with itself.
    redis_conn.delete("acd:{0}:in")
    r = admin.post(f"{url}/{rule.id}", {"kind": "weekly", "days": ["5"], "start": "09:00",
                                         "end": "13:00", "profile": str(shut.id),
                                         "label": "Samedi matin"}, token_from=f"{url}/{rule.id}")
    assert r.status_code == 303
    changed = WelcomeTimeRule.get_by_id(rule.id)
    assert (changed.start, changed.end, changed.label) == ("09:00", "13:00", "Samedi matin")
    assert WelcomeTimeRule.select().count() == count
    assert [f[b"type"] for _, f in redis_conn.xrange("acd:{0}:in")] == [b"config.reload"]
    assert "le profil « Fermé » répond" in admin.client.get(
        f"{BASE}/{welcome.id}?date=2026-12-05&time=09:30").data.decode()
