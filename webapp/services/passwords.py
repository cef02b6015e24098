"""ACC-4: password policy and hashing (argon2id, no composition rules)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from webapp.i18n import _
from webapp.services.errors import FormError

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# Verified for unknown e-mails so that both answers cost the same time (ACC-6).
_DUMMY_HASH = _hasher.hash("pas-un-vrai-mot-de-passe")


def _in_place(fn: Callable, *args):
    return fn(*args)


# How an argon2 computation runs. In place by default; the gevent web worker
# (webapp/serving.py) hands it to its hub's thread pool instead: argon2 releases the GIL,
# so the ~100 ms of a verification run beside the event loop rather than freezing every
# greenlet of the worker — open switchboard streams, other sign-ins (SEC-4).
_run: Callable = _in_place


def run_hashing_with(runner: Callable) -> None:
    """`runner(fn, *args)` returns `fn(*args)` (or raises what it raises), wherever it
    runs it."""
    global _run
    _run = runner


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords shipped with zxcvbn (a maintained list)."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str, field: str = "password") -> None:
    """Raises FormError({field: why}) when `password` is refused (too short, too long,
    too common); returns when it is acceptable."""
    if len(password) < MIN_LENGTH:
        raise FormError({field: _("Le mot de passe doit contenir au moins %(min_length)s "
                                  "caractères.", min_length=MIN_LENGTH)})
    if len(password) > MAX_LENGTH:
        raise FormError({field: _("Le mot de passe ne peut pas dépasser %(max_length)s "
                                  "caractères.", max_length=MAX_LENGTH)})
    if password.lower() in common_passwords() or len(set(password)) <= 2:
        raise FormError({field: _("Ce mot de passe est trop courant : choisissez-en un autre, "
                                  "par exemple une phrase.")})


def hash_password(password: str) -> str:
    return _run(_hasher.hash, password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant-work check: an absent hash still costs one argon2 verification."""
    try:
        matches = _run(_hasher.verify, stored_hash or _DUMMY_HASH, password)
        return matches and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
