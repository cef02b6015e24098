"""The configuration's lookups the state machine needs (which queues a line serves, its
rests, who may be picked in a queue, what a number's snapshot lists), pure.

Derived from a `Config` number by number, so that a reload of a few numbers updates
only their entries (`update`), whatever the size of the shard, and a whole new
document can be indexed away from the hot path (`Layout(config)` in a thread) and
swapped in at once. No I/O, no project import outside the pure core.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.model import QUEUE, Config, NumberCfg

Queue = tuple[str, str]  # (welcome number, queue profile name)


class Layout:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.line_queues: dict[str, list[Queue]] = {}
        self.line_queue_rests: dict[str, list[tuple[Queue, int]]] = {}
        self.line_rests: dict[str, set[int]] = {}
        self.line_numbers: dict[str, set[str]] = {}
        self.number_lines: dict[str, list[str]] = {}
        self.number_rest: dict[tuple[str, str], tuple[tuple[str, int], ...]] = {}
        # per queue: (position, line, priority, weight) of the agents whose line
        # accepts queue calls
        self.pickable: dict[Queue, tuple[tuple[int, str, int, int], ...]] = {}
        # snapshot() per number: (line, (queue, rest ms) of the number's queues that have
        # the line, accepts?): Q-8, each queue its own rest (engine/snapshot.py)
        self.number_views: dict[str, list[tuple[str, tuple[tuple[str, int], ...], bool]]] = {}
        self.number_queues: dict[str, list[Queue]] = {}
        for num in config.numbers.values():
            self._add(num)

    def accepts(self, line: str) -> bool:
        cfg = self.config.lines.get(line)
        return cfg is None or cfg.accept_queue_calls

    def update(self, config: Config, numbers: Iterable[str]) -> None:
        """Adopt `config`, in which only `numbers` changed (sections added, replaced or
        removed, or the lines they name): their entries are rebuilt, nothing else."""
        self.config = config
        for number in numbers:
            self._remove(number)
            num = config.numbers.get(number)
            if num is not None:
                self._add(num)

    def lines_of(self, number: str) -> list[str]:
        return self.number_lines.get(number, [])

    def _add(self, num: NumberCfg) -> None:
        n = num.number
        lines: list[str] = []
        queues: list[Queue] = []
        for prof in num.profiles.values():
            if prof.type == QUEUE:
                q = (n, prof.name)
                queues.append(q)
                self.pickable[q] = tuple((i, a.line, a.priority, a.weight)
                                         for i, a in enumerate(prof.agents)
                                         if self.accepts(a.line))
                plines = [a.line for a in prof.agents]
            else:
                plines = list(prof.lines)
            for line in plines:
                if line not in lines:
                    lines.append(line)
                self.line_numbers.setdefault(line, set()).add(n)
                if prof.type == QUEUE:
                    self.line_queues.setdefault(line, []).append((n, prof.name))
                    self.line_queue_rests.setdefault(line, []).append(
                        ((n, prof.name), prof.rest_s))
                    self.line_rests.setdefault(line, set()).add(prof.rest_s)
                    key = (n, line)
                    self.number_rest[key] = (*self.number_rest.get(key, ()),
                                             (prof.name, prof.rest_s * 1000))
        self.number_lines[n] = lines
        self.number_queues[n] = queues
        self.number_views[n] = [(line, self.number_rest.get((n, line), ()), self.accepts(line))
                                for line in lines]

    def _remove(self, n: str) -> None:
        for line in self.number_lines.pop(n, ()):
            numbers = self.line_numbers.get(line)
            if numbers is not None:
                numbers.discard(n)
                if not numbers:
                    del self.line_numbers[line]
            self.number_rest.pop((n, line), None)
            queues = [q for q in self.line_queues.get(line, ()) if q[0] != n]
            rests = [qr for qr in self.line_queue_rests.get(line, ()) if qr[0][0] != n]
            if queues:
                self.line_queues[line] = queues
                self.line_queue_rests[line] = rests
                self.line_rests[line] = {rest for _, rest in rests}
            else:
                self.line_queues.pop(line, None)
                self.line_queue_rests.pop(line, None)
                self.line_rests.pop(line, None)
        for q in self.number_queues.pop(n, ()):
            self.pickable.pop(q, None)
        self.number_views.pop(n, None)


def changed_numbers(old: Config, new: Config) -> set[str]:
    """The numbers whose section differs between two documents, or that name a line whose
    settings (`lines`) differ: what a whole reload really changes."""
    changed = {n for n, num in new.numbers.items() if old.numbers.get(n) != num}
    changed.update(n for n in old.numbers if n not in new.numbers)
    lines = {line for line, cfg in new.lines.items() if old.lines.get(line) != cfg}
    lines.update(line for line in old.lines if line not in new.lines)
    if lines:
        for config in (old, new):
            for n, num in config.numbers.items():
                if n not in changed and any(line in lines for line in _named(num)):
                    changed.add(n)
    return changed


def _named(num: NumberCfg) -> list[str]:
    return [a.line for p in num.profiles.values() for a in p.agents] + [
        line for p in num.profiles.values() for line in p.lines]


def merge(config: Config, partial: Config, numbers: Iterable[str]
          ) -> tuple[Config, set[str], set[str]]:
    """`config` with the sections of `numbers` taken from `partial` (a document built for
    those numbers only: a number absent from it is gone) and the settings of the lines
    they name; returns it, the numbers and the lines whose settings changed."""
    listed = list(dict.fromkeys(numbers))
    sections = dict(config.numbers)
    named: set[str] = set()
    for n in listed:
        num = partial.numbers.get(n)
        if num is None:
            sections.pop(n, None)
        else:
            sections[n] = num
            named.update(_named(num))
    lines = dict(config.lines)
    changed_lines = set()
    for line in named:
        cfg = partial.lines.get(line)
        if cfg != lines.get(line):
            changed_lines.add(line)
            if cfg is None:
                lines.pop(line, None)
            else:
                lines[line] = cfg
    merged = Config(config.timezone, lines, sections)
    return merged, set(listed), changed_lines
