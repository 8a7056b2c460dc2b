"""Run every benchmark, one after the other, and print the targets met or missed at the end.

    .venv/bin/python bench/run.py [--quick]

Each benchmark prints its own table, with its baseline measured in the same run; the
lines naming a target (PASS/FAIL) are gathered into the summary. --quick runs smaller
sizes, to check the benchmarks work (its figures are not the ones to quote). Run it on an
otherwise idle machine: the figures are medians and ratios, but a busy core still shows.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = [  # (script, full-size arguments, --quick arguments)
    ("throughput.py", [], ["--users", "60"]),
    ("scale.py", [], ["--quick"]),
    ("nudges.py", [], ["--users", "10000", "--same-minute", "1000"]),
    ("peak.py", [], ["--quick"]),
    ("lookups.py", [], ["--quick"]),
    ("step_cost.py", [], ["--users", "300", "--rounds", "2"]),
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.platform()}")
    summary: list[tuple[str, str]] = []
    failed = False
    for script, full, quick in BENCHMARKS:
        command = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        print(f"\n== {script} {' '.join(command[2:])}", flush=True)
        started = time.monotonic()
        result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        print(result.stdout, end="")
        print(f"({time.monotonic() - started:.0f} s)")
        if result.returncode:
            failed = True
            summary.append((script, f"exited with {result.returncode}"))
        summary += [(script, line.strip()) for line in result.stdout.splitlines()
                    if "PASS" in line or "FAIL" in line]
    print("\n== targets")
    for script, line in summary:
        print(f"{script:<14} {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
