"""Real Kamailio (`python -m pbx.sip`) and, for PBX-2.., the real connector and engine,
shared per module; phones are pjsua2 accounts in this process (tests/pbx/phones.py)."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import free_port
from tests.waiting import wait_until

ROOT = Path(__file__).parents[2]


def sip_ping(port: int, timeout: float = 15.0) -> None:
    """Wait until a SIP server answers OPTIONS on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)
        me = s.getsockname()[1]

        def answers() -> bool:
            msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{time.monotonic_ns()}\r\n"
                   f"From: <sip:ping@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1:{port}>\r\n"
                   f"Call-ID: ping{time.monotonic_ns()}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
                   "Content-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), ("127.0.0.1", port))
            return s.recv(4096).startswith(b"SIP/2.0 200")

        wait_until(answers, timeout, 0.1, f"no SIP server answers on 127.0.0.1:{port}",
                   ignoring=OSError)


class Sip:
    """Settings shared by Kamailio, the connector and the phones of one module."""

    def __init__(self) -> None:
        self.port = free_port()
        self.connector_port = free_port()
        self.rtp_port = 30000 + (os.getpid() % 200) * 100
        self.dir = Path(tempfile.mkdtemp(prefix="cm-sip-"))
        self.procs: list[subprocess.Popen] = []

    def env(self, redis_url: str, **extra: str) -> dict[str, str]:
        return {**os.environ, "REDIS_URL": redis_url, "SIP_PORT": str(self.port),
                "CONNECTOR_PORT": str(self.connector_port), "SIP_MIN_EXPIRES": "2",
                "RTP_PORT": str(self.rtp_port), "RTP_PORT_COUNT": "100",
                "SIP_RUN_DIR": str(self.dir / "kamailio"), "PYTHONUNBUFFERED": "1", **extra}

    def start_kamailio(self, redis_url: str) -> subprocess.Popen:
        with open(self.dir / "kamailio.log", "ab") as err:
            debug = os.environ.get("TEST_SIP_DEBUG", "2")  # 3: every SIP step in the log
            proc = subprocess.Popen(
                [sys.executable, "-m", "pbx.sip", "--no-sync", "--debug", debug], cwd=ROOT,
                env=self.env(redis_url), stdout=err, stderr=err)
        self.procs.append(proc)
        try:
            sip_ping(self.port)
        except RuntimeError:
            proc.kill()
            raise RuntimeError((self.dir / "kamailio.log").read_text()[-3000:]) from None
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


@pytest.fixture(scope="session", autouse=True)
def _pjsua_teardown():
    yield
    from tests.pbx.phones import shutdown

    shutdown()


@contextmanager
def kamailio(redis_url: str):
    """A Kamailio (`python -m pbx.sip`) on this Redis (or Redis Cluster) for a while."""
    s = Sip()
    try:
        s.start_kamailio(redis_url)
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def sip(redis_server):
    with kamailio(redis_server.url) as s:
        yield s


@pytest.fixture(scope="module")
def phones_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("phones")


@pytest.fixture
def make_phone(phones_dir):
    from tests.pbx.phones import Phone, pump

    made: list[Phone] = []

    def make(name: str, tone_hz: float = 1000.0) -> Phone:
        phone = Phone(name, tone_hz, phones_dir)
        made.append(phone)
        return phone

    yield make
    for phone in made:
        phone.close()
    pump(0.3)  # teardown: lets pjsua send the hang-ups; nothing is checked after it


def credentials(admin, service_id: int) -> tuple[str, str]:
    """Generate the line's Keyyo Phone credentials the way a manager does (DIR-4)."""
    token_page = admin.client.get("/compte").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', token_page).group(1)
    r = admin.client.post(f"/services/{service_id}/keyyo-phone",
                          data={"csrf_token": token, "confirm": "1"}, follow_redirects=True)
    assert r.status_code == 200, r.status_code
    page = html.unescape(r.get_data(as_text=True))
    login = re.search(r"<dt>Identifiant</dt><dd><code>([^<]+)</code>", page).group(1)
    secret = re.search(r'id="softphone-secret">([^<]+)<', page).group(1)
    return login, secret


def in_events(conn, shard: int = 0, kinds: tuple[str, ...] = ()) -> list[dict[str, str]]:
    out = []
    for _id, fields in conn.xrange(f"acd:{{{shard}}}:in"):
        e = {k.decode(): v.decode() for k, v in fields.items()}
        if not kinds or e.get("type") in kinds:
            out.append(e)
    return out


# --- PBX-2: the engine and the connector on the test's database ---------------------------

class Proc:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name, self.cmd, self.env, self.log = name, cmd, env, logdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Proc:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=out,
                                         stderr=out)
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


class Connector(Proc):
    def start(self) -> Connector:
        seen = self.text().count("answering welcome numbers") if self.log.exists() else 0
        super().start()

        def answering() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(self.text()[-3000:])
            return self.text().count("answering welcome numbers") > seen

        wait_until(answering, 15, message=lambda: self.text()[-3000:])
        return self


@pytest.fixture
def engine_proc(redis_url, database_url, sip, tmp_path, db_conn, demo):
    """`python -m engine` (wall clock) building its document from this test's database."""
    proc = Proc("engine", [sys.executable, "-m", "engine", "--redis-url", redis_url],
                {**sip.env(redis_url), "DATABASE_URL": database_url}, tmp_path)
    yield proc
    proc.stop()


@pytest.fixture
def connector(redis_url, database_url, sip, tmp_path):
    env = {**sip.env(redis_url), "DATABASE_URL": database_url,
           "SIP_RUN_DIR": str(tmp_path / "connector")}
    proc = Connector("connector", [sys.executable, "-m", "pbx"], env, tmp_path).start()
    yield proc
    proc.stop()
