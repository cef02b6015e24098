"""Who makes a change: a customer's user, a staff member or the system (convention 13).

Every service that changes something takes one `Actor`: it says whom to audit, from
which address, and where side effects go (engine reloads on Redis, files under
data_dir) — so services need no Flask request to know any of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Actor:
    user: object = None  # webapp.models.User for a customer's user
    ip: str | None = None
    redis_url: str = ""
    engine_shard: int = 0  # the account's shard (SCALE-1)
    data_dir: Path = field(default_factory=lambda: Path("var"))
    staff: object = None  # webapp.models.StaffUser for the back office
    engine_redis_url: str = ""  # ENGINE_REDIS_URL; empty: redis_url

    @property
    def engine_url(self) -> str:
        """Where the engine's streams are (`acd:{N}:…`): ENGINE_REDIS_URL."""
        return self.engine_redis_url or self.redis_url

    @classmethod
    def system(cls, redis_url: str = "", engine_shard: int = 0,
               data_dir: Path | None = None) -> Actor:
        """Scheduled jobs and commands: no person, no address."""
        return cls(None, None, redis_url, engine_shard, data_dir or Path("var"))

    @classmethod
    def visitor(cls, ip: str | None, redis_url: str = "", data_dir: Path | None = None,
                engine_redis_url: str = "") -> Actor:
        """Someone not signed in yet (sign-in, password link, e-mail confirmation)."""
        return cls(None, ip, redis_url, 0, data_dir or Path("var"),
                   engine_redis_url=engine_redis_url)

    @property
    def kind(self) -> str:
        if self.staff is not None:
            return "staff"
        if self.user is not None:
            return "user"
        return "visitor" if self.ip else "system"

    @property
    def account_id(self) -> int:
        return self.user.account_id
