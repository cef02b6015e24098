"""The SIP side of the connector (PBX-2): the pjsua2 endpoint, its account and the legs.

A `Leg` is one SIP call (the caller's or an agent's) and a `QCall` one engine call with
its legs; they hold what pjsua2 reports and hand every callback to the connector
(`pbx/connector.py`), which decides. Nothing here reads or writes Redis.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections import deque
from typing import TYPE_CHECKING

import pjsua2 as pj

from pbx.settings import PbxSettings

if TYPE_CHECKING:
    from pbx.connector import Connector

log = logging.getLogger("connector")


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




def open_endpoint(s: PbxSettings) -> pj.Endpoint:
    """The pjsua2 library, one thread, null sound device, listening on s.connector_port/udp
    (StartError when that port is taken)."""
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
    tcfg.port = s.connector_port
    tcfg.boundAddress = tcfg.publicAddress = s.bind
    try:
        ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    except pj.Error as exc:
        ep.libDestroy()
        raise StartError(f"connector: cannot listen on {s.bind}:"
                         f"{s.connector_port}/udp ({exc.reason.strip()}); set "
                         "CONNECTOR_PORT") from None
    ep.libStart()
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():  # G.711 first: what every desk phone speaks, cheap
        for prefix, prio in (("PCMU/8000", 255), ("PCMA/8000", 254), ("G722/", 253)):
            if codec.codecId.startswith(prefix):
                ep.codecSetPriority(codec.codecId, prio)
    return ep


def account_config(s: PbxSettings) -> pj.AccountConfig:
    """The connector's one local account: no registration, no NAT rewriting, RTP on
    s.rtp_port.. (s.rtp_ports ports)."""
    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:connector@{s.bind}:{s.connector_port}"
    acfg.mediaConfig.transportConfig.port = s.rtp_port
    acfg.mediaConfig.transportConfig.portRange = s.rtp_ports
    acfg.mediaConfig.transportConfig.boundAddress = s.bind
    acfg.mediaConfig.transportConfig.publicAddress = s.bind
    acfg.natConfig.contactRewriteUse = 0
    acfg.natConfig.viaRewriteUse = 0
    acfg.natConfig.sdpNatRewriteUse = 0
    acfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_INACTIVE
    return acfg
