"""Run every benchmark script in bench/ and print one table of their summary lines.

Each script prints its details first and ends with summary lines of the form
``NAME: value (ratio vs floor)``; this runner collects those trailing lines into one
table. A script that fails gets a FAILED row (its output above says why), the others
still run, and the runner exits with status 1.

    python bench/run_all.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SUMMARY = re.compile(r"^(?P<name>[a-z][a-z0-9_]*): (?P<figure>.+)$")


def summary_lines(output: str) -> list[tuple[str, str]]:
    """The trailing ``NAME: figure`` lines of a script's output, in order."""
    found: list[tuple[str, str]] = []
    for line in reversed(output.rstrip().splitlines()):
        match = SUMMARY.match(line.rstrip())
        if match is None:
            break
        found.append((match["name"], match["figure"]))
    return list(reversed(found))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="script stems to run")
    args = parser.parse_args()
    scripts = sorted(p for p in BENCH.glob("*.py") if p.name != Path(__file__).name)
    if args.only:
        scripts = [p for p in scripts if p.stem in args.only]
    rows: list[tuple[str, str]] = []
    failed = 0
    for script in scripts:
        print(f"== {script.relative_to(BENCH.parent)}", flush=True)
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=False
        )
        print(done.stdout, end="", flush=True)
        lines = summary_lines(done.stdout) if done.returncode == 0 else []
        if done.returncode != 0:
            print(done.stderr, end="", file=sys.stderr)
            rows.append((script.stem, f"FAILED (exit status {done.returncode}, see above)"))
        elif not lines:
            rows.append((script.stem, "FAILED (no summary line 'NAME: value (ratio)')"))
        rows += lines
        failed += not lines
    width = max(len(name) for name, _ in rows)
    print("\n| benchmark | figure (ratio vs floor, same run) |\n|---|---|")
    for name, figure in rows:
        print(f"| {name:<{width}} | {figure} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
