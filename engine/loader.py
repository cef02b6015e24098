"""Where the engine and the simulator get their configuration document.

With `--config` it is that JSON file; without, the web side's builder
(`webapp.services.engine_config.build_document`, the database's tables). The web
side is an optional dependency: an engine given a file runs without it installed.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.config import load_file, parse
from engine.model import Config


def config_loader(path: str | None, shard: int = 0) -> Callable[[], Config]:
    """The file when given, else the web side's builder for this shard's accounts only."""
    if path:
        return lambda: load_file(path)
    try:
        from webapp.services.engine_config import build_document  # optional (see above)
    except ImportError as exc:
        raise SystemExit(
            "engine: no --config given and webapp.services.engine_config.build_document "
            f"cannot be imported ({exc}); pass --config engine/demo_config.json") from exc
    return lambda: parse(build_document(shard=shard))


def numbers_loader(path: str | None, shard: int = 0
                   ) -> Callable[[list[str]], Config] | None:
    """For scoped reloads: the builder asked for those welcome numbers only (and the
    lines they name); None in file mode, where every reload reads the whole file."""
    if path:
        return None
    from webapp.services.engine_config import build_document  # optional (see above)

    return lambda numbers: parse(build_document(shard=shard, numbers=numbers))
