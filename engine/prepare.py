"""Whole-document reloads prepared off the hot path (SCALE-2: at most 150 ms held back).

A 5,000-number document is megabytes of JSON. Decoding it holds the interpreter for
tens to hundreds of milliseconds whichever thread does it (the decoder never lets go
of the GIL), and parsing it object by object longer still: a thread would stall the
events as surely as doing it inline. So the engine hands the reading to one helper
process (`spawn`: nothing of the engine's heap is copied), which reads the document
(the file, or the web side's builder: `engine.loader.DocumentSource`), decodes it,
compares each welcome number's section and each group of line settings with the
digests of what the engine runs, checks the ones that differ with the same
`engine.config` rules and sends back only those, as JSON. The engine then parses
those few sections and swaps them in between two batches (`State.reload` with the
numbers that changed): its own pause is what changed costs, not the document's size.

Ordering: the swap happens between two batches, all at once; the events before it
were handled with the previous document, every event after it with the new one. A
scoped reload handled meanwhile is applied again after the swap (it is as fresh as
the document or fresher), and whole reloads asked for meanwhile are coalesced into
one more preparation. An engine given a plain callable instead of a source (tests)
prepares in a thread, with the same swap.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import threading
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import orjson

from engine.config import ConfigError, parse
from engine.layout import changed_numbers
from engine.loader import DocumentSource, builder
from engine.model import Config

LINE_GROUPS = 256  # line settings are compared in groups (a shard may have 50,000 lines)

Digests = dict[str, dict]  # {"numbers": {number: digest}, "lines": {group: digest}}


def _digest(value: Any) -> bytes:
    return hashlib.blake2b(orjson.dumps(value), digest_size=16).digest()


def _line_group(line: str) -> str:
    return str(zlib.crc32(line.encode()) % LINE_GROUPS)


def _groups(lines: dict) -> dict[str, dict]:
    groups: dict[str, dict] = {}
    for line in sorted(lines):
        groups.setdefault(_line_group(line), {})[line] = lines[line]
    return groups


def digests(doc: Any) -> Digests:
    """What a document's sections are, compactly: what the helper compares against."""
    if not isinstance(doc, dict):
        return {"numbers": {}, "lines": {}}
    numbers = doc.get("numbers")
    lines = doc.get("lines")
    return {"numbers": {n: _digest(s) for n, s in numbers.items()}
            if isinstance(numbers, dict) else {},
            "lines": {g: _digest(v) for g, v in _groups(lines).items()}
            if isinstance(lines, dict) else {}}


def changes(source: DocumentSource, known: Digests) -> tuple[bytes, Digests, list[str],
                                                                list[str]]:
    """In the helper: read the document, keep what differs from `known`.

    Returns (a JSON document holding the timezone, the changed number sections and the
    line settings of the changed groups; their new digests; the numbers gone; the line
    groups gone). Raises ConfigError (every faulty path) when the document is invalid:
    an unchanged section was valid when the engine adopted it, a changed one is
    checked here."""
    doc = source.raw()
    if not isinstance(doc, dict) or not isinstance(doc.get("numbers"), dict) or not \
            isinstance(doc.get("lines", {}), dict):
        parse(doc)  # raises, naming the faulty path
        raise ConfigError(["(document): not a configuration document"])
    numbers, groups = doc["numbers"], _groups(doc.get("lines", {}))
    new: Digests = {"numbers": {}, "lines": {}}
    partial = {"timezone": doc.get("timezone", "Europe/Paris"), "lines": {}, "numbers": {}}
    for n, section in numbers.items():
        d = _digest(section)
        if known["numbers"].get(n) != d:
            partial["numbers"][n] = section
            new["numbers"][n] = d
    for g, entries in groups.items():
        d = _digest(entries)
        if known["lines"].get(g) != d:
            partial["lines"].update(entries)
            new["lines"][g] = d
    parse(partial)  # the changed sections' checks (raises ConfigError)
    gone = [n for n in known["numbers"] if n not in numbers]
    gone_groups = [g for g in known["lines"] if g not in groups]
    return orjson.dumps(partial), new, gone, gone_groups


class Prepared:
    """A ready whole document: the config, the numbers that changed from the base."""

    def __init__(self, config: Config, changed: set[str], digests: Digests | None) -> None:
        self.config, self.changed, self.digests = config, changed, digests


class Preparing:
    """One whole reload being prepared; `ready()` polls, `result()` gives it (or raises)."""

    def __init__(self) -> None:
        self.scoped: set[str] = set()  # numbers reloaded one by one meanwhile

    def ready(self) -> bool:
        raise NotImplementedError

    def wait(self) -> None:
        raise NotImplementedError

    def result(self, base: Config, layout_lines: dict[str, set[str]]) -> Prepared:
        raise NotImplementedError


class InThread(Preparing):
    """A plain `load() -> Config` run in a thread (engines built without a source)."""

    def __init__(self, load: Callable[[], Config], base: Config) -> None:
        super().__init__()
        self._done = threading.Event()
        self._out: tuple[Config, set[str]] | Exception | None = None
        threading.Thread(target=self._run, args=(load, base), name="engine-reload",
                         daemon=True).start()

    def _run(self, load: Callable[[], Config], base: Config) -> None:
        gc.disable()  # no collection over the whole heap meanwhile
        try:
            config = load()
            self._out = (config, changed_numbers(base, config))
        except Exception as exc:  # ConfigError, database...: logged by the engine
            self._out = exc
        finally:
            gc.enable()
            self._done.set()

    def ready(self) -> bool:
        return self._done.is_set()

    def wait(self) -> None:
        self._done.wait()

    def result(self, base: Config, layout_lines: dict[str, set[str]]) -> Prepared:
        if isinstance(self._out, Exception):
            raise self._out
        assert self._out is not None
        config, changed = self._out
        return Prepared(config, changed, None)


def warm(source: DocumentSource) -> None:
    """In the helper, at start: import what reading the document needs."""
    if source.path is None:
        builder()  # the web side's builder and its models


class Helper:
    """The helper process, started with the engine (`start`: its interpreter's start and
    imports cost nothing to a reload) and kept; a new one if it dies."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def start(self, source: DocumentSource) -> None:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            self._pool.submit(warm, source)

    def submit(self, source: DocumentSource, known: Digests) -> Future:
        self.start(source)
        assert self._pool is not None
        try:
            return self._pool.submit(changes, source, known)
        except RuntimeError:  # the helper died (BrokenProcessPool): a new one
            self._pool = None
            self.start(source)
            return self._pool.submit(changes, source, known)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class InHelper(Preparing):
    """A whole reload read and compared by the helper process."""

    def __init__(self, helper: Helper, source: DocumentSource, known: Digests) -> None:
        super().__init__()
        self._known = {"numbers": dict(known["numbers"]), "lines": dict(known["lines"])}
        self._future = helper.submit(source, self._known)  # a copy: pickled later, elsewhere

    def ready(self) -> bool:
        return self._future.done()

    def wait(self) -> None:
        self._future.result()

    def result(self, base: Config, layout_lines: dict[str, set[str]]) -> Prepared:
        """The new document: `base` with the helper's changed sections; `layout_lines`
        (line -> the numbers naming it) finds the numbers a changed line touches."""
        blob, new, gone, gone_groups = self._future.result()  # raises ConfigError
        partial = parse(orjson.loads(blob))
        numbers = dict(base.numbers)
        numbers.update(partial.numbers)
        for n in gone:
            numbers.pop(n, None)
        lines = dict(base.lines)
        changed_lines = {line for line, cfg in partial.lines.items()
                         if lines.get(line) != cfg}
        dropped = set(gone_groups) | set(new["lines"])
        if dropped:  # a line of a changed group that is no longer there is gone
            for line in [li for li in lines if li not in partial.lines
                         and _line_group(li) in dropped]:
                del lines[line]
                changed_lines.add(line)
        lines.update(partial.lines)
        config = Config(partial.timezone, lines, numbers)
        changed = {n for n, num in partial.numbers.items() if base.numbers.get(n) != num}
        changed.update(n for n in gone if n in base.numbers)
        changed.update(n for line in changed_lines for n in layout_lines.get(line, ()))
        known = {"numbers": {**self._known["numbers"], **new["numbers"]},
                 "lines": {**self._known["lines"], **new["lines"]}}
        for n in gone:
            known["numbers"].pop(n, None)
        for g in gone_groups:
            known["lines"].pop(g, None)
        return Prepared(config, changed, known)


def forget(known: Digests, numbers: Iterable[str], lines: Iterable[str]) -> None:
    """Scoped reloads changed these sections: compare them afresh next time."""
    for n in numbers:
        known["numbers"].pop(n, None)
    for line in lines:
        known["lines"].pop(_line_group(line), None)
