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


@dataclass
class Settings:
    """Operator-facing configuration; see README "Configuration"."""

    DATABASE_URL: str = field(
        default_factory=lambda: os.environ.get(
            "DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'manager.db'}"
        )
    )
    REDIS_URL: str = field(
        default_factory=lambda: os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    SMTP_URL: str = field(
        default_factory=lambda: os.environ.get("SMTP_URL", "smtp://127.0.0.1:8025")
    )
    SECRET_KEY: str | None = field(default_factory=lambda: os.environ.get("SECRET_KEY"))
    BASE_URL: str = field(
        default_factory=lambda: os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    )
    MAIL_FROM: str = field(
        default_factory=lambda: os.environ.get(
            "MAIL_FROM", "Communications Manager <no-reply@manager.localhost>"
        )
    )
    DATA_DIR: Path = field(
        default_factory=lambda: Path(os.environ.get("DATA_DIR", str(ROOT / "var")))
    )
    SESSION_IDLE_MINUTES: int = field(
        default_factory=lambda: int(os.environ.get("SESSION_IDLE_MINUTES", "60"))
    )
    SESSION_MAX_HOURS: int = field(
        default_factory=lambda: int(os.environ.get("SESSION_MAX_HOURS", "12"))
    )
    RATELIMIT_ENABLED: bool = field(default_factory=lambda: _bool("RATELIMIT_ENABLED", True))
    # SEC-7: addresses or networks of the reverse proxies in front of the app
    # ("127.0.0.1" or "10.0.0.0/8, ::1"); their X-Forwarded-For is the client's address.
    TRUSTED_PROXIES: str = field(default_factory=lambda: os.environ.get("TRUSTED_PROXIES", ""))
    # SCALE-1: new accounts are spread over shards 0..ENGINE_SHARDS-1 (one engine each);
    # the engine's keys and streams live on ENGINE_REDIS_URL (a Redis Cluster is fine),
    # sessions, limits and RQ stay on REDIS_URL.
    ENGINE_SHARDS: int = field(
        default_factory=lambda: max(1, int(os.environ.get("ENGINE_SHARDS", "1"))))
    ENGINE_REDIS_URL: str = field(
        default_factory=lambda: os.environ.get("ENGINE_REDIS_URL")
        or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    # The switchboard stream's keep-alive comment when nothing changes (seconds): lets the
    # page notice a frozen server or a dead connection (SWB-7) and proxies keep it open.
    SSE_HEARTBEAT_S: float = field(
        default_factory=lambda: float(os.environ.get("SSE_HEARTBEAT_S", "25")))
    # FR-1: the seller's identity and legal mentions printed on every invoice.
    SELLER_NAME: str = field(default_factory=lambda: os.environ.get(
        "SELLER_NAME", "Communications Manager SAS"))
    SELLER_ADDRESS: str = field(default_factory=lambda: os.environ.get(
        "SELLER_ADDRESS", "12 rue de la République\n69002 Lyon\nFrance"))
    SELLER_SIREN: str = field(default_factory=lambda: os.environ.get(
        "SELLER_SIREN", "912 345 678"))
    SELLER_VAT: str = field(default_factory=lambda: os.environ.get(
        "SELLER_VAT", "FR40912345678"))
    SELLER_LEGAL: str = field(default_factory=lambda: os.environ.get(
        "SELLER_LEGAL", "SAS au capital de 50 000 € — RCS Lyon 912 345 678"))
    SELLER_IBAN: str = field(default_factory=lambda: os.environ.get(
        "SELLER_IBAN", "FR76 3000 6000 0112 3456 7890 189"))
    SELLER_BIC: str = field(default_factory=lambda: os.environ.get("SELLER_BIC", "AGRIFRPP"))
    VAT_RATE_PERCENT: int = field(default_factory=lambda: int(os.environ.get(
        "VAT_RATE_PERCENT", "20")))
    LATE_PENALTY: str = field(default_factory=lambda: os.environ.get(
        "LATE_PENALTY", "En cas de retard de paiement, pénalités au taux de trois fois le taux "
        "d'intérêt légal, exigibles dès le lendemain de l'échéance, et indemnité forfaitaire "
        "pour frais de recouvrement de 40 € (articles L441-10 et D441-5 du Code de commerce). "
        "Pas d'escompte pour paiement anticipé."))
    PDF_FONT_DIR: Path = field(default_factory=lambda: Path(os.environ.get(
        "PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu")))
    TESTING: bool = False


def load(overrides: dict | None = None) -> Settings:
    settings = Settings()
    for key, value in (overrides or {}).items():
        setattr(settings, key, value)
    if "REDIS_URL" in (overrides or {}) and "ENGINE_REDIS_URL" not in overrides \
            and not os.environ.get("ENGINE_REDIS_URL"):
        settings.ENGINE_REDIS_URL = settings.REDIS_URL
    return settings
