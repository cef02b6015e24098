"""PBX-1: Keyyo Phone credentials register a real SIP phone on Kamailio (digest against the
HA1 the web app publishes in Redis), one device per line (a new device takes over),
regenerated credentials end the old registration at once and the old secret is refused;
registrations and their expiry reach the line's shard as line.registered/unregistered."""

from __future__ import annotations

from tests.pbx.conftest import credentials, in_events
from tests.pbx.phones import pump, wait

LINE = "+33100000102"


def registrations(conn, line: str = LINE) -> list[str]:
    return [e["type"] for e in in_events(conn, kinds=("line.registered", "line.unregistered"))
            if e["line"] == line]


def test_pbx1_generated_credentials_register_and_reach_the_shard(admin, ids, redis_conn, sip,
                                                                  make_phone):
    login, secret = credentials(admin, ids["fixed_lyon"])
    value = redis_conn.get(f"pbx:sip:user:{login}").decode()
    assert secret not in value and value.split("|")[1:] == [LINE, "0"]
    phone = make_phone("lucas").register(login, secret, sip.port)
    wait(lambda: phone.reg_code, what="REGISTER answer")
    assert phone.reg_code == 200 and phone.registered
    wait(lambda: registrations(redis_conn) == ["line.registered"], what="line.registered")
    # a wrong secret for the same login is refused
    intruder = make_phone("intruder").register(login, secret + "x", sip.port)
    wait(lambda: intruder.reg_code, what="REGISTER answer")
    assert intruder.reg_code == 403 and not intruder.registered
    # the phone unregisters: line.unregistered on the line's shard
    phone.unregister()
    wait(lambda: registrations(redis_conn)[-1:] == ["line.unregistered"],
         what="line.unregistered")


def test_pbx1_one_device_per_line_the_new_one_takes_over(admin, ids, redis_conn, sip,
                                                         make_phone):
    login, secret = credentials(admin, ids["fixed_lyon"])
    desk = make_phone("desk", 700).register(login, secret, sip.port)
    wait(lambda: desk.registered, what="desk registered")
    mobile = make_phone("mobile", 800).register(login, secret, sip.port)
    wait(lambda: mobile.registered, what="mobile registered")
    # another line calls: only the device that registered last rings
    caller_login, caller_secret = credentials(admin, ids["fixed_paris"])
    caller = make_phone("claire", 600).register(caller_login, caller_secret, sip.port)
    wait(lambda: caller.registered, what="caller registered")
    call = caller.dial(LINE)
    wait(lambda: mobile.ringing(), what="mobile rings")
    pump(0.5)  # the behaviour under test is an absence: the desk phone does not ring
    assert desk.ringing() is None
    call.hangup()
    wait(lambda: call.state == "disconnected", what="hang up")


def test_pbx1_regenerated_credentials_end_the_registration_and_refuse_the_old_secret(
        admin, ids, redis_conn, sip, make_phone):
    login, secret = credentials(admin, ids["fixed_lyon"])
    phone = make_phone("old").register(login, secret, sip.port, expires=30)
    wait(lambda: phone.registered, what="registered")
    wait(lambda: registrations(redis_conn) == ["line.registered"], what="line.registered")
    new_login, new_secret = credentials(admin, ids["fixed_lyon"])
    assert redis_conn.get(f"pbx:sip:user:{login}") is None
    # at once: Kamailio drops the registration and tells the shard
    wait(lambda: registrations(redis_conn)[-1:] == ["line.unregistered"], timeout=3,
         what="line.unregistered after regeneration")
    caller_login, caller_secret = credentials(admin, ids["fixed_paris"])
    caller = make_phone("caller").register(caller_login, caller_secret, sip.port)
    wait(lambda: caller.registered, what="caller registered")
    call = caller.dial(LINE)
    wait(lambda: call.state == "disconnected", what="call refused")
    assert call.code == 480 and phone.ringing() is None
    # the old phone's next REGISTER (old secret) is refused
    phone.setRegistration(True)
    wait(lambda: phone.reg_code == 403, what="403 for the old secret")
    # the new credentials work
    fresh = make_phone("fresh").register(new_login, new_secret, sip.port)
    wait(lambda: fresh.registered, what="new credentials registered")


def raw_register(port: int, login: str, secret: str, expires: int) -> int:
    """One REGISTER with digest from a bare UDP socket that then disappears (no refresh,
    no unregistration): what a phone that loses power does. Returns the final status."""
    import hashlib
    import re
    import socket
    import uuid

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(3)
        me, call_id = s.getsockname()[1], uuid.uuid4().hex
        uri = f"sip:127.0.0.1:{port}"

        def send(cseq: int, auth: str = "") -> str:
            s.sendto((f"REGISTER {uri} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP 127.0.0.1:{me};rport;branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                      f"From: <sip:gone@127.0.0.1>;tag=1\r\nTo: <sip:gone@127.0.0.1>\r\n"
                      f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nMax-Forwards: 5\r\n"
                      f"Contact: <sip:gone@127.0.0.1:{me}>\r\nExpires: {expires}\r\n{auth}"
                      "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
            while True:
                answer = s.recv(4096).decode()
                if not answer.startswith("SIP/2.0 1"):
                    return answer

        challenge = send(1)
        realm = re.search(r'realm="([^"]+)"', challenge).group(1)
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
        md5 = lambda t: hashlib.md5(t.encode()).hexdigest()  # noqa: E731, S324
        response = md5(f"{md5(f'{login}:{realm}:{secret}')}:{nonce}:{md5(f'REGISTER:{uri}')}")
        auth = (f'Authorization: Digest username="{login}", realm="{realm}", '
                f'nonce="{nonce}", uri="{uri}", response="{response}", algorithm=MD5\r\n')
        return int(send(2, auth).split()[1])


def test_pbx1_expiry_reaches_the_shard(admin, ids, redis_conn, sip):
    login, secret = credentials(admin, ids["fixed_lyon"])
    assert raw_register(sip.port, login, secret, expires=2) == 200
    wait(lambda: registrations(redis_conn) == ["line.registered"], what="line.registered")
    # nobody refreshes: the registration expires and the shard is told
    wait(lambda: registrations(redis_conn) == ["line.registered", "line.unregistered"],
         timeout=10, what="expiry")
