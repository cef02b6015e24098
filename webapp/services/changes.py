"""What every settings change carries: who and from where (audit), whom to tell (engine),
and how a refused form comes back (French message per field, typed values kept)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class FormError(ValueError):
    """A refused form: `errors` maps field names to French messages; nothing was written."""

    def __init__(self, errors: dict[str, str], values: dict | None = None) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.values = values or {}


@dataclass(frozen=True)
class Actor:
    """The person making a change, and where side effects go (no Flask in services)."""

    user: object
    ip: str | None
    redis_url: str
    engine_shard: int = 0
    data_dir: Path = field(default_factory=lambda: Path("var"))

    @property
    def account_id(self) -> int:
        return self.user.account_id
