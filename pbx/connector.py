"""`python -m pbx`: the media connector (PBX-2), a pjsua2 back-to-back user agent.

Kamailio sends it every call to a welcome number. For each one it sends `call.arrived`
to the number's shard and then executes the engine's commands (docs/protocol.md) read from
`acd:{N}:out` through its own consumer group `pbx`:

- `play`: answers the caller if needed and plays the media (the audio library file of
  WN-5 for `audio-<id>`, the generated platform default for `default`) — music loops,
  announcements play once, in order;
- `ring`: an INVITE to the line through Kamailio (`timeout_s`); answered → `call.answered`;
  with `confirm`=1 the agent hears `callee_media` (or a generic prompt) and the key it
  presses (RFC 4733) is sent as `call.key`; a failure → `call.ring_failed` (`busy` for
  486/600, `declined` for 603 or an agent hanging up while confirming, else `unreachable`);
- `stop_ring`, `bridge` (caller and agent hear each other, the music stops), `forward` and
  `transfer` (a new leg to the number, bridged when answered), `reject_busy` (486 before
  answer), `hangup` (after the announcements queued before it), `hold` / `resume`;
- `call.ended` with `by` = caller / agent / network when the call is over; one `pbx:cdr`
  record per agent leg on a line.

Everything runs in one thread: pjsua2 with `threadCnt = 0` and `mainThreadOnly`, one loop
that pumps `libHandleEvents` and reads Redis without blocking. Python objects of calls
are kept until the library is done with them. Live calls are listed in Redis
(`pbx:connector:calls`): after a crash, the next start reports each as `call.ended`
(`network`) and asks Kamailio to end its legs (`pbx:sip:ctl`), so that no call is left
without an outcome and no phone keeps ringing.

The connector is three seams: the SIP user agent (`pbx/sipua.py`: endpoint, account,
legs), what it plays (`pbx/media.py`) and its Redis side (`pbx/bridge.py`: events,
commands, CDRs, recovery); this module holds the calls' logic that joins them, and
`pbx/__main__.py` the process.
"""

from __future__ import annotations

import gc
import logging
import re
import time
import uuid
from collections import deque
from pathlib import Path

import pjsua2 as pj
import redis

from pbx.bridge import GROUP, LIVE, StreamBridge
from pbx.media import Media, Playback
from pbx.settings import PbxSettings
from pbx.sipua import Account, Leg, QCall, _header, _user, account_config, open_endpoint

log = logging.getLogger("connector")


class Connector(StreamBridge, Playback):
    """Calls to welcome numbers: the engine's commands carried out on SIP legs."""

    def __init__(self, settings: PbxSettings, conn: redis.Redis, shards: list[int],
                 consumer: str = "connector") -> None:
        self.s, self.r, self.shards, self.consumer = settings, conn, shards, consumer
        self.calls: dict[str, QCall] = {}
        self.keep: deque[tuple[float, object]] = deque()  # objects pjsua2 may still call
        self.running = True
        self.run_dir = Path(settings.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.media = Media(self.run_dir)
        self.ep: pj.Endpoint | None = None
        self.acc: Account | None = None
        self.stats = {"calls": 0}
        self.next_sync = 0.0


    # ---- start / stop ---------------------------------------------------------------------
    def start(self) -> None:
        self.ep = open_endpoint(self.s)
        self.acc = Account(self)
        self.acc.create(account_config(self.s), True)
        for shard in self.shards:
            try:
                self.r.xgroup_create(f"acd:{{{shard}}}:out", GROUP, id="$", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self.sync_directory()
        self.recover()


    def stop(self) -> None:
        """SIGTERM: hang up everything, report, then destroy the library."""
        for q in list(self.calls.values()):
            self.end(q, "network")
        end = time.monotonic() + 2
        while time.monotonic() < end and any(
                not leg.gone for q in self.calls.values() for leg in self._legs(q)):
            self.ep.libHandleEvents(20)
        self.ep.libHandleEvents(100)
        self.calls.clear()
        self.keep.clear()
        if self.acc is not None:
            self.acc.shutdown()

        gc.collect()  # every Call object goes before the library does
        self.ep.libHandleEvents(50)
        self.ep.libDestroy()


    # ---- main loop ----------------------------------------------------------------------
    def tick(self) -> None:
        now = time.monotonic()
        if now > self.next_sync:
            self.sync_directory()
        for q in list(self.calls.values()):
            if q.player is not None and q.player.done and q.playing is not None:
                self._stop_player(q)
                self._next_play(q)
            for leg in list(q.agents.values()):
                if leg.deadline and now > leg.deadline and leg.state != "confirmed":
                    leg.drop()  # the engine's own ring timeout should have come first
            if q.hangup_after_plays and q.player is None and not q.plays:
                q.hangup_after_plays = False
                self._hangup_all(q)
        while self.keep and self.keep[0][0] < now:
            self.keep.popleft()

    # ---- incoming calls -----------------------------------------------------------------
    def incoming(self, prm) -> None:
        msg = prm.rdata.wholeMsg
        first = msg.split("\r\n", 1)[0]
        number = _user(first.split(" ")[1] if " " in first else "")
        caller = _header(msg, "X-CM-Caller") or _user(_header(msg, "From") or "") or "anonymous"
        target = self.r.get(f"pbx:sip:number:{number}")
        kind, _, shard = (target.decode() if target else "").partition("|")
        q = QCall(f"pbx-{uuid.uuid4().hex[:20]}", int(shard or 0), number, caller)
        leg = Leg(self, self.acc, "caller", q, call_id=prm.callId)
        m = re.search(r"^CSeq:\s*(\d+)\s+INVITE", msg, re.M | re.I)
        leg.cseq = m.group(1) if m else ""
        q.leg = leg
        self._keep(leg)
        if kind != "welcome":
            leg.drop(404)
            return
        self.calls[q.id] = q
        self.stats["calls"] += 1
        op = pj.CallOpParam()
        op.statusCode = 180
        leg.answer(op)
        self.remember(q)
        self.send(q, "call.arrived", number=number, caller=caller)

    # ---- commands -----------------------------------------------------------------------
    def command(self, cmd: dict[str, str]) -> None:
        q = self.calls.get(cmd.get("call", ""))
        if q is None or q.ended:
            return
        kind = cmd.get("type")
        if kind == "play":
            q.plays.append(cmd.get("media") or "default")
            self._answer(q)
            if q.player is None or (q.playing and self.media.resolve(q.playing)[1]):
                self._next_play(q)  # music gives way to what comes next
        elif kind == "ring":
            self._ring(q, cmd["line"], int(cmd.get("timeout_s") or 30),
                       cmd.get("confirm") == "1", cmd.get("callee_media") or None)
        elif kind == "stop_ring":
            leg = q.agents.pop(cmd.get("line", ""), None)
            if leg is not None:
                leg.drop()
                self._leg_cdr(q, leg)
                self.remember(q)
        elif kind == "bridge":
            self._bridge(q, cmd["line"])
        elif kind in ("forward", "transfer"):
            self._forward(q, cmd["to"])
        elif kind == "reject_busy":
            q.sealed = True
            if q.answered:
                self._hangup_all(q)
            else:
                q.leg.drop(486)
        elif kind == "hangup":
            q.sealed = True
            if q.player is not None and not self.media.resolve(q.playing)[1] or q.plays:
                q.hangup_after_plays = True  # the announcement plays to its end first
            else:
                self._hangup_all(q)
        elif kind == "hold" and q.bridged is not None and not q.held:
            q.held = True
            self._connect(q.leg, q.bridged, False)
            q.plays.append(q.music or "default")
            self._next_play(q)
            self._play_to(q.bridged, self.media.resolve(q.music or "default")[0], True)
        elif kind == "resume" and q.bridged is not None and q.held:
            q.held = False
            self._stop_player(q)
            q.plays.clear()
            self._stop_leg_players(q.bridged)
            self._connect(q.leg, q.bridged, True)

    def _answer(self, q: QCall) -> None:
        if not q.answered and q.leg is not None and not q.leg.gone:
            q.answered = True
            op = pj.CallOpParam()
            op.statusCode = 200
            q.leg.answer(op)


    def _new_leg(self, q: QCall, to: str, kind: str, timeout_s: int) -> Leg:
        leg = Leg(self, self.acc, "agent", q, line=to)
        leg.kind = kind
        leg.deadline = time.monotonic() + timeout_s + 5
        self._keep(leg)
        op = pj.CallOpParam(True)
        for name, value in (("X-CM-Call", q.id), ("X-CM-Caller", q.caller),
                            ("X-CM-Ring", str(timeout_s))):
            h = pj.SipHeader()
            h.hName, h.hValue = name, value
            op.txOption.headers.append(h)
        leg.makeCall(f"sip:{to}@{self.s.bind}:{self.s.sip_port}", op)
        return leg

    def _ring(self, q: QCall, line: str, timeout_s: int, confirm: bool,
              callee_media: str | None) -> None:
        old = q.agents.pop(line, None)
        if old is not None:
            old.drop()
        leg = self._new_leg(q, line, "agent", timeout_s)
        leg.confirm, leg.callee_media = confirm, callee_media
        q.agents[line] = leg
        self.remember(q)

    def _bridge(self, q: QCall, line: str) -> None:
        leg = q.agents.get(line)
        if leg is None or leg.gone:
            # switchboard pick-up of a line that was not ringing: call it, bridge on answer
            leg = self._new_leg(q, line, "pickup", 60)
            q.agents[line] = leg
        q.bridged = leg
        q.plays.clear()
        self._stop_player(q)
        self._answer(q)
        if leg.state == "confirmed":
            self._stop_leg_players(leg)
            self._connect(q.leg, leg, True)
        self.remember(q)

    def _forward(self, q: QCall, to: str) -> None:
        q.sealed = True
        for line, leg in list(q.agents.items()):
            leg.drop()
            self._leg_cdr(q, leg)
            del q.agents[line]
        q.bridged = None
        leg = self._new_leg(q, to, "forward", 60)
        q.agents[to] = leg
        q.bridged = leg
        self._answer(q)
        self.remember(q)

    def _connect(self, a: Leg | None, b: Leg | None, on: bool) -> None:
        if a is None or b is None or a.media is None or b.media is None:
            return
        try:
            if on:
                a.media.startTransmit(b.media)
                b.media.startTransmit(a.media)
            else:
                a.media.stopTransmit(b.media)
                b.media.stopTransmit(a.media)
        except pj.Error as exc:
            log.debug("connect: %s", exc.info())

    def _hangup_all(self, q: QCall) -> None:
        for leg in self._legs(q):
            leg.drop()

    def _legs(self, q: QCall) -> list[Leg]:
        return [leg for leg in [q.leg, *q.agents.values()] if leg is not None]

    # ---- callbacks from legs ------------------------------------------------------------
    def on_media(self, leg: Leg) -> None:
        q = leg.q
        if leg.role == "caller":
            if q.bridged is not None and q.bridged.state == "confirmed":
                self._connect(leg, q.bridged, True)
            elif q.player is None and q.plays:
                self._next_play(q)
        elif leg.state == "confirmed":
            self._agent_media(leg)

    def on_confirmed(self, leg: Leg) -> None:
        q = leg.q
        self.remember(q)
        if leg.role == "caller":
            return
        if leg.kind == "agent" and not q.sealed and q.bridged is not leg:
            self.send(q, "call.answered", line=leg.line)
        self._agent_media(leg)

    def _agent_media(self, leg: Leg) -> None:
        q = leg.q
        if leg.media is None:
            return
        if q.bridged is leg:
            self._stop_player(q)
            self._stop_leg_players(leg)
            self._connect(q.leg, leg, True)
        elif leg.confirm and not leg.players:
            path = self.media.resolve(leg.callee_media)[0] if leg.callee_media \
                else self.media.prompt
            self._play_to(leg, path, True)

    def on_key(self, leg: Leg, digit: str) -> None:
        q = leg.q
        if leg.role == "caller":
            self.send(q, "call.key", line="", key=digit)
        elif leg.confirm and leg.state == "confirmed" and q.bridged is not leg:
            self.send(q, "call.key", line=leg.line, key=digit)

    def on_disconnected(self, leg: Leg, code: int) -> None:
        q = leg.q
        self._stop_leg_players(leg)
        if leg.role == "caller":
            if leg.dropped or q.ended:
                self._finish(q, None if q.sealed else "network")
            else:
                self.end(q, "caller")
            return
        if q.agents.get(leg.line) is leg:
            del q.agents[leg.line]
            self._leg_cdr(q, leg, code)
        if leg.dropped or q.ended:
            return
        if q.bridged is leg:
            q.bridged = None
            self.end(q, "agent" if leg.answered_ms else "network")
        elif leg.kind == "agent" and not q.sealed:
            if leg.answered_ms:
                reason = "declined"  # hung up while confirming
            elif code in (486, 600):
                reason = "busy"
            elif code == 603:
                reason = "declined"
            else:
                reason = "unreachable"
            self.send(q, "call.ring_failed", line=leg.line, reason=reason)
        self.remember(q)

    def end(self, q: QCall, by: str) -> None:
        """The call is over: drop every leg, tell the engine (unless it ended it)."""
        if q.ended:
            return
        q.ended = True
        self._stop_player(q)
        for leg in self._legs(q):
            if leg is not q.leg and q.agents.get(leg.line) is leg:
                del q.agents[leg.line]
                leg.drop()
                self._leg_cdr(q, leg)
            elif leg is q.leg:
                leg.drop()
        self._finish(q, by)

    def _finish(self, q: QCall, by: str | None) -> None:
        q.ended = True
        for line, leg in list(q.agents.items()):
            leg.drop()
            self._leg_cdr(q, leg)
            del q.agents[line]
        if by is not None and self.calls.pop(q.id, None) is not None:
            self.send(q, "call.ended", by=by)
        self.calls.pop(q.id, None)
        self.r.hdel(LIVE, q.id)


    def _keep(self, obj: object, seconds: float = 120.0) -> None:
        self.keep.append((time.monotonic() + seconds, obj))


