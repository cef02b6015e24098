"""PBX-3: phone-to-phone calls through Kamailio send line.busy / line.idle and one pbx:cdr
record per leg; the liste noire refuses blocked (and anonymous) callers at the proxy with a
`blocked` CDR; an agent in a direct call gets no queue offer until it ends and its rest is
over (Q-1, with the real engine and connector)."""

from __future__ import annotations

from tests.pbx.conftest import credentials, in_events
from tests.pbx.phones import wait

A, B = "+33100000101", "+33100000102"


def line_id(number: str) -> int:
    from webapp.models import Service

    return Service.get(Service.number == number).id


def cdrs(conn) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in f.items()} for _i, f in conn.xrange("pbx:cdr")]


def two_phones(admin, sip, make_phone, redis_conn):
    la, sa = credentials(admin, line_id(A))
    lb, sb = credentials(admin, line_id(B))
    a = make_phone("claire", 700).register(la, sa, sip.port)
    b = make_phone("lucas", 900).register(lb, sb, sip.port)
    wait(lambda: a.registered and b.registered, what="both registered")
    return a, b


def test_pbx3_direct_call_busy_idle_and_one_cdr_per_leg(admin, ids, redis_conn, sip,
                                                         make_phone):
    a, b = two_phones(admin, sip, make_phone, redis_conn)
    call = a.dial(B)
    ringing = wait(lambda: b.ringing(), what="B rings")
    ringing.answer(200)
    wait(lambda: call.state == "confirmed", what="connected")
    wait(lambda: len(in_events(redis_conn, kinds=("line.busy",))) == 2, what="line.busy")
    assert {e["line"] for e in in_events(redis_conn, kinds=("line.busy",))} == {A, B}
    hz_a = call.hears(1.0)[0]
    assert abs(hz_a - 900) < 8  # a real conversation: A hears B's phone
    call.hangup()
    wait(lambda: len(in_events(redis_conn, kinds=("line.idle",))) == 2, what="line.idle")
    legs = sorted((c["line"], c["direction"], c["peer"], c["status"]) for c in cdrs(redis_conn))
    assert legs == [(A, "out", B, "answered"), (B, "in", A, "answered")]
    for c in cdrs(redis_conn):
        assert int(c["started_ms"]) <= int(c["answered_ms"]) <= int(c["ended_ms"])
    # an unanswered call: one `missed` record per leg, no busy/idle
    call = a.dial(B)
    wait(lambda: b.ringing(), what="B rings again")
    call.hangup()
    wait(lambda: len(cdrs(redis_conn)) == 4, what="missed CDRs")
    assert sorted((c["line"], c["status"]) for c in cdrs(redis_conn)[2:]) == [
        (A, "missed"), (B, "missed")]
    assert len(in_events(redis_conn, kinds=("line.busy",))) == 2


def test_pbx3_liste_noire_refuses_blocked_and_anonymous_callers(admin, ids, redis_conn, sip,
                                                                make_phone, db_conn):
    from webapp.models import Service
    from webapp.models.history import BlockedNumber
    from webapp.services import blacklist

    a, b = two_phones(admin, sip, make_phone, redis_conn)
    lucas = Service.get(Service.number == B)
    BlockedNumber.create(service=lucas.id, number=A)
    assert blacklist.publish(lucas, "", conn=redis_conn)
    call = a.dial(B)
    wait(lambda: call.state == "disconnected", what="refused")
    assert call.code == 603 and b.ringing() is None
    assert [(c["line"], c["peer"], c["status"]) for c in cdrs(redis_conn)] == [(B, A, "blocked")]
    # anonymous callers, once blocked too
    BlockedNumber.delete().execute()
    BlockedNumber.create(service=lucas.id, number="anonymous")
    blacklist.publish(lucas, "", conn=redis_conn)
    hidden = a.dial(B, headers={"Privacy": "id"})
    wait(lambda: hidden.state == "disconnected", what="anonymous refused")
    assert hidden.code == 603
    assert [(c["peer"], c["status"]) for c in cdrs(redis_conn)][-1] == ("anonymous", "blocked")
    # A shows its number again: not blocked any more, B rings
    call = a.dial(B)
    wait(lambda: b.ringing(), what="B rings")
    call.hangup()
    wait(lambda: call.state == "disconnected", what="hung up")
