"""SCALE-1 on a real 3-master Redis Cluster: accounts on two shards, one engine each."""

from __future__ import annotations

from collections import Counter

from engine.codec import agent_from_dict, loads
from tests.scale.conftest import (
    PASSWORD,
    caught_up,
    entries,
    make_account,
    send,
)
from tests.waiting import wait_until

OUT0, OUT1, LOG1 = "acd:{0}:out", "acd:{1}:out", "acd:{1}:log"


def of_type(conn, stream: str, kind: str, **match) -> list[dict[str, str]]:
    return [e for e in entries(conn, stream) if e["type"] == kind
            and all(e.get(k) == v for k, v in match.items())]


def test_scale1_accounts_get_a_stable_shard_and_engines_build_only_theirs(app, db_conn):
    from engine.config import parse
    from webapp.models import Account
    from webapp.services.engine_config import build_document

    a, wa, la, _ = make_account("Alpha", "+33140000")
    b, wb, lb, _ = make_account("Beta", "+33150000")
    c, *_ = make_account("Gamma", "+33160000")
    assert (a.shard, b.shard, c.shard) == (0, 1, 0)  # spread over ENGINE_SHARDS=2
    assert Account.get_by_id(a.id).shard == 0
    doc0, doc1 = build_document(shard=0), build_document(shard=1)
    assert wa.number in doc0["numbers"] and wb.number not in doc0["numbers"]
    assert set(doc1["numbers"]) == {wb.number}
    assert set(doc1["lines"]) == {s.number for s in lb}
    assert la[0].number in doc0["lines"] and la[0].number not in doc1["lines"]
    parse(doc0), parse(doc1)


def test_scale1_two_shards_on_a_redis_cluster_edits_kill9_and_recovery(
        app, db_conn, browser, cluster_conn, engines):
    conn = cluster_conn
    a, wa, (a1, a2), a_admin = make_account("Alpha", "+33140000", agents=2)
    b, wb, (b1,), _ = make_account("Beta", "+33150000", agents=1)
    assert (a.shard, b.shard) == (0, 1)
    engines.start(0)
    engines.start(1)
    for shard, line in ((0, a1.number), (0, a2.number), (1, b1.number)):
        send(conn, shard, type="line.registered", line=line)
    wait_until(lambda: caught_up(conn, 0) and caught_up(conn, 1), message="engines start")

    # A and B take calls at once
    send(conn, 0, type="call.arrived", call="A-1", number=wa.number, caller="+33611111111")
    send(conn, 1, type="call.arrived", call="B-1", number=wb.number, caller="+33622222222")
    send(conn, 1, type="call.arrived", call="B-2", number=wb.number, caller="+33633333333")
    ring_a = wait_until(lambda: of_type(conn, OUT0, "ring", call="A-1"), message="A-1 rings")
    wait_until(lambda: of_type(conn, OUT1, "ring", call="B-1"), message="B-1 rings")
    wait_until(lambda: caught_up(conn, 1), message="B-2 waits")
    assert not of_type(conn, OUT1, "ring", call="B-2")  # B's only agent rings for B-1
    a_lines = {a1.number, a2.number}
    assert ring_a[0]["line"] in a_lines
    assert {e.get("line") for e in entries(conn, OUT1) if e.get("line")} == {b1.number}
    assert {e.get("line") for e in entries(conn, OUT0) if e.get("line")} <= a_lines

    # A's administrator edits A's line in the browser: only shard 0 hears of it
    browser.sign_in(a_admin, PASSWORD)
    other = a2 if ring_a[0]["line"] == a1.number else a1
    r = browser.post(f"/services/{other.id}/ligne/file-accueil", {"backup_number": ""},
                     token_from=f"/services/{other.id}/ligne")
    assert r.status_code == 303
    assert [e["type"] for e in entries(conn, "acd:{0}:in")].count("config.reload") == 1
    assert "config.reload" not in [e["type"] for e in entries(conn, "acd:{1}:in")]

    # kill -9 of engine 1 while B has a call ringing and one waiting
    engines.kill9(1)
    send(conn, 1, type="call.answered", call="B-1", line=b1.number)  # nobody reads it yet
    # A's calls are untouched: A-1 is answered, a new call rings the line still accepting
    ringing_line = ring_a[0]["line"]
    send(conn, 0, type="call.answered", call="A-1", line=ringing_line)
    wait_until(lambda: of_type(conn, OUT0, "bridge", call="A-1"), message="A-1 bridged")
    send(conn, 0, type="call.ended", call="A-1", by="caller")
    send(conn, 0, type="call.arrived", call="A-2", number=wa.number, caller="+33644444444")
    ring_a2 = wait_until(lambda: of_type(conn, OUT0, "ring", call="A-2"), message="A-2 rings")
    assert ring_a2[0]["line"] == ringing_line  # the edited line no longer takes queue calls
    assert not of_type(conn, OUT1, "bridge")  # shard 1 is really down

    # engine 1 comes back: B's calls recover, nothing lost, nothing twice
    engines.start(1)
    wait_until(lambda: of_type(conn, OUT1, "bridge", call="B-1"), message="B-1 bridged")
    send(conn, 1, type="call.ended", call="B-1", by="agent")
    wait_until(lambda: of_type(conn, OUT1, "ring", call="B-2"), message="B-2 offered after B-1")
    send(conn, 1, type="call.answered", call="B-2", line=b1.number)
    send(conn, 1, type="call.ended", call="B-2", by="caller")
    wait_until(lambda: caught_up(conn, 1), message="shard 1 drained")
    outcomes = Counter((e["type"], e["call"]) for e in entries(conn, LOG1)
                       if e["type"] in ("answered", "completed", "abandoned"))
    assert outcomes == Counter({("answered", "B-1"): 1, ("completed", "B-1"): 1,
                                ("answered", "B-2"): 1, ("completed", "B-2"): 1})
    assert [e["call"] for e in of_type(conn, OUT1, "bridge")] == ["B-1", "B-2"]

    # statistics: the calllog worker reads every shard's log off the cluster
    from webapp.models import CallLogEntry
    from worker.calllog import CallLog, handlers

    wait_until(lambda: caught_up(conn, 0), message="shard 0 drained")
    CallLog(conn, handlers(2)).work(burst=True)
    by_account = Counter((r.account_id, r.shard) for r in CallLogEntry.select()
                         if r.type == "answered")
    assert by_account == Counter({(a.id, 0): 1, (b.id, 1): 2})


def test_scale1_shard_move_drains_moves_and_reloads_both(app, db_conn, cluster_conn,
                                                          engines):
    from webapp.models import Account, AuditEvent

    conn = cluster_conn
    a, *_ = make_account("Alpha", "+33140000", agents=1)
    b, wb, (b1,), _ = make_account("Beta", "+33150000", agents=1)
    engines.start(0)
    engines.start(1)
    send(conn, 1, type="line.registered", line=b1.number)
    send(conn, 1, type="call.arrived", call="B-1", number=wb.number, caller="+33622222222")
    wait_until(lambda: of_type(conn, OUT1, "ring", call="B-1"), message="B-1 rings")
    wait_until(lambda: conn.hget("acd:{1}:state", wb.number), message="B's snapshot")
    runner = app.test_cli_runner()
    # a call is live on shard 1: the move waits for it, then gives up, nothing moved
    result = runner.invoke(args=["shard-move", str(b.id), "0", "--timeout", "0.3"])
    assert result.exit_code != 0 and "still live" in result.output
    assert Account.get_by_id(b.id).shard == 1
    send(conn, 1, type="call.ended", call="B-1", by="caller")
    wait_until(lambda: '"ringing": []' in (conn.hget("acd:{1}:state", wb.number) or b"").decode()
               or b'"ringing":[]' in (conn.hget("acd:{1}:state", wb.number) or b""),
               message="B-1 gone from the snapshot")
    # B's line is in an outside call and on a break when the account moves
    send(conn, 1, type="line.busy", line=b1.number)
    send(conn, 1, type="line.paused", line=b1.number, reason="dejeuner")
    wait_until(lambda: caught_up(conn, 1), message="busy and paused on shard 1")
    result = runner.invoke(args=["shard-move", str(b.id), "0"])
    assert result.exit_code == 0, result.output
    assert Account.get_by_id(b.id).shard == 0
    assert AuditEvent.select().where(AuditEvent.kind == "account.shard_moved").count() == 1
    wait_until(lambda: caught_up(conn, 0) and caught_up(conn, 1), message="both reloaded")
    # the PBX side now sends B's events to shard 0 (the SIP directory says so)
    assert conn.get(f"pbx:sip:number:{wb.number}") == b"welcome|0"
    assert conn.get(f"pbx:sip:number:{b1.number}") == b"line|0"
    # shard 0 holds B's line as it was: registered, in its outside call, on its break
    target = agent_from_dict(loads(conn.hget("acd:{0}:agents", b1.number)))
    assert (target.registered, target.external, target.paused) == (True, 1, "dejeuner")
    assert of_type(conn, "acd:{0}:log", "line.paused", line=b1.number, reason="dejeuner")
    # shard 1's record of the line is blank, its break ended there (break statistics)
    source = agent_from_dict(loads(conn.hget("acd:{1}:agents", b1.number)))
    assert (source.registered, source.external, source.paused) == (False, 0, None)
    assert of_type(conn, LOG1, "line.unpaused", line=b1.number)
    # shard 0's engine answers B's number: the line is offered nothing while busy and
    # paused, then rings once both end
    send(conn, 0, type="call.arrived", call="B-2", number=wb.number, caller="+33633333333")
    wait_until(lambda: caught_up(conn, 0), message="B-2 waits")
    assert not of_type(conn, OUT0, "ring", call="B-2")
    send(conn, 0, type="line.idle", line=b1.number)
    send(conn, 0, type="line.unpaused", line=b1.number)
    ring = wait_until(lambda: of_type(conn, OUT0, "ring", call="B-2"), message="B-2 on shard 0")
    assert ring[0]["line"] == b1.number
    # shard 1 no longer knows B's number: a stray arrival there is not distributed
    send(conn, 1, type="call.arrived", call="B-3", number=wb.number, caller="+33633333333")
    wait_until(lambda: caught_up(conn, 1), message="stray arrival")
    assert not of_type(conn, OUT1, "ring", call="B-3")
