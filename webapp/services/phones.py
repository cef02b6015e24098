"""Phone numbers (UI-2): one normaliser, on Google's `phonenumbers`, for every form, import,
search, the engine's validator and display.

Stored form: E.164 ("+33123456789", PROTOCOL: numbers are E.164). Accepted input: any
French habit ("01 23 45 67 89", "01.23.45.67.89", "+33 (0)1 23 45 67 89",
"0033 1 23 45 67 89") and any international number written with "+" or "00".
Displayed form: French national format ("01 23 45 67 89"); numbers of other countries in
international format ("+44 20 7946 0958").
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberFormat

from webapp.i18n import _
from webapp.services.errors import FormError

REGION = "FR"
INVALID_MESSAGE = _("Numéro non valide : saisissez un numéro français à 10 chiffres "
                     "(ex. 01 23 45 67 89) ou un numéro international commençant par +.")

_PHONE_CHARS = re.compile(r"^[\s0-9+().\-/\u00a0\u202f]+$")


@lru_cache(maxsize=4096)
def normalize(raw: str | None) -> str | None:
    """The E.164 form of `raw`, or None when it is not a possible phone number."""
    if raw is None:
        return None
    text = raw.strip()
    if not text or not _PHONE_CHARS.match(text) or sum(c in "0123456789" for c in text) < 4:
        return None
    try:
        number = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number) or (
            number.country_code == 33 and len(str(number.national_number)) != 9):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def checked(raw: str | None, field: str, values: dict | None = None, *,
            required: bool = False) -> str | None:
    """What a person typed in `field`, as E.164; None when nothing was typed (and the field
    is optional); FormError (`INVALID_MESSAGE` on `field`, `values` kept) otherwise.

    `normalize` stays the parser (None: not a phone number, e.g. a name typed in a
    search); forms refuse through this."""
    text = (raw or "").strip()
    number = normalize(text) if text else None
    if number is None and (text or required):
        raise FormError({field: INVALID_MESSAGE}, values)
    return number


def is_e164(value: str | None) -> bool:
    """True when `value` is already a stored-form number (what the engine accepts)."""
    return bool(value) and value.startswith("+") and normalize(value) == value


@lru_cache(maxsize=4096)
def display(e164: str | None) -> str:
    """How a stored number reads on screen: "+33123456789" → "01 23 45 67 89"."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, REGION)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 33:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def search_tokens(e164: str | None) -> str:
    """What a stored number contributes to a search column: its E.164 digits and its
    national digits, so "0123", "+33 1 23" and "33123" all find it ("+33123456789 0123456789")."""
    if not e164:
        return ""
    national = re.sub(r"\D", "", display(e164))
    return f"{e164} {national}"


def search_fragment(text: str) -> str | None:
    """The digits to look for when `text` is (part of) a phone number typed any way, or None.

    A complete number becomes its E.164 form (exact: "01 00 00 01 07" finds that number
    only); a partial one its digits as typed ("01 23" → "0123", "+33 1" → "+331")."""
    text = (text or "").strip()
    if not text or not _PHONE_CHARS.match(text):
        return None
    full = normalize(text)
    if full:
        return full
    text = text.replace("(0)", "")
    digits = re.sub(r"[^\d+]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if len(digits.lstrip("+")) < 2 or "+" in digits[1:]:
        return None
    return digits
