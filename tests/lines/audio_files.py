"""Audio files made by the tests themselves (stdlib `wave`; MP3 frames built by hand)."""

from __future__ import annotations

import io
import math
import struct
import wave


def wav_bytes(seconds: float = 1.0, rate: int = 8000, tone: float = 440.0) -> bytes:
    """A mono 16-bit PCM WAV of `seconds` of a sine tone."""
    frames = int(seconds * rate)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"".join(
            struct.pack("<h", int(12000 * math.sin(2 * math.pi * tone * i / rate)))
            for i in range(frames)))
    return buffer.getvalue()


def mp3_bytes(frames: int = 100, id3: bool = True) -> bytes:
    """MPEG-1 layer III, 128 kbit/s, 44.1 kHz frames (1152 samples each) of silence.

    100 frames = 100 × 1152 / 44100 s ≈ 2.612 s. Not meant to sound like anything:
    the app checks structure and duration, the browser test plays WAV.
    """
    header = bytes([0xFF, 0xFB, 0x90, 0x00])  # sync, MPEG1 L3 no CRC, 128k, 44.1k, no pad
    length = 144 * 128000 // 44100  # 417 bytes
    frame = header + bytes(length - 4)
    tag = b""
    if id3:
        body = b"TIT2" + (6).to_bytes(4, "big") + b"\x00\x00" + b"\x00Test\x00"
        size = len(body)
        syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F,
                          size & 0x7F])
        tag = b"ID3\x03\x00\x00" + syncsafe + body
    return tag + frame * frames
