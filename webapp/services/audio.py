"""WN-5 audio library: uploads checked by content, stored outside the web root, reused.

Files live in `DATA_DIR/audio/<account id>/<random hex>.<wav|mp3>`; the name a
person typed or the browser sent is only ever a label, never a path.
"""

from __future__ import annotations

import io
import re
import secrets
import wave
from dataclasses import dataclass
from pathlib import Path

from peewee import IntegrityError

from webapp.db import db
from webapp.i18n import Duration, _
from webapp.models import AUDIO_KINDS, AudioFile, Service, VoicemailSettings, WelcomeProfile
from webapp.services import audit, phones
from webapp.services.actor import Actor
from webapp.services.errors import FormError
from webapp.services.names import unique_name

MAX_BYTES = 5 * 1024 * 1024
MAX_LABEL = "5 Mo"
NAME_MAX = 120


@dataclass(frozen=True)
class Inspected:
    format: str  # "wav" | "mp3"
    duration_ms: int
    data: bytes


@dataclass(frozen=True)
class Usage:
    """One place where an audio file is used; `site_id` lets views hide out-of-scope names."""

    label: str
    site_id: int | None = None


# --- content checks ----------------------------------------------------------------------

def _wav_duration_ms(data: bytes) -> int | None:
    """Duration of a RIFF/WAVE file from its header, or None if it is not one."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    try:
        with wave.open(io.BytesIO(data)) as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
        if frames > 0 and rate > 0:
            return frames * 1000 // rate
    except (wave.Error, EOFError):
        pass  # not PCM (µ-law, A-law, extensible…): read the chunks ourselves
    pos, byte_rate, data_size = 12, 0, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        body = data[pos + 8:pos + 8 + size]
        if chunk == b"fmt " and len(body) >= 16:
            byte_rate = int.from_bytes(body[8:12], "little")
        elif chunk == b"data":
            data_size = min(size, len(data) - pos - 8)
            break
        pos += 8 + size + (size & 1)
    if byte_rate > 0 and data_size > 0:
        return data_size * 1000 // byte_rate
    return 0


_MP3_BITRATES = {  # kbit/s by bitrate index, layer III
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(frame length, samples, sample rate) of an MPEG audio layer III frame at `pos`."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    version = (data[pos + 1] >> 3) & 3  # 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5, 1 reserved
    layer = (data[pos + 1] >> 1) & 3  # 1 = layer III
    bitrate_index, rate_index = data[pos + 2] >> 4, (data[pos + 2] >> 2) & 3
    padding = (data[pos + 2] >> 1) & 1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _MP3_BITRATES[1 if version == 3 else 2][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    samples = 1152 if version == 3 else 576
    length = (samples // 8) * bitrate // rate + padding
    return length, samples, rate


def _mp3_duration_ms(data: bytes) -> int | None:
    """Duration by walking the frames (after an optional ID3v2 tag), or None if not MP3."""
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
        while pos < len(data) and data[pos] == 0:
            pos += 1
    frames, total_ms = 0, 0.0
    while True:
        frame = _mp3_frame(data, pos)
        if frame is None or pos + frame[0] > len(data):
            break
        length, samples, rate = frame
        frames += 1
        total_ms += samples * 1000 / rate
        pos += length
    if frames >= 2 or (frames == 1 and pos == len(data)):
        return int(total_ms)
    return None


def inspect(data: bytes) -> Inspected:
    """WAV or MP3 by content (magic bytes and structure), never by the file name."""
    duration = _wav_duration_ms(data)
    fmt = "wav"
    if duration is None:
        duration, fmt = _mp3_duration_ms(data), "mp3"
    if duration is None:
        raise FormError({"file": _("Format non reconnu : seuls les fichiers audio WAV et MP3 "
                                 "sont acceptés.")})
    if duration <= 0:
        raise FormError({"file": _("Ce fichier audio ne contient aucun son.")})
    return Inspected(fmt, duration, data)


_BAD_FILENAME = re.compile(r"[/\\\x00-\x1f]|^\.\.?$")


def check_upload(filename: str | None, data: bytes) -> Inspected:
    """Every refusal of WN-5 before anything is written: name, emptiness, size, content."""
    filename = filename or ""
    if not filename and not data:
        raise FormError({"file": _("Choisissez un fichier audio.")})
    if _BAD_FILENAME.search(filename):
        raise FormError({"file": _("Nom de fichier non valide : renommez le fichier "
                                 "(sans « / », « \\ » ni « .. ») puis recommencez.")})
    if not data:
        raise FormError({"file": _("Le fichier est vide.")})
    if len(data) > MAX_BYTES:
        raise FormError({"file": _("Le fichier dépasse la taille maximale de %(max_label)s.",
                                   max_label=MAX_LABEL)})
    return inspect(data)


def label_from_filename(filename: str | None) -> str:
    stem = Path((filename or "").replace("\\", "/")).name.rsplit(".", 1)[0]
    return re.sub(r"\s+", " ", stem).strip()[:NAME_MAX]


def check_name(account_id: int, name: str, exclude_id: int | None = None) -> str:
    others = AudioFile.select().where(AudioFile.account == account_id)
    if exclude_id is not None:
        others = others.where(AudioFile.id != exclude_id)
    return unique_name(name, NAME_MAX, missing=_("Donnez un nom au fichier."),
                       taken=lambda n: _("Un fichier s'appelle déjà « %(name)s » : choisissez "
                                         "un autre nom.", name=n),
                       siblings=others)


# --- storage -------------------------------------------------------------------------------

def directory(data_dir: Path, account_id: int) -> Path:
    return Path(data_dir) / "audio" / str(int(account_id))


def path_of(audio: AudioFile, data_dir: Path) -> Path:
    return directory(data_dir, audio.account_id) / audio.storage_name


def save_checked(inspected: Inspected, *, name: str, kind: str, actor: Actor,
                 written: list[Path]) -> AudioFile:
    """Write the file and its row. Call inside `db.atomic()`; the caller removes the
    paths in `written` if the transaction fails, so nothing is left half-way."""
    storage = f"{secrets.token_hex(16)}.{inspected.format}"
    target = directory(actor.data_dir, actor.account_id)
    target.mkdir(parents=True, exist_ok=True)
    audio = AudioFile.create(account=actor.account_id, name=name, kind=kind,
                             format=inspected.format, storage_name=storage,
                             size_bytes=len(inspected.data), duration_ms=inspected.duration_ms)
    path = target / storage
    written.append(path)
    with open(path, "xb") as handle:
        handle.write(inspected.data)
    audit.record("audio.uploaded", account=actor.account_id, actor=actor,
                 audio_id=audio.id, after={"name": name, "kind": kind,
                                           "format": inspected.format,
                                           "size_bytes": len(inspected.data),
                                           "duration_ms": inspected.duration_ms})
    return audio


def upload(*, filename: str | None, data: bytes, name: str, kind: str,
           actor: Actor) -> AudioFile:
    """Check everything, then store: a refusal raises FormError and writes nothing."""
    errors: dict[str, str] = {}
    inspected = None
    try:
        inspected = check_upload(filename, data)
    except FormError as exc:
        errors.update(exc.errors)
    if kind not in AUDIO_KINDS:
        errors["kind"] = _("Choisissez le type : annonce ou musique.")
    try:
        name = check_name(actor.account_id, name or label_from_filename(filename))
    except FormError as exc:
        errors.update(exc.errors)
    if errors:
        raise FormError(errors, {"name": name, "kind": kind})
    written: list[Path] = []
    try:
        with db.atomic():
            return save_checked(inspected, name=name, kind=kind, actor=actor, written=written)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def library(account_id: int) -> list[AudioFile]:
    return list(AudioFile.select().where(AudioFile.account == account_id)
                .order_by(AudioFile.name))


def usages(audio: AudioFile) -> list[Usage]:
    """Where the file is played: voicemail greetings and welcome-number profiles (the
    library refuses to delete it meanwhile)."""
    found = [Usage(_("Message d'accueil de la messagerie vocale — %(line)s",
                     line=s.label or s.number),
                   s.site_id)
             for s in Service.select().join(VoicemailSettings,
                                            on=VoicemailSettings.service == Service.id)
             .where(VoicemailSettings.greeting_audio == audio.id).order_by(Service.number)]
    query = (WelcomeProfile.select(WelcomeProfile, Service).join(Service)
             .where((WelcomeProfile.caller_preanswer == audio.id)
                    | (WelcomeProfile.music == audio.id)
                    | (WelcomeProfile.callee_preanswer == audio.id)
                    | (WelcomeProfile.media == audio.id)))
    found += [Usage(_("Numéro d'accueil %(number)s — profil « %(name)s »",
                      number=phones.display(p.service.number), name=p.name), p.service.site_id)
              for p in query]
    return found


def rename(audio: AudioFile, name: str, *, actor: Actor) -> AudioFile:
    try:
        name = check_name(audio.account_id, name, exclude_id=audio.id)
    except FormError as exc:
        raise FormError(exc.errors, {"name": name}) from None
    before = audio.name
    if name != before:
        with db.atomic():
            AudioFile.update(name=name).where(AudioFile.id == audio.id).execute()
            audit.record("audio.renamed", account=audio.account_id, actor=actor,
                         audio_id=audio.id, before={"name": before},
                         after={"name": name})
        audio.name = name
    return audio


class AudioInUse(Exception):
    def __init__(self, uses: list[Usage]) -> None:
        super().__init__(f"audio used in {len(uses)} places")
        self.uses = uses


def delete(audio: AudioFile, *, actor: Actor) -> None:
    """Refused (AudioInUse, listing the uses) while anything still plays this file."""
    uses = usages(audio)
    if uses:
        raise AudioInUse(uses)
    path = path_of(audio, actor.data_dir)
    try:
        with db.atomic():
            AudioFile.delete().where(AudioFile.id == audio.id).execute()
            audit.record("audio.deleted", account=audio.account_id, actor=actor,
                         audio_id=audio.id,
                         before={"name": audio.name, "kind": audio.kind,
                                 "format": audio.format})
    except IntegrityError:
        # A use no finder knows about, still protected by a foreign key (RESTRICT).
        raise AudioInUse([Usage(_("un autre paramétrage du compte"))]) from None
    path.unlink(missing_ok=True)


def duration_label(ms: int) -> Duration:
    """A recording's length, shown by Babel in the reader's language (UI-5)."""
    return Duration.of_ms(ms)


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(num)s Mo", num=size / (1024 * 1024))
    return _("%(num)s Ko", num=max(1, round(size / 1024)))
