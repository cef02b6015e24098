"""Concurrent welcome-number calls the pjsua2 connector holds with hold music playing (PBX-2),
next to what the simulator costs for the same number of calls in progress.

    .venv/bin/python -m bench.pbx [--calls 10,25,50] [--seconds 10]

Real Kamailio (`python -m pbx.sip`) and connector (`python -m pbx`) on loopback; the callers
are pjsua2 calls from this process (G.711). This script plays the engine's part for these
calls only (every `call.arrived` gets `play default`: the generated hold music, looping),
so that the figure is the connector's alone. For each level: the connector's CPU (% of one
core, from /proc over the window), RTP packets the callers received and lost (their RTCP
receive statistics), against the 50 packets/s/call a 20 ms G.711 stream carries. The
simulator's figure: `python -m engine.simulator` driven by a real engine for the same window,
with its CPU per call in progress. Load average printed with the figures (shared machine).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WELCOME = "+33100000001"
HZ = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", default="1,2,4")
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    levels = [int(x) for x in args.calls.split(",")]

    import redis

    from tests.pbx.conftest import Sip
    from tests.pbx.phones import Phone, pump, shutdown, wait
    from tests.servers import RedisServer
    from tests.waiting import wait_until

    tmp = Path(tempfile.mkdtemp(prefix="cm-bench-pbx-"))
    with RedisServer() as rs:
        conn = redis.Redis.from_url(rs.url)
        sip = Sip()
        sip.rtp_port, env_extra = 42000, {"RTP_PORT_COUNT": "400",
                                          "DATABASE_URL": f"sqlite:///{tmp / 'none.db'}"}
        sip.start_kamailio(rs.url)
        login, secret, realm = "kpbench", "bench-secret", "communications-manager"
        ha1 = hashlib.md5(f"{login}:{realm}:{secret}".encode()).hexdigest()  # noqa: S324
        conn.set(f"pbx:sip:user:{login}", f"{ha1}|+33100000199|0")
        conn.set(f"pbx:sip:number:{WELCOME}", "welcome|0")
        env = {**sip.env(rs.url), **env_extra, "SIP_RUN_DIR": str(tmp / "connector")}
        with open(tmp / "connector.log", "ab") as out:
            connector = subprocess.Popen([sys.executable, "-m", "pbx"], cwd=ROOT, env=env,
                                         stdout=out, stderr=out)
        log = tmp / "connector.log"

        def answering() -> bool:
            assert connector.poll() is None, log.read_text()[-2000:]
            return "answering" in log.read_text()

        wait_until(answering, 20, 0.1, lambda: log.read_text()[-2000:])
        phone = Phone("bench", 600, tmp).register(login, secret, sip.port)
        wait(lambda: phone.registered, what="registered")
        seen = "0"

        def engine_part() -> None:
            nonlocal seen
            for _s, entries in conn.xread({"acd:{0}:in": seen}, count=500) or []:
                for eid, f in entries:
                    seen = eid
                    if f.get(b"type") == b"call.arrived":
                        conn.xadd("acd:{0}:out", {"type": "play", "ts": "0",
                                                  "call": f[b"call"].decode(),
                                                  "media": "default"})

        rows = []
        try:
            for n in levels:
                calls = [phone.dial(WELCOME) for _ in range(n)]
                end = time.monotonic() + 60
                while time.monotonic() < end and not all(c.media_up for c in calls):
                    engine_part()
                    pump(0.02)
                up = sum(c.media_up for c in calls)
                pump(1.0)
                base = {id(c): c.getStreamStat(0).rtcp.rxStat for c in calls if c.media_up}
                b_pkt = {k: v.pkt for k, v in base.items()}
                b_loss = {k: v.loss for k, v in base.items()}
                c0, t0 = cpu_s(connector.pid), time.monotonic()
                pump(args.seconds)
                c1, t1 = cpu_s(connector.pid), time.monotonic()
                pkt = loss = 0
                for c in calls:
                    if c.media_up:
                        st = c.getStreamStat(0).rtcp.rxStat
                        pkt += st.pkt - b_pkt[id(c)]
                        loss += st.loss - b_loss[id(c)]
                expected = up * 50 * (t1 - t0)
                rows.append((n, up, 100 * (c1 - c0) / (t1 - t0), pkt, loss, expected))
                for c in calls:
                    c.hangup()
                pump(2.0)
                engine_part()
        finally:
            load = os.getloadavg()
            phone.close()
            shutdown()
            connector.terminate()
            connector.wait(20)
            sip.stop()

        sim = simulator_figure(rs.url, args.seconds)

    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print("calls  up   connector CPU   RTP rx pkt (expected)   lost   loss %")
    for n, up, cpu, pkt, loss, expected in rows:
        print(f"{n:5d} {up:4d}   {cpu:8.1f} %    {pkt:8d} ({expected:8.0f})   {loss:5d}   "
              f"{100 * loss / max(1, pkt + loss):5.2f}  ({cpu / max(1, up):.2f} % CPU/call)")
    calls, cpu = sim
    print(f"simulator: {calls:.1f} calls in progress on average, {cpu:.1f} % CPU "
          f"({cpu / max(1.0, calls):.3f} % CPU/call, no media)")


def simulator_figure(redis_url: str, seconds: float) -> tuple[float, float]:
    """The simulator and a real engine (demo document), high arrival rate; CPU of the
    simulator over the window and the mean number of its calls in progress."""
    import redis

    conn = redis.Redis.from_url(redis_url)
    conn.flushall()
    cfg = str(ROOT / "engine" / "demo_config.json")
    engine = subprocess.Popen([sys.executable, "-m", "engine", "--redis-url", redis_url,
                               "--config", cfg], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    sim = subprocess.Popen([sys.executable, "-m", "engine.simulator", "--redis-url", redis_url,
                            "--config", cfg, "--rate", "120", "--talk", "20",
                            "--duration", str(seconds + 6)], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(5)  # a warm-up: the simulator reaches its steady load before sampling
        c0, t0 = cpu_s(sim.pid), time.monotonic()
        samples = []
        while time.monotonic() - t0 < seconds:
            arrived = sum(1 for _i, f in conn.xrange("acd:{0}:in")
                          if f.get(b"type") == b"call.arrived")
            ended = sum(1 for _i, f in conn.xrange("acd:{0}:log")
                        if f.get(b"type") in (b"abandoned", b"rejected", b"completed",
                                              b"forwarded", b"closed", b"transferred"))
            samples.append(max(0, arrived - ended))
            time.sleep(1)  # one sample a second: the measurement's pace
        c1, t1 = cpu_s(sim.pid), time.monotonic()
    finally:
        sim.terminate()
        engine.terminate()
        sim.wait(10)
        engine.wait(10)
    return sum(samples) / max(1, len(samples)), 100 * (c1 - c0) / (t1 - t0)


if __name__ == "__main__":
    main()
