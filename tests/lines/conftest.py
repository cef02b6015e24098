"""Fixtures of the line-settings tests (LINE-1..3, WN-5): demo ids, other visitors, files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Path:
    return Path(os.environ["DATA_DIR"])


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} \
        if root.exists() else set()


@pytest.fixture
def actor(demo, db_conn, redis_url, data_dir):
    """The demo administrator as the author of service-level changes."""
    from webapp.models import User
    from webapp.services.actor import Actor

    user = User.get(User.email == demo.admin_email)
    return Actor(user, "127.0.0.1", redis_url, 0, data_dir)


def engine_events(redis_conn, shard: int = 0) -> list[dict[str, str]]:
    """Entries of the engine's input stream, decoded."""
    return [{k.decode(): v.decode() for k, v in fields.items()}
            for _, fields in redis_conn.xrange(f"acd:{{{shard}}}:in")]
