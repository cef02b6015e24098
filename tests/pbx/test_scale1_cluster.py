"""SCALE-1 on the SIP side: Kamailio reads the SIP directory and writes the lines'
events on a real 3-master Redis Cluster (ENGINE_REDIS_URL): ndb_redis follows MOVED
replies to the node of each key, so a Keyyo Phone registers and its line.registered /
line.unregistered reach the line's shard."""

from __future__ import annotations

import pytest

from engine.redis_client import connect
from tests.pbx.conftest import credentials, in_events, kamailio
from tests.pbx.phones import wait
from tests.servers import RedisClusterServer

LINE = "+33100000102"


@pytest.fixture(scope="module")
def cluster():
    with RedisClusterServer(masters=3) as found:
        yield found


@pytest.fixture(scope="module")
def sip_on_cluster(cluster):
    with kamailio(cluster.url) as s:
        yield s


@pytest.fixture
def app(cluster, database_url, redis_url, smtp, monkeypatch):
    """The web app configured with the cluster as its ENGINE_REDIS_URL: a new Keyyo Phone
    login is published where Kamailio reads (sessions stay on the plain REDIS_URL)."""
    from webapp.app import create_app

    monkeypatch.setenv("ENGINE_REDIS_URL", cluster.url)
    yield create_app({"TESTING": True})


def test_scale1_kamailio_registers_a_phone_through_a_redis_cluster(
        admin, ids, cluster, sip_on_cluster, make_phone):
    conn = connect(cluster.url)
    login, secret = credentials(admin, ids["fixed_lyon"])
    assert conn.get(f"pbx:sip:user:{login}").decode().split("|")[1:] == [LINE, "0"]
    phone = make_phone("lucas").register(login, secret, sip_on_cluster.port)
    wait(lambda: phone.reg_code, what="REGISTER answer")
    assert phone.reg_code == 200 and phone.registered

    def registrations() -> list[str]:
        return [e["type"] for e in in_events(conn, kinds=("line.registered",
                                                          "line.unregistered"))
                if e["line"] == LINE]

    wait(lambda: registrations() == ["line.registered"], what="line.registered")
    phone.unregister()
    wait(lambda: registrations()[-1:] == ["line.unregistered"], what="line.unregistered")
