"""PBX-4: the README's steps with a scripted phone, and one-line errors when Kamailio or
the connector cannot start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.pbx.conftest import ROOT, credentials, in_events
from tests.pbx.phones import wait


def test_pbx4_readme_steps_register_a_phone_and_call_the_welcome_number(
        admin, ids, redis_conn, sip, engine_proc, connector, make_phone):
    from webapp.models import Service

    engine_proc.start()
    # 1. the manager generates the credentials of line 01 00 00 01 05 in the app
    line = Service.get(Service.number == "+33100000105")
    login, secret = credentials(admin, line.id)
    assert login.startswith("kp33100000105-")
    # 2. the softphone registers with them on 127.0.0.1:SIP_PORT
    phone = make_phone("softphone", 523).register(login, secret, sip.port)
    wait(lambda: phone.registered, what="registered")
    wait(lambda: any(e["line"] == line.number
                     for e in in_events(redis_conn, kinds=("line.registered",))),
         what="line.registered")
    # 3. it dials the welcome number the national way: queue or closed announcement,
    # either way the connector answers it
    call = phone.dial("0100000001")
    wait(lambda: call.state in ("confirmed", "disconnected"), timeout=15, what="answered")
    assert call.code == 200
    arrived = in_events(redis_conn, kinds=("call.arrived",))
    assert [(e["number"], e["caller"]) for e in arrived] == [("+33100000001", line.number)]
    call.hangup()


def _run(module: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *(["--no-sync"] if module == "pbx.sip"
                                                            else [])],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_pbx4_one_line_errors_when_a_port_is_taken(redis_server, sip, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        env = {**sip.env(redis_server.url), "SIP_RUN_DIR": str(tmp_path / "k")}
        r = _run("pbx.sip", {**env, "SIP_PORT": str(port)})
        assert r.returncode == 1
        assert r.stderr.strip() == (f"sip: cannot listen on 127.0.0.1:{port}/udp (Address "
                                    "already in use); another SIP server runs there? set "
                                    "SIP_PORT")
        r = _run("pbx", {**env, "CONNECTOR_PORT": str(port)})
        assert r.returncode == 1
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith(f"connector: cannot listen on 127.0.0.1:{port}/udp ("), last
        assert last.endswith("set CONNECTOR_PORT"), last


def test_pbx4_one_line_error_when_a_kamailio_module_is_missing(redis_server, sip, tmp_path):
    from pbx import sip as sip_module

    fake = tmp_path / "modules"
    fake.mkdir()
    for name in ("tm.so",):
        (fake / name).write_bytes(b"")
    env = {**os.environ, "SIP_RUN_DIR": str(tmp_path / "k")}
    original = sip_module.MODULE_DIRS
    sip_module.MODULE_DIRS = (str(fake),)
    try:
        from pbx.settings import load

        try:
            sip_module.render(load(), tmp_path)
        except sip_module.StartError as exc:
            message = str(exc)
    finally:
        sip_module.MODULE_DIRS = original
    assert message == "sip: Kamailio module kex.so is missing (apt-get install kamailio)"
    assert env
