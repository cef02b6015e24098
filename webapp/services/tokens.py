"""Random secrets and their server-side digests (codes, links, trust cookies)."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """SHA-256 of a high-entropy token: enough, since it cannot be guessed."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_digest(secret_key: str, attempt: str, code: str) -> str:
    """Keyed digest of a 6-digit code, bound to its sign-in attempt (TFA-2)."""
    return hmac.new(secret_key.encode(), f"{attempt}:{code}".encode(), hashlib.sha256).hexdigest()
