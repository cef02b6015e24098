"""Phone numbers: French ways of typing them in, E.164 stored (docs/protocol.md: numbers are E.164).

Accepted: "01 23 45 67 89", "01.23.45.67.89", "0123456789", "+33 1 23 45 67 89",
"+33 (0)1 23 45 67 89", "0033 1 23 45 67 89", and any international number written
with "+" or "00" (8 to 15 digits, E.164). Short numbers and extensions are refused.
"""

from __future__ import annotations

import re

from webapp.i18n import _

INVALID_MESSAGE = (_("Numéro non valide : saisissez un numéro français à 10 chiffres "
                   "(ex. 01 23 45 67 89) ou un numéro international commençant par +."))

_SEPARATORS = re.compile(r"[\s.\-/()\u00a0\u202f]")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def normalize(raw: str | None) -> str | None:
    """The E.164 form of `raw`, or None when it is not a usable phone number."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    text = text.replace("(0)", "")
    text = _SEPARATORS.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    if re.fullmatch(r"0[1-9][0-9]{8}", text):
        text = "+33" + text[1:]
    if text.startswith("+33"):
        national = text[3:]
        if national.startswith("0"):  # "+33 0 1 23…": a common slip
            national = national[1:]
        if not re.fullmatch(r"[1-9][0-9]{8}", national):
            return None
        return "+33" + national
    if _E164.fullmatch(text):
        return text
    return None


def is_e164(value: str | None) -> bool:
    return bool(value) and bool(_E164.fullmatch(value))


def display(e164: str | None) -> str:
    """French reading of a stored number: "+33123456789" → "01 23 45 67 89"."""
    if not e164:
        return ""
    if e164.startswith("+33") and len(e164) == 12:
        national = "0" + e164[3:]
        return " ".join(national[i:i + 2] for i in range(0, 10, 2))
    return e164
