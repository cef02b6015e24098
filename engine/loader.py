"""Where the engine and the simulator get their configuration document.

With `--config` it is that JSON file; without, the web side's builder
(`webapp.services.engine_config.build_document`, the database's tables). The web
side is an optional dependency: an engine given a file runs without it installed.

`DocumentSource` is that choice as a small picklable value: the engine reads the
document through it at start, and the helper process of whole reloads
(`engine/prepare.py`) reads it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from engine.config import ConfigError, parse
from engine.model import Config


def builder() -> Callable[..., dict]:
    try:
        from webapp.services.engine_config import build_document  # optional (see above)
    except ImportError as exc:
        raise SystemExit(
            "engine: no --config given and webapp.services.engine_config.build_document "
            f"cannot be imported ({exc}); pass --config engine/demo_config.json") from exc
    return build_document


class DocumentSource:
    """The whole document of one shard, as decoded JSON: the file at `path`, else the web
    side's builder for the accounts of `shard`."""

    def __init__(self, path: str | None, shard: int = 0) -> None:
        self.path, self.shard = path or None, shard
        if self.path is None:
            builder()  # fail at start, with the message, rather than at the first reload

    def raw(self) -> Any:
        if self.path is None:
            return builder()(shard=self.shard)
        try:
            return orjson.loads(Path(self.path).read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError([f"{self.path}: cannot read JSON ({exc})"]) from exc

    def config(self) -> Config:
        return parse(self.raw())


def config_loader(path: str | None, shard: int = 0) -> Callable[[], Config]:
    """The file when given, else the web side's builder for this shard's accounts only."""
    return DocumentSource(path, shard).config


def numbers_loader(path: str | None, shard: int = 0
                   ) -> Callable[[list[str]], Config] | None:
    """For scoped reloads: the builder asked for those welcome numbers only (and the
    lines they name); None in file mode, where every reload reads the whole file."""
    if path:
        return None
    build_document = builder()
    return lambda numbers: parse(build_document(shard=shard, numbers=numbers))
