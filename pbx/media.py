"""What the connector plays (WN-5 audio library, platform defaults) and how.

`Media` resolves the engine's media ids to WAV files; `Playback` (a mixin of the
connector) plays them to a caller, one after the other, music looping, or to an agent's
leg (confirmation prompt, hold music).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pjsua2 as pj

from pbx.audio import MELODY, PROMPT, write_tone
from pbx.sipua import Leg, Player, QCall
from webapp.db import db
from webapp.models import AudioFile
from webapp.services.audio import path_of
from webapp.settings import load as web_settings
from worker.bootstrap import ensure_db

log = logging.getLogger("connector")


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




class Playback:
    """The caller's queue of media and an agent leg's players (mixed into Connector)."""

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

