"""Small audio helpers shared by the connector, its tests and the bench: tone WAVs (the
platform's default hold music is generated, see docs/telephony.md) and a pure-Python
dominant-frequency finder (Goertzel; numpy is not a dependency)."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path


def write_tone(path: Path, freqs: list[tuple[float, float]], rate: int = 16000,
               volume: float = 0.3) -> Path:
    """A mono 16-bit WAV: each (frequency Hz, seconds) in turn; 0 Hz is silence."""
    frames = bytearray()
    for freq, seconds in freqs:
        n = int(rate * seconds)
        for i in range(n):
            # 5 ms fade in/out so that notes do not click
            env = min(1.0, i / (0.005 * rate), (n - i) / (0.005 * rate))
            v = volume * env * math.sin(2 * math.pi * freq * i / rate) if freq else 0.0
            frames += struct.pack("<h", int(v * 32767))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return path


# The platform default (no music chosen in the audio library): a short public-domain
# melody, "Au clair de la lune", generated here (no file to license).
MELODY = [(523.25, 0.4), (523.25, 0.4), (523.25, 0.4), (587.33, 0.4), (659.25, 0.8),
          (587.33, 0.8), (523.25, 0.4), (659.25, 0.4), (587.33, 0.4), (587.33, 0.4),
          (523.25, 1.2), (0, 0.6)]
PROMPT = [(880.0, 0.25), (0, 0.15), (880.0, 0.25), (0, 1.35)]  # generic "press *" prompt


def samples(path: Path, start_s: float = 0.0, seconds: float | None = None
            ) -> tuple[list[int], int]:
    with wave.open(str(path), "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        wav.setpos(min(int(start_s * rate), wav.getnframes()))
        n = wav.getnframes() - wav.tell() if seconds is None else int(seconds * rate)
        raw = wav.readframes(n)
    assert width == 2 and channels == 1, "mono 16-bit WAV expected"
    return list(struct.unpack(f"<{len(raw) // 2}h", raw)), rate


def power(x: list[int], rate: int, freq: float) -> float:
    """Goertzel: energy of `freq` in `x`."""
    w = 2 * math.pi * freq / rate
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + c * s1 - s2, s1
    return s1 * s1 + s2 * s2 - c * s1 * s2


def rms(x: list[int]) -> float:
    return math.sqrt(sum(v * v for v in x) / len(x)) if x else 0.0


def dominant(x: list[int], rate: int, lo: float = 100, hi: float = 2000) -> float:
    """The strongest frequency in [lo, hi] Hz, to about 1 Hz."""
    x = x[: rate // 2]  # half a second is plenty for steady tones
    coarse = max(range(int(lo), int(hi) + 1, 10), key=lambda f: power(x, rate, f))
    return max((coarse + d / 2 for d in range(-24, 25)), key=lambda f: power(x, rate, f))
