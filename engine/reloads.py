"""Configuration changes applied to a live state machine (docs/requirements.md SCALE-2), pure.

A mixin of `engine.state.State`: a whole new document or the sections of a few
numbers are adopted without stopping anything, and what they imply for the calls
and agents of those numbers only (a waiting call whose queue vanished is routed
again, a rest delay new to a line starts from its last call's end) is done here.
What changed costs what it touches, whatever the size of the shard.
"""

from __future__ import annotations

from operator import attrgetter

from engine.entities import Output, Status
from engine.layout import Layout, changed_numbers, merge
from engine.model import QUEUE, Config, route

_seq_of = attrgetter("seq")


class Reloads:
    """`config.reload`, whole or scoped (docs/protocol.md)."""

    def reload(self, config: Config, now: int, changed: set[str] | None = None,
               layout: Layout | None = None) -> Output:
        """Adopt a whole new document. Only the numbers whose section changed (or that
        name a line whose settings changed) are touched: `changed`, computed here when
        not given; `layout`, that document's lookups when built elsewhere (off the hot
        path), else the current ones are updated for those numbers only. Waiting calls
        whose queue vanished are routed again."""
        self._advance(now)
        if changed is None:
            changed = changed_numbers(self.config, config)
        old_rests = self._line_rests_of(changed)
        if layout is None:
            self.layout.update(config, changed)
            layout = self.layout
        self._adopt(layout)
        return self._after_change(changed, old_rests)

    def reload_numbers(self, partial: Config, numbers: list[str], now: int) -> Output:
        """Scoped reload (docs/protocol.md `config.reload` with `numbers`): `partial` holds the
        sections of those numbers (one missing is gone) and the lines they name; the
        rest of the document stays as it is. Costs what those numbers cost."""
        self._advance(now)
        config, listed, lines = merge(self.config, partial, numbers)
        changed = listed | {n for line in lines for n in self.line_numbers.get(line, ())}
        old_rests = self._line_rests_of(changed)
        self.layout.update(config, changed)
        self._adopt(self.layout)
        return self._after_change(changed, old_rests)

    def _line_rests_of(self, numbers: set[str]) -> dict[str, set[int]]:
        return {line: set(self.line_rests.get(line, ())) for n in numbers
                for line in self.number_lines.get(n, ())}

    def _after_change(self, changed: set[str], old_rests: dict[str, set[int]]) -> Output:
        """What a configuration change of `changed` numbers implies for the live state."""
        config = self.config
        calls = sorted((self.calls[cid] for n in changed for cid in self.by_number.get(n, ())),
                       key=_seq_of)
        for call in calls:
            if call.id not in self.calls:
                continue
            num = config.numbers.get(call.number)
            prof = num.profiles.get(call.profile) if num else None
            if call.status == Status.WAITING and (prof is None or prof.type != QUEUE):
                self._unwait(call)
                if num is None:
                    self._close(call, "unknown_number")
                else:
                    self._enter(call, route(config, num, self.now))
        # a rest delay new to a line starts counting from its last call's end
        lines = set(old_rests).union(*(self.number_lines.get(n, ()) for n in changed))
        for line in sorted(lines):
            agent = self.agents.get(line)
            if agent is None or agent.last_end is None:
                continue
            for rest in sorted(self.line_rests.get(line, set()) - old_rests.get(line, set())):
                due = agent.last_end + rest * 1000
                if rest and due > self.now:
                    self._push_timer(due, agent.rest_tseq, "rest", line)
        for n in changed:
            self._touched.update(self.layout.number_queues.get(n, ()))
        self.dirty_numbers.update(n for n in changed if n in config.numbers)
        self._dispatch()
        return self._flush()
