"""Demo welcome number: the same routing as engine/demo_config.json, from the
database — queue "Accueil" with lines +33100000101..104, closed-day announcement,
weekday opening hours and two public holidays. Idempotent."""

from __future__ import annotations

import datetime as dt
import io
import wave
from pathlib import Path

from webapp.db import db
from webapp.models import (
    Account,
    AudioFile,
    Service,
    User,
    WelcomeLine,
    WelcomeProfile,
    WelcomeTimeRule,
)
from webapp.services.actor import Actor
from webapp.services.audio import inspect, save_checked
from webapp.services.shards import shard_of

AGENTS = [("+33100000101", 1), ("+33100000102", 1), ("+33100000103", 2), ("+33100000104", 2)]
HOLIDAYS = [("2026-12-25", "Noël"), ("2026-01-01", "Jour de l'an")]
SLOTS = [("09:00", "12:30"), ("14:00", "18:00")]


def _silence(seconds: float = 1.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


def _audio(actor: Actor, name: str) -> AudioFile:
    existing = AudioFile.get_or_none((AudioFile.account == actor.account_id)
                                     & (AudioFile.name == name))
    if existing is not None:
        return existing
    written: list[Path] = []
    try:
        with db.atomic():
            return save_checked(inspect(_silence()), name=name, kind="announcement",
                                actor=actor, written=written)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def seed(account: Account, admin_email: str, redis_url: str, data_dir: Path) -> None:
    welcome = Service.get_or_none((Service.account == account) & (Service.kind == "welcome"))
    if welcome is None or WelcomeProfile.select().where(
            WelcomeProfile.service == welcome.id).exists():
        return

    actor = Actor(User.get(User.email == admin_email), "127.0.0.1", redis_url, shard_of(account.id),
                  data_dir)
    hello = _audio(actor, "Bienvenue chez Atelier Dupont")
    closed = _audio(actor, "Nous sommes fermés")
    with db.atomic():
        queue = WelcomeProfile.create(service=welcome, key="accueil", name="Accueil",
                                      kind="queue", is_entry=True, size=5, rest_s=10, ring_s=20,
                                      mode="inactivity", caller_preanswer=hello)
        for pos, (number, priority) in enumerate(AGENTS):
            line = Service.get_or_none((Service.account == account) & (Service.number == number))
            if line is not None:
                WelcomeLine.create(profile=queue, line=line, priority=priority, weight=1,
                                   position=pos)
        shut = WelcomeProfile.create(service=welcome, key="ferme", name="Fermé",
                                     kind="announcement", media=closed)
        for day, label in HOLIDAYS:
            WelcomeTimeRule.create(service=welcome, profile=shut, label=label,
                                   date=dt.date.fromisoformat(day), start="00:00", end="24:00")
        for start, end in SLOTS:
            WelcomeTimeRule.create(service=welcome, profile=queue, label="Heures d'ouverture",
                                   days="0,1,2,3,4", start=start, end=end)
