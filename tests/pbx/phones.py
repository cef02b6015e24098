"""Scripted SIP phones on pjsua2 for the PBX tests (PBX-1..4): each registers on Kamailio
with Keyyo Phone credentials generated through the app, plays its own tone into every
call and records what it hears. One pjsua2 endpoint per process, events pumped from the
test's own thread (mainThreadOnly, no worker threads)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pjsua2 as pj

from pbx.audio import dominant, rms, samples, write_tone
from tests.waiting import wait_until

_EP: pj.Endpoint | None = None
# pjsua2 reuses account ids: an Account object destroyed after its shutdown() would delete
# whichever later account got its id. Every phone object lives as long as the process.
_PHONES: list = []


def endpoint() -> pj.Endpoint:
    global _EP
    if _EP is None:
        ep = pj.Endpoint()
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.userAgent = "cm-test-phone"
        cfg.uaConfig.maxCalls = 4  # what this PyPI build of pjsua2 allows per process
        cfg.logConfig.level = 1
        cfg.logConfig.consoleLevel = 1
        cfg.medConfig.noVad = True
        ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = 0
        tcfg.boundAddress = "127.0.0.1"
        tcfg.publicAddress = "127.0.0.1"
        ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        ep.libStart()
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():
            ep.codecSetPriority(codec.codecId, 255 if codec.codecId.startswith("PCMU/") else 0)
        _EP = ep
    return _EP


def pump(seconds: float = 0.0) -> None:
    end = time.monotonic() + seconds
    ep = endpoint()
    while True:
        ep.libHandleEvents(10)
        if time.monotonic() >= end:
            return


def wait(predicate, timeout: float = 10.0, what: str = ""):
    """tests.waiting.wait_until, handling this thread's SIP events while it waits."""
    return wait_until(predicate, timeout, 0.02, f"timed out waiting for {what or predicate}",
                      pause=pump)


def answered(phone: Phone, what: str, timeout: float = 10.0) -> PhoneCall:
    """`phone` rings within `timeout`, answers, and the call's media is up."""
    leg = wait(lambda: phone.ringing(), timeout=timeout, what=f"{what} rings")
    leg.answer(200)
    wait(lambda: leg.media_up, what=f"{what} connected")
    return leg


class PhoneCall(pj.Call):
    def __init__(self, phone: Phone, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(phone, call_id)
        self.phone = phone
        self.state = "new"
        self.code = 0
        self.digits: list[str] = []
        self.media_up = False
        self.incoming = False
        self._player: pj.AudioMediaPlayer | None = None
        self._recorder: pj.AudioMediaRecorder | None = None
        self.recordings: list[Path] = []

    def onCallState(self, prm) -> None:
        info = self.getInfo()
        self.code = info.lastStatusCode
        self.state = {pj.PJSIP_INV_STATE_CALLING: "calling",
                      pj.PJSIP_INV_STATE_INCOMING: "incoming",
                      pj.PJSIP_INV_STATE_EARLY: "early",
                      pj.PJSIP_INV_STATE_CONNECTING: "connecting",
                      pj.PJSIP_INV_STATE_CONFIRMED: "confirmed",
                      pj.PJSIP_INV_STATE_DISCONNECTED: "disconnected"}.get(info.state, "?")
        if self.state == "disconnected":
            self._player = None
            self.stop_recording()
            self.media_up = False

    def onCallMediaState(self, prm) -> None:
        info = self.getInfo()
        for i, m in enumerate(info.media):
            if m.type == pj.PJMEDIA_TYPE_AUDIO and m.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                media = self.getAudioMedia(i)
                if self._player is None:
                    self._player = pj.AudioMediaPlayer()
                    self._player.createPlayer(str(self.phone.tone), 0)
                    self._player.startTransmit(media)
                self.media_up = True

    def onDtmfDigit(self, prm) -> None:
        self.digits.append(prm.digit)

    # --- what the test does with the call -----------------------------------------------

    def record(self, seconds: float = 1.5, settle: float = 0.3) -> Path:
        """Record `seconds` of what this phone hears (after `settle` s) into a WAV."""
        wait(lambda: self.media_up, 10, "media")
        pump(settle)
        self.phone.n += 1
        path = self.phone.dir / f"{self.phone.name}-{self.phone.n}.wav"
        self._recorder = pj.AudioMediaRecorder()
        self._recorder.createRecorder(str(path))
        self.getAudioMedia(-1).startTransmit(self._recorder)
        pump(seconds)
        self.stop_recording()
        return path

    def stop_recording(self) -> None:
        if self._recorder is not None:
            import gc

            rec, self._recorder = self._recorder, None
            try:
                self.getAudioMedia(-1).stopTransmit(rec)
            except pj.Error:
                pass
            del rec  # the destructor closes the WAV
            gc.collect()
            pump(0)

    def hears(self, seconds: float = 1.5) -> tuple[float, float]:
        """(dominant frequency, RMS) of what the phone hears now."""
        x, rate = samples(self.record(seconds), start_s=0.2)
        return dominant(x, rate), rms(x)

    def answer(self, code: int = 200) -> None:
        prm = pj.CallOpParam()
        prm.statusCode = code
        super().answer(prm)

    def hangup(self, code: int = 0) -> None:
        if self.state != "disconnected" and self.getId() >= 0 and self.isActive():
            prm = pj.CallOpParam()
            if code:
                prm.statusCode = code
            try:
                super().hangup(prm)
            except pj.Error:
                pass

    def dtmf(self, digits: str) -> None:
        self.dialDtmf(digits)  # RFC 4733 telephone-events by default


class Phone(pj.Account):
    """One SIP phone; `calls` keeps Python references to every call it ever had."""

    def __init__(self, name: str, tone_hz: float, workdir: Path) -> None:
        endpoint()
        super().__init__()
        self.name = name
        self.dir = workdir
        self.tone = write_tone(workdir / f"tone-{int(tone_hz)}.wav", [(tone_hz, 5.0)])
        self.calls: list[PhoneCall] = []
        self.reg_code = 0
        self.registered = False
        _PHONES.append(self)
        self.tid: int | None = None
        self.auto: str | None = None  # None: ring; "answer"; or a SIP code to reject with
        self.n = 0

    def register(self, login: str, secret: str, port: int, expires: int = 300,
                 contact_user: str | None = None) -> Phone:
        cfg = pj.AccountConfig()
        # the SIP user of each test phone is its own name (the digest username is the
        # login): pjsua2 picks the account of an incoming call by that user part
        cfg.idUri = f"sip:{self.name}@127.0.0.1"
        cfg.regConfig.registrarUri = f"sip:127.0.0.1:{port}"
        cfg.regConfig.timeoutSec = expires
        cfg.regConfig.retryIntervalSec = 0
        cred = pj.AuthCredInfo("digest", "*", login, 0, secret)
        cfg.sipConfig.authCreds.append(cred)
        cfg.sipConfig.proxies.append(f"sip:127.0.0.1:{port};lr")
        tcfg = pj.TransportConfig()  # each phone its own address, like real devices
        tcfg.port = 0
        tcfg.boundAddress = tcfg.publicAddress = "127.0.0.1"
        self.tid = endpoint().transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        cfg.sipConfig.transportId = self.tid
        cfg.natConfig.contactRewriteUse = 0
        cfg.natConfig.viaRewriteUse = 0
        cfg.natConfig.sdpNatRewriteUse = 0
        cfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        cfg.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
        # RTP ports of this process's phones, away from other test processes' and the
        # connector's (pjsua's default, 4000 upwards, is shared by everyone)
        cfg.mediaConfig.transportConfig.port = 50000 + (os.getpid() % 150) * 100
        cfg.mediaConfig.transportConfig.portRange = 100
        self.login, self.port = login, port
        self.create(cfg)
        return self

    def onRegState(self, prm) -> None:
        self.reg_code = prm.code
        self.registered = self.getInfo().regIsActive

    def onIncomingCall(self, prm) -> None:
        call = PhoneCall(self, prm.callId)
        call.incoming = True
        self.calls.append(call)
        call.state = "incoming"
        if self.auto == "answer":
            call.answer(200)
        elif isinstance(self.auto, int):
            call.answer(self.auto)
        else:
            call.answer(180)

    def dial(self, number: str, headers: dict[str, str] | None = None) -> PhoneCall:
        call = PhoneCall(self)
        self.calls.append(call)
        prm = pj.CallOpParam(True)
        for name, value in (headers or {}).items():
            h = pj.SipHeader()
            h.hName, h.hValue = name, value
            prm.txOption.headers.append(h)
        call.makeCall(f"sip:{number}@127.0.0.1:{self.port}", prm)
        return call

    def ringing(self) -> PhoneCall | None:
        return next((c for c in self.calls
                     if c.incoming and c.state in ("incoming", "early")), None)

    def live(self) -> list[PhoneCall]:
        return [c for c in self.calls if c.state not in ("disconnected", "new")]

    def unregister(self) -> None:
        self.setRegistration(False)

    def close(self) -> None:
        for c in self.calls:
            c.hangup()
        pump(0.2)  # teardown: lets pjsua send the hang-ups; nothing is checked after it
        try:
            self.shutdown()
        except pj.Error:
            pass
        pump(0.1)
        if getattr(self, "tid", None) is not None:
            try:
                endpoint().transportClose(self.tid)
            except pj.Error:
                pass
            self.tid = None


def shutdown() -> None:
    """End of the test session: every call hung up and the events pumped. The library is
    left to the process's exit (`thisown` off: the Endpoint's destructor never runs), so
    that no Call object outlives it, whatever order the interpreter frees them in."""
    if _EP is None:
        return
    for phone in _PHONES:
        for call in phone.calls:
            call.hangup()
    pump(0.5)  # teardown: lets pjsua send the hang-ups; nothing is checked after it
    _EP.thisown = False
