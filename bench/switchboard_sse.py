"""The switchboard in a real browser (SWB-1 "within 1 s, little traffic"): engine event →
DOM change latency in Chromium, and the bytes per minute the page receives idle and busy.

    .venv/bin/python -m bench.switchboard_sse [--seconds 60] [--rate 6] [--probes 30]

Runs the Procfile's `web` line (gunicorn, gevent) on the demo company (throw-away SQLite,
Redis, SMTP sink), the engine and the call log writer; the demo administrator signs in
(password, e-mailed code) and Debian's Chromium (Playwright) opens /standard.

- idle: no calls, agents offline (nothing changes) for `--seconds`;
- busy: the simulator (`--rate` calls per minute, default 6 like a busy reception desk;
  agents answer in 1–6 s, talk ~45 s) for `--seconds`;
- latency: with the simulator still running, `--probes` callers arrive then hang up, one
  at a time (`call.arrived` / `call.ended` written to `acd:{0}:in`); each is timed from
  the moment the event is written to the moment the page's DOM gains (or loses) the call's
  card, seen by a MutationObserver in the page (same machine, same clock).

Bytes are what Chromium received on the event stream (DevTools `Network.dataReceived`): on
the wire (gzip-encoded, with HTTP chunk framing) and decoded (the events' text). Target:
busy ≤ 300 B/s on the wire. The machine is shared: the load average is printed with the
figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from bench.pages import demo_site, procfile_web, sign_in, start
from tests.servers import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[1]
WELCOME = "+33100000001"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-dev-shm-usage"]

# In the page: when did a card with data-call=X appear in / leave the DOM (epoch ms)?
OBSERVER = """() => {
  window.seen = {};
  const note = (node, what) => {
    if (node.nodeType !== 1) { return; }
    const cards = node.matches('[data-call]') ? [node] : node.querySelectorAll('[data-call]');
    cards.forEach(c => { const k = c.dataset.call + what;
                         if (!(k in window.seen)) { window.seen[k] = performance.timeOrigin
                                                                     + performance.now(); } });
  };
  new MutationObserver(records => records.forEach(r => {
    r.addedNodes.forEach(n => note(n, ':in'));
    r.removedNodes.forEach(n => note(n, ':out'));
  })).observe(document.getElementById('sb-live'), {childList: true, subtree: true});
}"""


class StreamBytes:
    """Bytes Chromium received on /standard/flux, from DevTools network events."""

    def __init__(self, page) -> None:
        self.ids: set[str] = set()
        self.body = self.wire = 0
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.dataReceived", self._data)
        cdp.send("Network.enable")
        self.cdp = cdp

    def _request(self, e) -> None:
        if "/standard/flux" in e["request"]["url"]:
            self.ids.add(e["requestId"])

    def _data(self, e) -> None:
        if e["requestId"] in self.ids:
            self.body += e["dataLength"]
            self.wire += e["encodedDataLength"]

    def take(self) -> tuple[int, int]:
        got = (self.body, self.wire)
        self.body = self.wire = 0
        return got


def measure_bytes(page, counter: StreamBytes, seconds: float) -> tuple[int, int]:
    counter.take()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        page.wait_for_timeout(500)  # lets Playwright deliver the DevTools events meanwhile
    return counter.take()


def probe(page, conn, n: int) -> tuple[list[float], int]:
    """Latencies (ms) of `n` arrivals and `n` hang-ups, and how many were not seen."""
    lags, missed = [], 0
    for i in range(n):
        call = f"probe-{i}"
        for event, what in (("call.arrived", ":in"), ("call.ended", ":out")):
            fields = {"type": event, "call": call, "ts": str(int(time.time() * 1000))}
            fields.update({"number": WELCOME, "caller": f"+336123456{i:02d}"}
                          if event == "call.arrived" else {"by": "caller"})
            sent = time.time() * 1000
            conn.xadd("acd:{0}:in", fields)
            try:
                page.wait_for_function("k => window.seen[k] !== undefined", arg=call + what,
                                       timeout=5000, polling=50)
            except PlaywrightTimeout:  # a full queue refuses the probe: counted apart
                missed += 1
                break
            lags.append(page.evaluate("k => window.seen[k]", call + what) - sent)
        page.wait_for_timeout(300)
    return lags, missed


def stop(procs: list[subprocess.Popen]) -> None:
    """The newest process first (the simulator before the engine it talks to)."""
    while procs:
        proc = procs.pop()
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=6.0)
    ap.add_argument("--probes", type=int, default=30)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cm-bench-sse-"))
    procs: list[subprocess.Popen] = []
    with RedisServer() as redis_server:
        env, admin, sink = demo_site(tmp, redis_server.url, PYTHONUNBUFFERED="1")
        try:
            from webapp.services.demo import DEMO_PASSWORD

            port = free_port()
            procs.append(start(procfile_web(port), env, port, tmp / "web.log"))
            for module in (["engine", "--redis-url", redis_server.url], ["worker.calllog"]):
                procs.append(subprocess.Popen([sys.executable, "-m", *module], cwd=ROOT,
                                              env=env, stdout=subprocess.DEVNULL,
                                              stderr=open(tmp / "procs.log", "ab")))  # noqa: SIM115
            base = f"http://127.0.0.1:{port}"
            cookie = sign_in(base, admin, DEMO_PASSWORD, redis_server.url, tmp / "mail")
            import redis

            conn = redis.Redis.from_url(redis_server.url)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
                context = browser.new_context(locale="fr-FR",
                                              viewport={"width": 1280, "height": 800})
                context.add_cookies([{"name": k, "value": v, "url": base} for k, v in
                                     (c.split("=", 1) for c in cookie.split("; "))])
                page = context.new_page()
                counter = StreamBytes(page)
                page.goto(base + "/standard")
                page.locator("#sb-link[data-state=open]").wait_for(timeout=30000)
                page.evaluate(OBSERVER)
                print(f"--seconds {args.seconds:.0f} --rate {args.rate} --probes {args.probes}; "
                      f"Procfile web (gunicorn gevent), engine, calllog, Chromium 1280×800")
                results = {}
                for phase in ("idle", "busy"):
                    if phase == "busy":
                        procs.append(subprocess.Popen(
                            [sys.executable, "-m", "engine.simulator", "--redis-url",
                             redis_server.url, "--rate", str(args.rate), "--seed", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL))
                        page.locator(".sb-agent[data-state=available]").first.wait_for(
                            timeout=30000)
                    load = os.getloadavg()[0]
                    body, wire = measure_bytes(page, counter, args.seconds)
                    results[phase] = wire
                    print(f"{phase}: on the wire {wire * 60 / args.seconds:.0f} B/min "
                          f"({wire / args.seconds:.1f} B/s, gzip and chunk framing); events "
                          f"decoded {body * 60 / args.seconds:.0f} B/min "
                          f"({body / args.seconds:.1f} B/s); load average {load:.2f}")
                load = os.getloadavg()[0]
                lags, missed = probe(page, conn, args.probes)
                if lags:
                    ordered = sorted(lags)
                    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
                    print(f"latency engine event → DOM change ({len(lags)} changes, {missed} "
                          f"probes refused): median {statistics.median(lags):.0f} ms, "
                          f"p95 {p95:.0f} ms, max {max(lags):.0f} ms; load average {load:.2f}")
                busy_bs = results["busy"] / args.seconds
                print(f"busy on the wire {busy_bs:.1f} B/s: "
                      f"{'ok' if busy_bs <= 300 else 'MISSED'} (target ≤ 300 B/s)")
                browser.close()
        finally:
            stop(procs)
            sink.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
