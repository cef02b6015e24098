"""Issue 15 on the web side, without a browser: the live stream sends only what changed
(SWB-7, bandwidth), breaks from "Ma ligne" and the board are docs/protocol.md events (Q-13), the
action panel names the caller and defaults to the receptionist's line (SWB-4), directory
search and transfer (SWB-5), today's counters and shared callbacks (SWB-6), the call log
keeps breaks, callers and profiles."""

from __future__ import annotations

import json
import time

IN = "acd:{0}:in"
STATE = "acd:{0}:state"
HUGO_MOBILE = "+33600000104"


def events(redis_conn, kind: str) -> list[dict]:
    return [{k.decode(): v.decode() for k, v in f.items()}
            for _, f in redis_conn.xrange(IN) if f[b"type"] == kind.encode()]


NOW = int(time.time() * 1000)


def snapshot(number: str, waiting=(), agents=()) -> str:
    now = NOW
    return json.dumps({
        "number": number, "ts": now,
        "waiting": [{"call": c, "caller": caller, "profile": "accueil", "arrived_ms": now - age,
                     "position": i + 1, "queued_ms": now - age}
                    for i, (c, caller, age) in enumerate(waiting)],
        "ringing": [], "menu": [], "bridged": [],
        "agents": [{"line": li, "state": st, "call": None, "external": False,
                    "rest_until_ms": None, "rests": None,
                    "pause_reason": reason, "paused_since_ms": now if reason else None}
                   for li, st, reason in agents]})


def test_swb7_stream_sends_only_changed_items_deletions_and_heartbeats(db_conn, demo, welcome,
                                                                      redis_conn, app):
    from webapp.blueprints.switchboard.board import render_items
    from webapp.services import switchboard as svc
    from webapp.services import switchboard_stream as live

    redis_conn.hset(STATE, welcome.number, snapshot(
        welcome.number, waiting=[("w1", "+33612345678", 3000), ("w2", HUGO_MOBILE, 1000)],
        agents=[("+33100000101", "available", None), ("+33100000102", "in_call", None)]))
    boards = svc.boards([welcome])
    ticks = {"t": 0.0}
    steps = []

    def sleep(_s):
        ticks["t"] += 1.0
        if steps:
            steps.pop(0)()

    def render(board, v):
        with app.test_request_context("/standard"), db_conn.connection_context():
            from flask import g
            g.sb_directory = board.directory()
            return render_items(board, v, True)

    stream = live.changes(redis_conn, 0, boards, render, heartbeat_s=5, sleep=sleep,
                          directory=boards[0].directory(),
                          clock=lambda: ticks["t"], max_s=100)
    assert next(stream).startswith("retry:")
    full = next(stream)
    assert full.startswith("event: full\n") and full.count("\n") == 3  # one data line
    sid = welcome.id
    for key in (f"n{sid}-c-w1", f"n{sid}-c-w2", f"n{sid}-a-_33100000101", f"n{sid}-sum",
                f"n{sid}-cb"):
        assert f'id="{key}"' in full
    assert "Hugo Laurent" in full  # SWB-5: the caller is identified from the directory
    # Lucas is paused: only his item travels
    steps.append(lambda: redis_conn.hset(STATE, welcome.number, snapshot(
        welcome.number, waiting=[("w1", "+33612345678", 3000), ("w2", HUGO_MOBILE, 1000)],
        agents=[("+33100000101", "available", None), ("+33100000102", "paused", "dejeuner")])))
    update = next(stream)
    assert update.startswith("event: u\n")
    assert f'id="n{sid}-a-_33100000102"' in update and "Déjeuner" in update
    assert "w1" not in update and "_33100000101" not in update
    assert len(update.encode()) < 600
    # w1 is answered elsewhere: one deletion, w2 is not re-sent (the page numbers positions)
    steps.append(lambda: redis_conn.hset(STATE, welcome.number, snapshot(
        welcome.number, waiting=[("w2", HUGO_MOBILE, 1000)],
        agents=[("+33100000101", "available", None), ("+33100000102", "paused", "dejeuner")])))
    update = next(stream)
    assert update == f'event: u\ndata: <i id="n{sid}-c-w1" data-del></i>\n\n'
    # quiet: a heartbeat event (the page counts on it), not a comment
    beat = next(stream)
    assert beat.startswith("event: hb\ndata: ")
    stream.close()


def test_q13_breaks_from_my_line_and_from_the_board_are_protocol_events(admin, welcome, ids,
                                                                       redis_conn):
    page = admin.client.get("/ma-ligne").data.decode()
    assert "Me mettre en pause" in page and "01 00 00 01 01" in page
    r = admin.post(f"/ma-ligne/{ids['fixed_paris']}/pause", {"reason": "nope"},
                   token_from="/ma-ligne")
    assert r.status_code == 400 and redis_conn.xlen(IN) == 0
    r = admin.post(f"/ma-ligne/{ids['fixed_paris']}/pause", {"reason": "dejeuner"},
                   token_from="/ma-ligne")
    assert r.status_code == 303
    assert events(redis_conn, "line.paused")[0]["line"] == "+33100000101"
    assert events(redis_conn, "line.paused")[0]["reason"] == "dejeuner"
    # the page shows the engine's view of the break
    redis_conn.hset(STATE, welcome.number, snapshot(
        welcome.number, agents=[("+33100000101", "paused", "dejeuner")]))
    page = admin.client.get("/ma-ligne").data.decode()
    assert "En pause" in page and "Déjeuner" in page and "Reprendre les appels" in page
    admin.post(f"/ma-ligne/{ids['fixed_paris']}/reprise", token_from="/ma-ligne")
    assert events(redis_conn, "line.unpaused")[0]["line"] == "+33100000101"
    # someone else's line: 404
    r = admin.post(f"/ma-ligne/{ids['fixed_lyon']}/pause", {"reason": "pause"},
                   token_from="/ma-ligne")
    assert r.status_code == 404
    # the account's own reason, managed in Configurer, then used from the board
    r = admin.post("/configurer/pauses", {"label": "Rendez-vous client"},
                   token_from="/configurer/pauses")
    assert r.status_code == 303
    assert "Rendez-vous client" in admin.client.get("/configurer/pauses").data.decode()
    r = admin.post("/configurer/pauses", {"label": "réunion"}, token_from="/configurer/pauses")
    assert r.status_code == 400 and "existe déjà" in r.data.decode()
    panel = admin.client.get(f"/standard/{welcome.id}/agents/+33100000102").data.decode()
    assert "Rendez-vous client" in panel and "Mettre Lucas Petit en pause" in panel
    r = admin.post(f"/standard/{welcome.id}/agents/+33100000102/pause",
                   {"reason": "rendez-vous-client"}, token_from="/standard",
                   headers={"HX-Request": "true", "HX-Target": "sb-action"})
    assert "Lucas Petit est mis(e) en pause (Rendez-vous client)" in r.data.decode()
    assert events(redis_conn, "line.paused")[-1] == {
        **events(redis_conn, "line.paused")[-1], "line": "+33100000102",
        "reason": "rendez-vous-client"}
    # a line that is no agent of this number: 404
    r = admin.post(f"/standard/{welcome.id}/agents/+33100000190/pause", {"reason": "pause"},
                   token_from="/standard")
    assert r.status_code == 404


def test_swb4_swb5_panel_names_the_caller_defaults_to_own_line_and_transfers_by_name(
        admin, welcome, ids, redis_conn):
    redis_conn.hset(STATE, welcome.number, snapshot(
        welcome.number, waiting=[("h1", HUGO_MOBILE, 5000)]))
    panel = admin.client.get(f"/standard/{welcome.id}/appels/h1").data.decode()
    assert "Appel de Hugo Laurent" in panel
    assert f'<option value="{ids["fixed_paris"]}" selected>' in panel  # Claire's own line
    assert "Fermer" in panel
    found = admin.client.get(f"/standard/{welcome.id}/appels/h1/annuaire?q=simon").data.decode()
    assert "Léa Simon" in found and "01 00 00 01 05" in found
    found = admin.client.get(
        f"/standard/{welcome.id}/appels/h1/annuaire?q=06.00.00.01.09").data.decode()
    assert "Manon Roux" in found  # any format of a number
    r = admin.post(f"/standard/{welcome.id}/appels/h1/transferer", {"to": "+33600000109"},
                   token_from="/standard", headers={"HX-Request": "true",
                                                    "HX-Target": "sb-action"})
    text = r.data.decode()
    assert "l'appel de Hugo Laurent est transféré vers Manon Roux" in text.replace("&#39;", "'")
    assert events(redis_conn, "call.transfer")[0]["to"] == "+33600000109"
    # the call has ended meanwhile: said so, nothing sent
    redis_conn.hset(STATE, welcome.number, snapshot(welcome.number))
    before = redis_conn.xlen(IN)
    r = admin.post(f"/standard/{welcome.id}/appels/h1/decrocher",
                   {"line": str(ids["fixed_paris"])}, token_from="/standard")
    assert r.status_code == 409 and "Cet appel est terminé" in r.data.decode()
    assert redis_conn.xlen(IN) == before


def test_swb6_today_counters_short_abandons_and_shared_callbacks(admin, welcome, demo, browser,
                                                                 db_conn):
    from webapp.models import CallLogEntry, WelcomeProfile
    from webapp.services import switchboard as svc

    WelcomeProfile.update(sla_s=15).where(WelcomeProfile.service == welcome.id).execute()
    now = int(time.time() * 1000)
    rows = [("a1", "answered", 10_000, "+33611111111"), ("a2", "answered", 30_000, None),
            ("s1", "abandoned", 2_000, "+33622222222"), ("b1", "abandoned", 40_000, HUGO_MOBILE),
            ("r1", "rejected", None, "+33633333333")]
    for i, (call, kind, wait, caller) in enumerate(rows):
        CallLogEntry.create(shard=0, entry_id=f"t-{i}", account=demo.account.id,
                            number=welcome.number, call=call, type=kind, wait_ms=wait,
                            caller=caller, profile="accueil", ts_ms=now - 1000 + i)
    board = svc.boards([welcome])[0]
    assert board.today == {"received": 5, "answered": 2, "abandoned": 1, "short": 1,
                           "sl": 1 / 4}  # a1 within 15 s; s1 (< 5 s) left out of the rate
    assert [c["call"] for c in board.callbacks] == ["r1", "b1", "s1"]
    page = admin.client.get("/standard").data.decode()
    assert "Hugo Laurent" in page and 'href="tel:+33600000104"' in page
    r = admin.post(f"/standard/{welcome.id}/rappels/b1/traite", token_from="/standard")
    assert r.status_code == 303
    assert [c["done"] for c in svc.boards([welcome])[0].callbacks] == [False, True, False]


def test_q13_calllog_keeps_breaks_with_the_line_account_and_outcome_callers(
        db_conn, demo, redis_conn):
    from webapp.models import CallLogEntry
    from worker.calllog import AcdLogHandler

    AcdLogHandler(0).handle([
        ("1-0", {"type": "line.paused", "ts": "1767607200000", "line": "+33100000101",
                 "reason": "auto"}),
        ("2-0", {"type": "line.unpaused", "ts": "1767607260000", "line": "+33100000101",
                 "paused_ms": "60000"}),
        ("3-0", {"type": "abandoned", "ts": "1767607270000", "number": "+33100000001",
                 "call": "x", "wait_ms": "9000", "caller": "+33612345678",
                 "profile": "accueil"})])
    rows = {r.type: r for r in CallLogEntry.select()}
    assert rows["line.unpaused"].paused_ms == 60000
    assert rows["line.paused"].account_id == demo.account.id
    assert rows["line.paused"].reason == "auto"
    assert (rows["abandoned"].caller, rows["abandoned"].profile) == ("+33612345678", "accueil")


def test_q13_swb6_queue_form_saves_threshold_and_autopause_into_the_engine_document(
        admin, welcome, db_conn):
    from webapp.models import WelcomeProfile
    from webapp.services.engine_config import numbers_section
    from webapp.services.routing_profiles import routing_profile_to_form as profile_to_form

    profile = WelcomeProfile.get((WelcomeProfile.service == welcome.id)
                                 & (WelcomeProfile.key == "accueil"))
    url = f"/configurer/numeros-accueil/{welcome.id}/profils/{profile.id}"
    form = profile_to_form(profile)
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    data.update(sla_s="30", autopause="3", line=[r["line"] for r in form["lines"]],
                priority=[r["priority"] for r in form["lines"]],
                weight=[r["weight"] for r in form["lines"]])
    page = admin.client.get(url).data.decode()
    assert "Pause automatique" in page and "Seuil de qualité de service" in page
    r = admin.post(url, {**data, "autopause": "9"}, token_from=url)
    assert r.status_code == 400 and "Pause automatique" in r.data.decode()
    r = admin.post(url, data, token_from=url)
    assert r.status_code in (200, 303), r.data.decode()[:500]
    profile = WelcomeProfile.get_by_id(profile.id)
    assert (profile.sla_s, profile.autopause) == (30, 3)
    doc = numbers_section()[welcome.number]["profiles"]["accueil"]
    assert doc["autopause"] == 3


def test_swb7_a_renamed_profile_and_a_renamed_agent_show_within_seconds(db_conn, demo, welcome,
                                                                       redis_conn, app):
    from webapp.blueprints.switchboard.board import render_items
    from webapp.models import Contact, WelcomeProfile
    from webapp.services import switchboard as svc
    from webapp.services import switchboard_stream as live

    redis_conn.hset(STATE, welcome.number, snapshot(
        welcome.number, waiting=[("w1", "+33612345678", 3000)],
        agents=[("+33100000101", "available", None)]))
    boards = svc.boards([welcome])
    ticks = {"t": 0.0}

    def sleep(_s):
        ticks["t"] += 1.0

    def render(board, v):
        with app.test_request_context("/standard"):
            from flask import g
            g.sb_directory = None
            return render_items(board, v, True)

    stream = live.changes(redis_conn, 0, boards, render, refresh_fn=svc.refresh, refresh_s=5,
                          heartbeat_s=60, sleep=sleep, clock=lambda: ticks["t"])
    next(stream)
    assert "Accueil ·" in next(stream)
    WelcomeProfile.update(name="Standard du siège").where(
        (WelcomeProfile.service == welcome.id) & (WelcomeProfile.key == "accueil")).execute()
    Contact.update(first_name="Clara").where(Contact.first_name == "Claire").execute()
    update = next(stream)  # at the next refresh (5 s here), without reconnecting
    assert ticks["t"] <= 6
    assert "Standard du siège ·" in update and "Clara Dubois" in update
    stream.close()


def test_swb7_a_user_with_no_number_gets_the_empty_state_without_a_connection_badge(
        browser, demo):
    browser.sign_in(demo.user_email, demo.password)
    page = browser.client.get("/standard").data.decode().replace("&#39;", "'")
    assert "Aucun numéro d'accueil dans votre périmètre" in page
    assert 'id="sb-link"' not in page and "Connexion…" not in page
