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
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import logging
import os
import re
import signal
import sys
import time
import uuid
from collections import deque
from pathlib import Path

import pjsua2 as pj
import redis

from pbx.audio import MELODY, PROMPT, write_tone
from pbx.settings import PbxSettings, load
from webapp.db import db
from webapp.models import AudioFile
from webapp.services.audio import path_of
from webapp.services.sip_directory import sync_all
from webapp.settings import load as web_settings
from worker.bootstrap import ensure_db

log = logging.getLogger("connector")

GROUP = "pbx"
LIVE = "pbx:connector:calls"
CDR = "pbx:cdr"
CTL = "pbx:sip:ctl"


def _ms() -> int:
    return int(time.time() * 1000)


def _header(msg: str, name: str) -> str | None:
    m = re.search(rf"^{name}\s*:\s*(.*?)\r?$", msg, re.M | re.I)
    return m.group(1).strip() if m else None


def _tag(uri: str) -> str:
    m = re.search(r";tag=([^;>\s]+)", uri or "")
    return m.group(1) if m else ""


def _user(uri: str) -> str:
    m = re.search(r"sips?:([^@;>]+)@", uri or "")
    return m.group(1) if m else ""


def _guarded(fn):
    """pjsua2 swallows exceptions raised in callbacks: log them instead."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("%s failed", fn.__name__)
    return wrapper


class Player(pj.AudioMediaPlayer):
    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def onEof2(self) -> None:
        self.done = True


class Media:
    """Resolves media ids to WAV files: `audio-<id>` from the audio library (WN-5),
    `default` (and anything unplayable) to the generated platform default."""

    def __init__(self, run_dir: Path) -> None:
        self.default = write_tone(run_dir / "default-music.wav", MELODY) \
            if not (run_dir / "default-music.wav").exists() else run_dir / "default-music.wav"
        self.prompt = write_tone(run_dir / "prompt.wav", PROMPT) \
            if not (run_dir / "prompt.wav").exists() else run_dir / "prompt.wav"
        self.cache: dict[str, tuple[Path, bool]] = {}
        self._db_ready = False

    def resolve(self, media: str | None) -> tuple[Path, bool]:
        """(file, loop?)."""
        if not media or media == "default":
            return self.default, True
        if media in self.cache:
            return self.cache[media]
        found = (self.default, True)
        m = re.fullmatch(r"audio-(\d+)", media)
        if m:
            try:
                found = self._library(int(m.group(1))) or found
            except Exception as exc:  # database unreachable: the default, said once
                log.warning("media %s: %s; playing the default", media, type(exc).__name__)
        self.cache[media] = found
        return found

    def _library(self, audio_id: int) -> tuple[Path, bool] | None:
        settings = web_settings()
        ensure_db(settings)
        with db.connection_context():
            audio = AudioFile.get_or_none(AudioFile.id == audio_id)
            if audio is None:
                return None
            path = path_of(audio, settings.DATA_DIR)
            if audio.format != "wav" or not path.exists():
                log.warning("media audio-%s is %s (%s): only WAV is played, default instead",
                            audio_id, audio.format, path)
                return None
            return path, audio.kind == "music"


class Leg(pj.Call):
    """One SIP call of the connector: the caller's (`role` caller) or an agent's."""

    def __init__(self, conn: Connector, acc: pj.Account, role: str, qcall: QCall,
                 line: str = "", call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(acc, call_id)
        self.conn, self.role, self.q, self.line = conn, role, qcall, line
        self.state = "new"
        self.media: pj.AudioMedia | None = None
        self.answered_ms: int | None = None
        self.started_ms = _ms()
        self.cseq = ""
        self.tags = ("", "")  # (From tag, To tag) of the dialog as Kamailio tracks it
        self.gone = False
        self.dropped = False  # we hung it up: no event for it
        self.confirm = False
        self.callee_media: str | None = None
        self.deadline: float | None = None
        self.players: list[Player] = []
        self.kind = "agent"  # agent | forward

    # pjsua2 callbacks (inside libHandleEvents) -------------------------------------------
    @_guarded
    def onCallState(self, prm) -> None:
        info = self.getInfo()
        st = info.state
        if st == pj.PJSIP_INV_STATE_CONFIRMED and self.state != "confirmed":
            self.state = "confirmed"
            self.answered_ms = self.answered_ms or _ms()
            self.conn.on_confirmed(self)
        elif st == pj.PJSIP_INV_STATE_DISCONNECTED and not self.gone:
            self.gone = True
            self.state = "disconnected"
            self.conn.on_disconnected(self, info.lastStatusCode)
        elif st == pj.PJSIP_INV_STATE_EARLY and self.state == "new":
            self.state = "early"
            self.conn.remember(self.q)

    @_guarded
    def onCallMediaState(self, prm) -> None:
        info = self.getInfo()
        for i, m in enumerate(info.media):
            if m.type == pj.PJMEDIA_TYPE_AUDIO and m.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.media = self.getAudioMedia(i)
                self.conn.on_media(self)
                return

    @_guarded
    def onCallTsxState(self, prm) -> None:
        """Learn the dialog's tags and the INVITE's CSeq from the messages themselves:
        after a crash they are what Kamailio needs to end this leg (see `recover`)."""
        if self.tags[1] and (self.cseq or self.role == "caller"):
            return
        tsx = prm.e.body.tsxState.tsx
        msgs = [tsx.lastTx.wholeMsg]
        try:
            msgs.append(prm.e.body.tsxState.src.rdata.wholeMsg)
        except Exception:  # not an incoming message event
            pass
        changed = False
        for msg in msgs:
            if not msg or "CSeq" not in msg:
                continue
            m = re.search(r"^CSeq:\s*(\d+)\s+INVITE", msg, re.M | re.I)
            if m and not self.cseq and self.role != "caller":
                self.cseq, changed = m.group(1), True
            ftag = _tag(_header(msg, "From") or _header(msg, "f") or "")
            ttag = _tag(_header(msg, "To") or _header(msg, "t") or "")
            if ftag and ttag and not self.tags[1]:
                self.tags, changed = (ftag, ttag), True
        if changed:
            self.conn.remember(self.q)

    @_guarded
    def onDtmfDigit(self, prm) -> None:
        self.conn.on_key(self, prm.digit)

    # helpers -----------------------------------------------------------------------------
    def drop(self, code: int = 0) -> None:
        """Hang up (or refuse with `code`) without reporting it: the engine asked."""
        self.dropped = True
        if self.gone:
            return
        prm = pj.CallOpParam()
        if code:
            prm.statusCode = code
        try:
            self.hangup(prm)
        except pj.Error as exc:
            log.debug("hangup %s: %s", self.role, exc.info())

    def ids(self) -> list[str]:
        """[Call-ID, From tag, To tag, CSeq] as Kamailio sees the dialog."""
        try:
            info = self.getInfo()
        except pj.Error:
            return []
        confirmed = "1" if self.state == "confirmed" else ""
        return [info.callIdString, self.tags[0], self.tags[1], self.cseq, confirmed]


class QCall:
    """One engine call (docs/protocol.md call id) and its legs."""

    def __init__(self, call_id: str, shard: int, number: str, caller: str) -> None:
        self.id, self.shard, self.number, self.caller = call_id, shard, number, caller
        self.leg: Leg | None = None
        self.agents: dict[str, Leg] = {}
        self.plays: deque[str] = deque()
        self.player: Player | None = None
        self.playing: str | None = None
        self.music: str | None = None  # last looping media, for hold
        self.answered = False
        self.bridged: Leg | None = None
        self.held = False
        self.hangup_after_plays = False
        self.sealed = False  # the engine already knows the end (hangup, reject, forward)
        self.ended = False


class Connector:
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
        ep = pj.Endpoint()
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = 4  # the PyPI wheel is built with PJSUA_MAX_CALLS = 4
        cfg.uaConfig.userAgent = "Communications Manager connector"
        cfg.logConfig.level = 1
        cfg.logConfig.consoleLevel = 1
        cfg.medConfig.noVad = True
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = self.s.connector_port
        tcfg.boundAddress = tcfg.publicAddress = self.s.bind
        try:
            ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        except pj.Error as exc:
            ep.libDestroy()
            raise StartError(f"connector: cannot listen on {self.s.bind}:"
                             f"{self.s.connector_port}/udp ({exc.reason.strip()}); set "
                             "CONNECTOR_PORT") from None
        ep.libStart()
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():  # G.711 first: what every desk phone speaks, cheap
            for prefix, prio in (("PCMU/8000", 255), ("PCMA/8000", 254), ("G722/", 253)):
                if codec.codecId.startswith(prefix):
                    ep.codecSetPriority(codec.codecId, prio)
        self.ep = ep
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:connector@{self.s.bind}:{self.s.connector_port}"
        acfg.mediaConfig.transportConfig.port = self.s.rtp_port
        acfg.mediaConfig.transportConfig.portRange = self.s.rtp_ports
        acfg.mediaConfig.transportConfig.boundAddress = self.s.bind
        acfg.mediaConfig.transportConfig.publicAddress = self.s.bind
        acfg.natConfig.contactRewriteUse = 0
        acfg.natConfig.viaRewriteUse = 0
        acfg.natConfig.sdpNatRewriteUse = 0
        acfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_INACTIVE
        self.acc = Account(self)
        self.acc.create(acfg, True)
        for shard in self.shards:
            try:
                self.r.xgroup_create(f"acd:{{{shard}}}:out", GROUP, id="$", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self.sync_directory()
        self.recover()

    def sync_directory(self) -> None:
        """Republish the SIP directory from the database (new welcome numbers, a flushed
        Redis), at start and every minute; skipped when no database is reachable."""
        self.next_sync = time.monotonic() + 60
        try:
            ensure_db(web_settings())
            with db.connection_context():
                sync_all(self.r)
        except redis.RedisError:
            raise
        except Exception as exc:
            log.warning("SIP directory not synchronised: %s", exc)

    def recover(self) -> None:
        """Calls a previous run left (crash, kill -9): report their end, end their legs."""
        left = self.r.hgetall(LIVE)
        for raw_id, raw in left.items():
            call_id = raw_id.decode()
            try:
                info = json.loads(raw)
            except ValueError:
                continue
            for ids in info.get("legs", {}).values():
                self._end_remote_leg(ids)
            self.r.xadd(f"acd:{{{info['shard']}}}:in",
                        {"type": "call.ended", "ts": str(_ms()), "call": call_id,
                         "by": "network"})
            for line, leg in info.get("agents", {}).items():
                self._cdr(line, info.get("caller", ""), leg.get("started", _ms()),
                          leg.get("answered"), "answered" if leg.get("answered") else "missed",
                          call_id)
            self.r.hdel(LIVE, call_id)
            log.warning("call %s left by the previous run: reported ended (network)", call_id)
        # commands read but not acknowledged by the previous run concern those calls only
        for shard in self.shards:
            out = f"acd:{{{shard}}}:out"
            pending = self.r.xreadgroup(GROUP, self.consumer, {out: "0"}, count=10000)
            ids = [eid for _s, entries in pending or [] for eid, _f in entries]
            if ids:
                self.r.xack(out, GROUP, *ids)

    def _end_remote_leg(self, ids: list[str]) -> None:
        if not ids or not ids[0]:
            return
        callid, ftag, ttag, cseq, confirmed = (ids + ["", "", "", "", ""])[:5]
        if cseq:  # still ringing: CANCEL it (no effect once answered)
            self.r.rpush(CTL, "rpc " + json.dumps({"jsonrpc": "2.0", "method": "tm.cancel",
                                                   "params": [callid, cseq], "id": 1}))
        if ftag and ttag:  # connected: BYE to both sides
            self.r.rpush(CTL, "rpc " + json.dumps({
                "jsonrpc": "2.0", "method": "dlg.terminate_dlg",
                "params": [callid, ftag, ttag], "id": 1}))

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
    def run(self) -> None:
        streams = {f"acd:{{{s}}}:out": ">" for s in self.shards}
        while self.running:
            self.ep.libHandleEvents(10)
            try:
                got = self.r.xreadgroup(GROUP, self.consumer, streams, count=200)
            except redis.RedisError:
                raise
            for stream, entries in got or []:
                acks = []
                for eid, raw in entries:
                    acks.append(eid)
                    cmd = {k.decode(): v.decode() for k, v in raw.items()}
                    try:
                        self.command(cmd)
                    except pj.Error as exc:
                        log.warning("%s %s: %s", cmd.get("type"), cmd.get("call"),
                                    exc.info().strip())
                    except Exception:
                        log.exception("command %s failed", cmd)
                self.r.xack(stream, GROUP, *acks)
            self.tick()

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

    def _next_play(self, q: QCall) -> None:
        """Start the next queued media (the current one gives way); nothing queued: the
        current one goes on."""
        if not q.plays or q.leg is None or q.leg.gone:
            return
        if q.leg.media is None:
            return  # on_media starts it
        self._stop_player(q)
        media = q.plays.popleft()
        path, loop = self.media.resolve(media)
        if loop and q.plays:
            return self._next_play(q)  # something else is queued after the music
        player = Player()
        player.createPlayer(str(path), 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(q.leg.media)
        q.player, q.playing = player, media
        if loop:
            q.music = media

    def _stop_player(self, q: QCall) -> None:
        if q.player is not None:
            if q.leg is not None and q.leg.media is not None:
                try:
                    q.player.stopTransmit(q.leg.media)
                except pj.Error:
                    pass
            self._keep(q.player)
        q.player, q.playing = None, None

    def _play_to(self, leg: Leg, path: Path, loop: bool) -> None:
        self._stop_leg_players(leg)
        if leg.media is None:
            return
        player = Player()
        player.createPlayer(str(path), 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(leg.media)
        leg.players.append(player)

    def _stop_leg_players(self, leg: Leg) -> None:
        for p in leg.players:
            if leg.media is not None:
                try:
                    p.stopTransmit(leg.media)
                except pj.Error:
                    pass
            self._keep(p)
        leg.players.clear()

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

    # ---- Redis --------------------------------------------------------------------------
    def send(self, q: QCall, kind: str, **fields: str) -> None:
        self.r.xadd(f"acd:{{{q.shard}}}:in",
                    {"type": kind, "ts": str(_ms()), "call": q.id, **fields})

    def _leg_cdr(self, q: QCall, leg: Leg, code: int = 0) -> None:
        if getattr(leg, "cdr_done", False):
            return
        leg.cdr_done = True
        if leg.answered_ms:
            status = "answered" if q.bridged is leg or leg.kind != "agent" else "missed"
        elif code in (486, 600):
            status = "busy"
        elif code in (404, 408, 480) or code >= 500:
            status = "failed"
        else:
            status = "missed"
        self._cdr(leg.line, q.caller, leg.started_ms, leg.answered_ms, status, q.id)

    def _cdr(self, line: str, caller: str, started: int, answered: int | None, status: str,
             call_id: str) -> None:
        if not line.startswith("+"):
            return
        self.r.xadd(CDR, {"line": line, "direction": "in", "peer": caller or "anonymous",
                          "started_ms": str(started), "answered_ms": str(answered or ""),
                          "ended_ms": str(_ms()), "status": status, "call": call_id})

    def remember(self, q: QCall) -> None:
        """What a restart needs to end this call's legs (see `recover`)."""
        if q.ended or q.id not in self.calls:
            return
        legs = {"caller": q.leg.ids()} if q.leg is not None else {}
        agents = {}
        for line, leg in q.agents.items():
            legs[line] = leg.ids()
            agents[line] = {"started": leg.started_ms, "answered": leg.answered_ms}
        self.r.hset(LIVE, q.id, json.dumps({"shard": q.shard, "caller": q.caller,
                                            "legs": legs, "agents": agents}))

    def _keep(self, obj: object, seconds: float = 120.0) -> None:
        self.keep.append((time.monotonic() + seconds, obj))


class Account(pj.Account):
    def __init__(self, conn: Connector) -> None:
        super().__init__()
        self.conn = conn

    @_guarded
    def onIncomingCall(self, prm) -> None:
        try:
            self.conn.incoming(prm)
        except Exception:
            log.exception("incoming call failed")


class StartError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pbx", description=__doc__)
    ap.add_argument("--shards", default=None,
                    help="comma-separated shards to serve (default: 0..ENGINE_SHARDS-1)")
    ap.add_argument("--consumer", default="connector")
    ap.add_argument("--idle-on-error", action="store_true",
                    help="after a start error, stay idle instead of exiting (make run)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s connector %(levelname)s %(message)s")

    shards = [int(x) for x in args.shards.split(",")] if args.shards else list(
        range(int(os.environ.get("ENGINE_SHARDS", "1"))))
    s = load()
    delay = 0.5
    while True:
        conn = redis.Redis.from_url(s.redis_url, socket_connect_timeout=3)
        try:
            conn.ping()
            break
        except redis.RedisError as exc:
            print(f"connector: Redis unreachable at {s.redis_url} ({exc}); retrying in "
                  f"{delay:.0f} s", file=sys.stderr, flush=True)
            time.sleep(delay)
            delay = min(delay * 2, 30)
    connector = Connector(s, conn, shards, args.consumer)
    try:
        connector.start()
    except StartError as exc:
        print(exc, file=sys.stderr, flush=True)
        if args.idle_on_error:
            signal.sigwait({signal.SIGTERM, signal.SIGINT})
        return 1

    def stop(*_a) -> None:
        connector.running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("answering welcome numbers on %s:%s/udp (RTP %s..%s), shards %s", s.bind,
             s.connector_port, s.rtp_port, s.rtp_port + s.rtp_ports - 1, shards)
    while True:
        try:
            connector.run()
            break
        except redis.RedisError as exc:
            print(f"connector: Redis unreachable ({type(exc).__name__}); retrying",
                  file=sys.stderr, flush=True)
            time.sleep(1)
    connector.stop()
    log.info("stopped cleanly")
    return 0
