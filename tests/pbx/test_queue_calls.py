"""PBX-2: welcome-number calls through real Kamailio, the real pjsua2 connector and the
real engine; every phone registers with Keyyo Phone credentials generated through the app
and plays its own tone, and we check what each one hears."""

from __future__ import annotations

import datetime as dt

import pytest

from pbx.audio import write_tone
from tests.pbx.conftest import credentials, in_events
from tests.pbx.phones import answered, pump, wait

WELCOME = "+33100000001"
A, B, CALLER = "+33100000101", "+33100000103", "+33100000105"
MUSIC_HZ, CALLEE_HZ, CALLER_HZ, A_HZ, B_HZ = 440, 880, 620, 1000, 1250


def _audio(account, name: str, kind: str, hz: float, data_dir):
    import secrets

    from webapp.models import AudioFile
    from webapp.services.audio import directory

    storage = f"{secrets.token_hex(16)}.wav"
    path = write_tone(directory(data_dir, account.id) / storage, [(hz, 4.0)], rate=8000)
    return AudioFile.create(account=account, name=name, kind=kind, format="wav",
                            storage_name=storage, size_bytes=path.stat().st_size,
                            duration_ms=4000, created_at=dt.datetime.now(dt.UTC))


@pytest.fixture
def queue(db_conn, demo, app):
    """The demo queue « Accueil » open all day: agents +33100000101 (priority 1) and
    +33100000103 (priority 2), 440 Hz hold music, confirmation with an 880 Hz callee
    pre-answer (the other demo agents leave the queue)."""
    from webapp.models import Service, WelcomeLine, WelcomeProfile, WelcomeTimeRule
    from webapp.settings import load

    welcome = Service.get(Service.number == WELCOME)
    data_dir = load().DATA_DIR
    WelcomeTimeRule.delete().where(WelcomeTimeRule.service == welcome.id).execute()
    profile = WelcomeProfile.get((WelcomeProfile.service == welcome.id)
                                 & WelcomeProfile.is_entry)
    profile.music = _audio(welcome.account, "La440", "music", MUSIC_HZ, data_dir)
    profile.callee_preanswer = _audio(welcome.account, "Appel", "announcement", CALLEE_HZ,
                                      data_dir)
    profile.caller_preanswer = None
    profile.confirm, profile.rest_s, profile.ring_s = True, 0, 8
    profile.save()
    WelcomeLine.delete().where((WelcomeLine.profile == profile.id) & WelcomeLine.line.not_in(
        Service.select(Service.id).where(Service.number.in_((A, B))))).execute()
    return profile


def line_id(number: str) -> int:
    from webapp.models import Service

    return Service.get(Service.number == number).id


def registered(conn, line: str) -> bool:
    return any(e["line"] == line for e in in_events(conn, kinds=("line.registered",)))


def log_of(conn, shard: int = 0) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in f.items()}
            for _i, f in conn.xrange(f"acd:{{{shard}}}:log")]


def near(hz: float, want: float, tol: float = 8) -> bool:
    return abs(hz - want) <= tol


def test_pbx2_caller_hears_the_hold_music(admin, queue, redis_conn, sip, engine_proc,
                                          connector, make_phone):
    engine_proc.start()
    login, secret = credentials(admin, line_id(CALLER))
    caller = make_phone("caller", CALLER_HZ).register(login, secret, sip.port)
    wait(lambda: caller.registered, what="caller registered")
    call = caller.dial(WELCOME)  # nobody of the queue is registered: the call waits
    wait(lambda: call.state == "confirmed", timeout=15, what="answered with music")
    arrived = in_events(redis_conn, kinds=("call.arrived",))
    assert [(e["number"], e["caller"]) for e in arrived] == [(WELCOME, CALLER)]
    hz, level = call.hears(1.5)
    assert near(hz, MUSIC_HZ, 5) and level > 500, (hz, level)
    call.hangup()
    wait(lambda: any(e["type"] == "abandoned" for e in log_of(redis_conn)), timeout=10,
         what="outcome abandoned")
    ended = in_events(redis_conn, kinds=("call.ended",))
    assert [e["by"] for e in ended] == ["caller"]


def phones(admin, sip, make_phone, redis_conn, *lines_tones):
    out = []
    for line, name, hz in lines_tones:
        login, secret = credentials(admin, line_id(line))
        phone = make_phone(name, hz).register(login, secret, sip.port)
        out.append(phone)
    for phone, (line, _n, _h) in zip(out, lines_tones, strict=True):
        wait(lambda p=phone: p.registered, what=f"{phone.name} registered")
        wait(lambda li=line: registered(redis_conn, li), what=f"{line} registered")
    return out


def test_pbx2_priority_confirmation_bridge_and_statistics(admin, queue, redis_conn, sip,
                                                          engine_proc, connector, make_phone,
                                                          db_conn):
    from webapp.models import Service
    from worker.calllog import CallLog, handlers

    engine_proc.start()
    a, b, caller = phones(admin, sip, make_phone, redis_conn, (A, "agent-a", A_HZ),
                          (B, "agent-b", B_HZ), (CALLER, "caller", CALLER_HZ))
    call = caller.dial(WELCOME)
    # priority 1 rings first, priority 2 does not
    wait(lambda: a.ringing(), timeout=10, what="agent A rings")
    pump(0.5)  # the behaviour under test is an absence: B does not ring meanwhile
    assert b.ringing() is None
    leg = a.ringing()
    leg.answer(200)
    wait(lambda: leg.state == "confirmed", what="agent A connected")
    # confirming: agent A hears the callee pre-answer (880 Hz), the caller the music
    hz, level = leg.hears(1.0)
    assert near(hz, CALLEE_HZ) and level > 500, (hz, level)
    leg.dtmf("*")
    wait(lambda: any(e["type"] == "call.key" and e.get("key") == "*"
                     for e in in_events(redis_conn)), what="call.key *")
    wait(lambda: any(e["type"] == "answered" for e in log_of(redis_conn)), what="bridged")
    wait(lambda: near(call.hears(0.6)[0], A_HZ), timeout=8, what="the bridge's audio")
    # caller and agent hear each other
    hz, level = call.hears(1.0)
    assert near(hz, A_HZ) and level > 500, ("caller hears", hz, level)
    hz, level = leg.hears(1.0)
    assert near(hz, CALLER_HZ) and level > 500, ("agent hears", hz, level)
    call.hangup()
    wait(lambda: leg.state == "disconnected", what="agent leg ends with the call")
    wait(lambda: any(e["type"] == "completed" for e in log_of(redis_conn)), what="completed")
    outcome = next(e for e in log_of(redis_conn) if e["type"] == "answered")
    assert outcome["line"] == A
    assert [e["by"] for e in in_events(redis_conn, kinds=("call.ended",))] == ["caller"]
    cdrs = [{k.decode(): v.decode() for k, v in f.items()}
            for _i, f in redis_conn.xrange("pbx:cdr")]
    mine = [c for c in cdrs if c.get("call") == outcome["call"]]
    assert [(c["line"], c["status"], c["peer"]) for c in mine] == [(A, "answered", CALLER)]
    assert int(mine[0]["answered_ms"]) <= int(mine[0]["ended_ms"])
    # the calllog worker files it: the statistics and the line's history count the call
    CallLog(redis_conn, handlers(1)).work(burst=True)
    welcome = Service.get(Service.number == WELCOME)
    page = admin.client.get(f"/configurer/statistiques/{welcome.id}").get_data(as_text=True)
    assert '<dd id="kpi-received">1</dd>' in page and '<dd id="kpi-answered">1</dd>' in page
    history = admin.client.get(f"/services/{line_id(A)}/historique").get_data(as_text=True)
    assert "01 00 00 01 05" in history or CALLER in history


def test_pbx2_declined_then_next_agent_and_unreachable_follows_the_backup(
        admin, queue, redis_conn, sip, engine_proc, connector, make_phone, db_conn):
    from tests.pbx.test_registration import raw_register
    from webapp.models import Service

    # +33100000103's phone has vanished (registered, then gone): its backup is +33100000107
    Service.update(backup_number="+33100000107").where(Service.number == B).execute()
    engine_proc.start()
    login, secret = credentials(admin, line_id(B))
    assert raw_register(sip.port, login, secret, expires=120) == 200
    a, backup, caller = phones(admin, sip, make_phone, redis_conn, (A, "agent-a", A_HZ),
                               ("+33100000107", "backup", B_HZ),
                               (CALLER, "caller", CALLER_HZ))
    wait(lambda: registered(redis_conn, B), what="B registered")
    call = caller.dial(WELCOME)
    leg = answered(a, "agent A (confirming)")
    leg.hangup()  # A declines while confirming
    wait(lambda: any(e["type"] == "call.ring_failed" and e["reason"] == "declined"
                     for e in in_events(redis_conn)), what="ring_failed declined")
    # the next agent is B, whose phone does not answer: unreachable, then its backup rings
    wait(lambda: any(e["type"] == "call.ring_failed" and e["line"] == B
                     and e["reason"] == "unreachable" for e in in_events(redis_conn)),
         timeout=20, what="ring_failed unreachable")
    ringing = answered(backup, "the backup number")
    hz, level = call.hears(1.0)
    assert near(hz, B_HZ) and level > 500, (hz, level)
    outcome = [e for e in log_of(redis_conn) if e["type"] == "forwarded"]
    assert [(e["line"], e["to"]) for e in outcome] == [(B, "+33100000107")]
    call.hangup()
    wait(lambda: ringing.state == "disconnected", what="backup leg ends")


def test_pbx2_queue_full_gets_486(admin, queue, redis_conn, sip, engine_proc, connector,
                                  make_phone):
    queue.size = 1
    queue.save()
    engine_proc.start()
    (first, second) = phones(admin, sip, make_phone, redis_conn, (CALLER, "caller", CALLER_HZ),
                             ("+33100000107", "second", B_HZ))
    c1 = first.dial(WELCOME)
    wait(lambda: c1.state == "confirmed", timeout=15, what="first caller waits")
    c2 = second.dial(WELCOME)
    wait(lambda: c2.state == "disconnected", timeout=15, what="second caller refused")
    assert c2.code == 486
    assert [e["reason"] for e in log_of(redis_conn) if e["type"] == "rejected"] == ["queue_full"]
    c1.hangup()


def test_pbx2_kill_9_connector_mid_call_leaves_no_call_without_outcome(
        admin, queue, redis_conn, sip, engine_proc, connector, make_phone):
    engine_proc.start()
    a, caller = phones(admin, sip, make_phone, redis_conn, (A, "agent-a", A_HZ),
                       (CALLER, "caller", CALLER_HZ))
    call = caller.dial(WELCOME)
    leg = answered(a, "agent A (confirming)")
    wait(lambda: leg.hears(0.5)[1] > 500, timeout=8, what="agent A's audio")
    leg.dtmf("*")
    wait(lambda: any(e["type"] == "answered" for e in log_of(redis_conn)), what="bridged")
    wait(lambda: call.state == "confirmed", what="the caller is connected")
    assert near(call.hears(0.6)[0], A_HZ)  # mid-call: the caller hears agent A
    connector.stop(kill=True)  # kill -9 mid-call
    assert redis_conn.hlen("pbx:connector:calls") == 1
    connector.start()
    # the restarted connector reports the call and has Kamailio end both legs
    wait(lambda: call.state == "disconnected" and leg.state == "disconnected", timeout=30,
         what="both legs ended after the restart")
    wait(lambda: any(e["type"] == "completed" for e in log_of(redis_conn)), what="completed")
    assert [e["by"] for e in in_events(redis_conn, kinds=("call.ended",))] == ["network"]
    assert redis_conn.hlen("pbx:connector:calls") == 0
    calls = {e["call"] for e in log_of(redis_conn) if e["type"] in ("answered", "abandoned")}
    arrived = {e["call"] for e in in_events(redis_conn, kinds=("call.arrived",))}
    assert calls == arrived
    assert not [c for c in a.calls + caller.calls if c.state not in ("disconnected",)]


def test_pbx2_switchboard_pickup_hold_resume_and_transfer_on_real_calls(
        admin, queue, redis_conn, sip, engine_proc, connector, make_phone):
    from webapp.services import switchboard_actions as switchboard

    engine_proc.start()
    OPERATOR, TARGET = "+33100000107", "+33100000108"
    operator, caller = phones(admin, sip, make_phone, redis_conn, (OPERATOR, "operator", B_HZ),
                              (CALLER, "caller", CALLER_HZ))
    call = caller.dial(WELCOME)  # the queue's agents are away: the call waits with music
    wait(lambda: call.state == "confirmed", timeout=15, what="waiting")
    call_id = in_events(redis_conn, kinds=("call.arrived",))[0]["call"]
    # pick-up to the switchboard operator's line: it rings, answers, talks to the caller
    switchboard.send(redis_conn, 0, "call.pickup", call_id, line=OPERATOR)
    leg = answered(operator, "operator")
    wait(lambda: near(call.hears(0.6)[0], B_HZ), timeout=8, what="the operator's audio")
    assert near(call.hears(0.8)[0], B_HZ)
    switchboard.send(redis_conn, 0, "call.hold", call_id)
    wait(lambda: near(call.hears(0.6)[0], MUSIC_HZ, 5), timeout=8, what="hold music")
    switchboard.send(redis_conn, 0, "call.resume", call_id)
    wait(lambda: near(call.hears(0.6)[0], B_HZ), timeout=8, what="resumed")
    call.hangup()
    wait(lambda: leg.state == "disconnected", what="operator leg ends")
    assert [e["line"] for e in log_of(redis_conn) if e["type"] == "answered"] == [OPERATOR]
    # a waiting call transferred to another line reaches that phone
    (target,) = phones(admin, sip, make_phone, redis_conn, (TARGET, "target", A_HZ))
    second = caller.dial(WELCOME)
    wait(lambda: second.state == "confirmed", timeout=15, what="second call waits")
    second_id = in_events(redis_conn, kinds=("call.arrived",))[-1]["call"]
    switchboard.send(redis_conn, 0, "call.transfer", second_id, to=TARGET)
    ringing = answered(target, "transfer target")
    wait(lambda: near(second.hears(0.6)[0], A_HZ), timeout=8, what="the target's audio")
    assert near(second.hears(0.8)[0], A_HZ)
    assert [e["to"] for e in log_of(redis_conn) if e["type"] == "transferred"] == [TARGET]
    second.hangup()
    wait(lambda: ringing.state == "disconnected", what="target leg ends")


def test_pbx3_agent_in_a_direct_call_gets_no_offer_until_it_ends_and_rests(
        admin, queue, redis_conn, sip, engine_proc, connector, make_phone):
    import time

    queue.rest_s = 3
    queue.save()
    engine_proc.start()
    a, friend, caller = phones(admin, sip, make_phone, redis_conn, (A, "agent-a", A_HZ),
                               ("+33100000107", "friend", B_HZ), (CALLER, "caller", CALLER_HZ))
    direct = a.dial("+33100000107")
    answer = wait(lambda: friend.ringing(), what="friend rings")
    answer.answer(200)
    wait(lambda: any(e["line"] == A for e in in_events(redis_conn, kinds=("line.busy",))),
         what="line.busy")
    call = caller.dial(WELCOME)
    wait(lambda: call.state == "confirmed", timeout=15, what="queue call waits (music)")
    pump(2.0)  # the behaviour under test is an absence: no offer to A meanwhile
    assert not [c for c in a.calls if c.incoming]  # busy on the phone: not offered
    direct.hangup()
    wait(lambda: any(e["line"] == A for e in in_events(redis_conn, kinds=("line.idle",))),
         what="line.idle")
    idle_at = time.monotonic()
    leg = wait(lambda: a.ringing(), timeout=15, what="offer after the rest")
    assert time.monotonic() - idle_at >= 2.5  # rest_s = 3
    leg.hangup(486)
    call.hangup()
