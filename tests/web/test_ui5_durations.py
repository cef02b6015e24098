"""UI-5: durations are formatted by Babel for the reader's language — statistics (talk,
rest and pause time, waits, thresholds), call history, the audio library and a line's
forwarding rules, in French and in English; never a hand-made "min"/"s"."""

from __future__ import annotations

import datetime as dt
import re

from tests.switchboard.test_swb_stats import CLAIRE, log_day

NNBSP, NBSP = "\u202f", "\xa0"


def _pages(admin, welcome, day, line_id):
    return {
        "stats": admin.client.get(f"/configurer/statistiques/{welcome.id}?periode=custom"
                                  f"&du={day}&au={day}").get_data(as_text=True),
        "history": admin.client.get(f"/services/{line_id}/historique").get_data(as_text=True),
        "audio": admin.client.get("/configurer/audio").get_data(as_text=True),
        "line": admin.client.get(f"/services/{line_id}/ligne").get_data(as_text=True),
    }


def _agent_row(html: str, line: str) -> str:
    return re.search(rf'<tr data-line="{re.escape(line)}">.*?</tr>', html, re.S).group(0)


def test_ui5_durations_follow_the_readers_language(admin, demo, welcome, db_conn):
    from webapp.models import AudioFile, Service, WelcomeProfile, utcnow
    from webapp.models.history import CallRecord

    WelcomeProfile.update(sla_s=15, rest_s=10).where(
        (WelcomeProfile.service == welcome.id) & (WelcomeProfile.key == "accueil")).execute()
    day = dt.date.today() - dt.timedelta(days=1)
    log_day(demo, welcome, day)
    line = Service.get(Service.number == CLAIRE)
    ended = utcnow() - dt.timedelta(hours=1)
    CallRecord.create(account=demo.account.id, service=line, entry_id="ui5-1", direction="in",
                      peer="+33478000001", status="answered",
                      started_at=ended - dt.timedelta(seconds=3735),
                      answered_at=ended - dt.timedelta(seconds=3725), ended_at=ended,
                      duration_s=3725)
    audio = AudioFile.select().where(AudioFile.account == demo.account.id).first()
    AudioFile.update(duration_ms=65_400).where(AudioFile.id == audio.id).execute()

    fr = _pages(admin, welcome, day, line.id)
    claire = _agent_row(fr["stats"], CLAIRE)
    # talk 80 s, rest 14 s, pause 20 min (tests/switchboard/test_swb_stats.py)
    assert f"1{NBSP}min 20{NNBSP}s" in claire and f">14{NNBSP}s<" in claire
    assert f">20{NBSP}min<" in claire
    assert f"Accueil 15{NNBSP}s" in fr["stats"]
    assert f"1{NNBSP}h 2{NBSP}min" in fr["history"]  # 3725 s: hours and minutes
    assert f"1{NBSP}min 5{NNBSP}s" in fr["audio"]  # 65.4 s
    assert f"Messagerie vocale après 20{NNBSP}s" in fr["line"]  # the demo's no-answer rule

    response = admin.post("/langue", {"language": "en", "next": "/"}, token_from="/")
    assert response.status_code == 303
    en = _pages(admin, welcome, day, line.id)
    claire = _agent_row(en["stats"], CLAIRE)
    assert "1 min 20 sec" in claire and ">14 sec<" in claire and ">20 min<" in claire
    assert "Accueil 15 sec" in en["stats"]
    assert "1 hr 2 min" in en["history"]
    assert "1 min 5 sec" in en["audio"]
    assert "Voicemail after 20 sec" in en["line"]
    for html in en.values():  # nothing left in the French way
        assert not re.search(rf"\d[ {NNBSP}]s\b(?!ec)|\d min \d\d s\b", html)
