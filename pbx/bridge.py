"""The connector's side of the streams (docs/protocol.md): events to `acd:{N}:in`, the
engine's commands from `acd:{N}:out` (consumer group `pbx`), `pbx:cdr`, and what a
restart needs (`pbx:connector:calls`, `pbx:sip:ctl`).

`StreamBridge` is a mixin of the connector: everything it writes or reads in Redis is
here, everything SIP is in `pbx/sipua.py`.
"""

from __future__ import annotations

import json
import logging
import time

import pjsua2 as pj
import redis

from engine.redis_client import one_node
from pbx.sipua import Leg, QCall, _ms
from webapp.db import db
from webapp.services.sip_directory import sync_all
from webapp.settings import load as web_settings
from worker.bootstrap import ensure_db

log = logging.getLogger("connector")

GROUP = "pbx"
LIVE = "pbx:connector:calls"
CDR = "pbx:cdr"
CTL = "pbx:sip:ctl"


class StreamBridge:
    """Redis I/O of the connector."""

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


    def run(self) -> None:
        streams = {f"acd:{{{s}}}:out": ">" for s in self.shards}
        # one XREADGROUP for every shard on a single Redis; one per shard on a Redis
        # Cluster, where each shard's keys are in their own slot
        reads = [streams] if one_node(self.r) else [{k: v} for k, v in streams.items()]
        while self.running:
            self.ep.libHandleEvents(10)
            got = [found for read in reads
                   for found in self.r.xreadgroup(GROUP, self.consumer, read, count=200) or []]
            for stream, entries in got:
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

