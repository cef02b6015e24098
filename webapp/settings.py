"""Every setting comes from the environment, in this one place (docs/architecture.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def sip_realm() -> str:
    """SIP_REALM, the digest realm of the Keyyo Phone credentials (PBX-1): the web side
    computes their HA1 with it, the SIP side (pbx.settings) gives it to Kamailio."""
    return os.environ.get("SIP_REALM", "communications-manager")


def _env(name: str, default: str | None, cast=str):
    """A setting read from the environment each time `Settings()` is made; `cast` turns
    the text into its value."""
    def read():
        raw = os.environ.get(name, default)
        return raw if raw is None else cast(raw)
    return field(default_factory=read)


@dataclass
class Settings:
    """Operator-facing configuration; see README "Configuration"."""

    DATABASE_URL: str = _env("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'manager.db'}")
    REDIS_URL: str = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    SMTP_URL: str = _env("SMTP_URL", "smtp://127.0.0.1:8025")
    SECRET_KEY: str | None = _env("SECRET_KEY", None)
    BASE_URL: str = _env("BASE_URL", "http://127.0.0.1:5000", lambda url: url.rstrip("/"))
    MAIL_FROM: str = _env("MAIL_FROM", "Communications Manager <no-reply@manager.localhost>")
    DATA_DIR: Path = _env("DATA_DIR", str(ROOT / "var"), Path)
    SESSION_IDLE_MINUTES: int = _env("SESSION_IDLE_MINUTES", "60", int)
    SESSION_MAX_HOURS: int = _env("SESSION_MAX_HOURS", "12", int)
    RATELIMIT_ENABLED: bool = field(default_factory=lambda: _bool("RATELIMIT_ENABLED", True))
    # SEC-7: addresses or networks of the reverse proxies in front of the app
    # ("127.0.0.1" or "10.0.0.0/8, ::1"); their X-Forwarded-For is the client's address.
    TRUSTED_PROXIES: str = _env("TRUSTED_PROXIES", "")
    # SCALE-1: new accounts are spread over shards 0..ENGINE_SHARDS-1 (one engine each);
    # the engine's keys and streams live on ENGINE_REDIS_URL (a Redis Cluster is fine),
    # sessions, limits and RQ stay on REDIS_URL.
    ENGINE_SHARDS: int = _env("ENGINE_SHARDS", "1", lambda count: max(1, int(count)))
    ENGINE_REDIS_URL: str = field(
        default_factory=lambda: os.environ.get("ENGINE_REDIS_URL")
        or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    # The switchboard stream's keep-alive comment when nothing changes (seconds): lets the
    # page notice a frozen server or a dead connection (SWB-7) and proxies keep it open.
    SSE_HEARTBEAT_S: float = _env("SSE_HEARTBEAT_S", "25", float)
    # FR-1: the seller's identity and legal mentions printed on every invoice.
    SELLER_NAME: str = _env("SELLER_NAME", "Communications Manager SAS")
    SELLER_ADDRESS: str = _env("SELLER_ADDRESS", "12 rue de la République\n69002 Lyon\nFrance")
    SELLER_SIREN: str = _env("SELLER_SIREN", "912 345 678")
    SELLER_VAT: str = _env("SELLER_VAT", "FR40912345678")
    SELLER_LEGAL: str = _env("SELLER_LEGAL", "SAS au capital de 50 000 € — RCS Lyon 912 345 678")
    SELLER_IBAN: str = _env("SELLER_IBAN", "FR76 3000 6000 0112 3456 7890 189")
    SELLER_BIC: str = _env("SELLER_BIC", "AGRIFRPP")
    VAT_RATE_PERCENT: int = _env("VAT_RATE_PERCENT", "20", int)
    LATE_PENALTY: str = _env(
        "LATE_PENALTY", "En cas de retard de paiement, pénalités au taux de trois fois le taux "
        "d'intérêt légal, exigibles dès le lendemain de l'échéance, et indemnité forfaitaire "
        "pour frais de recouvrement de 40 € (articles L441-10 et D441-5 du Code de commerce). "
        "Pas d'escompte pour paiement anticipé.")
    PDF_FONT_DIR: Path = _env("PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu", Path)
    TESTING: bool = False


def load(overrides: dict | None = None) -> Settings:
    settings = Settings()
    for key, value in (overrides or {}).items():
        setattr(settings, key, value)
    if "REDIS_URL" in (overrides or {}) and "ENGINE_REDIS_URL" not in overrides \
            and not os.environ.get("ENGINE_REDIS_URL"):
        settings.ENGINE_REDIS_URL = settings.REDIS_URL
    return settings
