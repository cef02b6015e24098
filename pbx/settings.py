"""Telephony settings (environment variables, README "Configuration", docs/telephony.md).

Every SIP and RTP socket binds 127.0.0.1 unless SIP_BIND says otherwise (PBX-4)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from webapp.settings import sip_realm


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass
class PbxSettings:
    bind: str = field(default_factory=lambda: _env("SIP_BIND", "127.0.0.1"))
    sip_port: int = field(default_factory=lambda: int(_env("SIP_PORT", "5060")))
    domain: str = field(default_factory=lambda: _env("SIP_DOMAIN", _env("SIP_BIND", "127.0.0.1")))
    realm: str = field(default_factory=sip_realm)
    connector_port: int = field(default_factory=lambda: int(_env("CONNECTOR_PORT", "5070")))
    rtp_port: int = field(default_factory=lambda: int(_env("RTP_PORT", "40000")))
    rtp_ports: int = field(default_factory=lambda: int(_env("RTP_PORT_COUNT", "2000")))
    trunk: str = field(default_factory=lambda: _env("SIP_TRUNK", ""))
    min_expires: int = field(default_factory=lambda: int(_env("SIP_MIN_EXPIRES", "60")))
    redis_url: str = field(default_factory=lambda: _env(
        "ENGINE_REDIS_URL", _env("REDIS_URL", "redis://127.0.0.1:6379/0")))
    run_dir: str = field(default_factory=lambda: _env("SIP_RUN_DIR", "var/sip"))


def load() -> PbxSettings:
    return PbxSettings()
