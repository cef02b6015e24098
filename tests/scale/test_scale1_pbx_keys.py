"""SCALE-1: what the PBX side reads and writes next to the engine's keys works on a real
Redis Cluster (ENGINE_REDIS_URL): the liste noire, the SIP directory (a new Keyyo Phone
login, the rebuild at start), and the simulator reading them through the
cluster-capable client."""

from __future__ import annotations

from engine.config import parse
from engine.redis_client import connect
from engine.simulator import Simulator
from tests.scale.conftest import make_account


def test_scale1_blacklist_sip_directory_and_cdr_keys_on_a_redis_cluster(
        app, db_conn, redis_cluster, cluster_conn, redis_url, monkeypatch):
    from webapp.services import blacklist, sip_directory, softphone
    from webapp.services.actor import Actor

    monkeypatch.setenv("ENGINE_REDIS_URL", redis_cluster.url)  # where the PBX side reads
    conn = cluster_conn
    account, welcome, (line, other), email = make_account("Alpha", "+33140000", agents=2)
    actor = Actor(None, "127.0.0.1", redis_url, 0, engine_redis_url=redis_cluster.url)
    # the liste noire goes where the PBX side reads it: the engine's Redis (a cluster)
    blacklist.add_number(line, "+33612345678", actor)
    blacklist.set_anonymous(line, True, actor)
    assert set(conn.hkeys(f"pbx:blacklist:{line.number}")) == {b"+33612345678", b"anonymous"}
    sim = Simulator(connect(redis_cluster.url), parse({"timezone": "Europe/Paris",
                                                       "lines": {}, "numbers": {}}))
    assert sim.is_blocked(line.number, "+33612345678") and sim.is_blocked(line.number, "")
    assert not sim.is_blocked(other.number, "+33612345678")
    # a new Keyyo Phone login: its keys live on several nodes (no cross-slot MULTI)
    first = softphone.generate(line, actor=actor)
    second = softphone.generate(line, actor=actor)
    user_keys = {k.decode() for k in conn.scan_iter(match="pbx:sip:user:*", count=1000)}
    assert user_keys == {f"pbx:sip:user:{second.login}"}, first.login
    assert conn.get(f"pbx:sip:number:{line.number}") == b"line|0"
    assert conn.lrange("pbx:sip:ctl", 0, -1) == [f"kick {line.number} 0".encode()]
    # the rebuild at start: stale logins go, one key at a time
    conn.set("pbx:sip:user:stale-login", "x|+33140000101|0")
    logins, numbers = sip_directory.sync_all(conn)
    assert (logins, numbers) == (1, 3) and not conn.exists("pbx:sip:user:stale-login")
    assert conn.get(f"pbx:sip:number:{welcome.number}") == b"welcome|0"
    # a flushed liste noire is repaired from the database, on the cluster
    conn.delete(f"pbx:blacklist:{line.number}")
    assert blacklist.sync_all(conn) == 1
    assert conn.hexists(f"pbx:blacklist:{line.number}", "anonymous")
