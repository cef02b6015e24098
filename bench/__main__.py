"""`python -m bench` (`make bench`): every benchmark in turn, each printing its ratios."""

from __future__ import annotations

import runpy
import sys

BENCHMARKS = ["bench.engine", "bench.directory", "bench.directory_csv", "bench.switchboard_sse",
              "bench.pages", "bench.pbx", "bench.streams"]


def main() -> None:
    for name in BENCHMARKS:
        print(f"\n===== {name} =====", flush=True)
        sys.argv = [name]
        runpy.run_module(name, run_name="__main__")


if __name__ == "__main__":
    main()
