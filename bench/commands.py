"""`compile-rules` from the command line on the shipped tables, each run a fresh
process, with the compile cache warm and with it off (`COMPILE_RULES_CACHE=off`:
every run compiles, as every run did before the cache), beside the floor of a bare
Python start-up, in turns (A B A B ...), so that a drift of the shared machine's
speed touches both alike.

    python -m bench.commands            # 7 rounds; `python -m bench` runs it too
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.__main__ import cli, run_measured

EVAL = (
    "eval",
    "imaging_guideline_set",
    "age_years=17",
    "condition_in_pediatric_guidelines=true",
)


def commands(out: Path) -> dict[str, list[str]]:
    return {
        "check": cli("check", "-q", "--out", out),
        "compile, unchanged": cli("compile", "-q", "--out", out),
        "eval": cli(*EVAL),
        "explain": cli("explain", *EVAL[1:]),
    }


def measure(rounds: int) -> dict[str, Any]:
    """Median and min wall seconds of each command with the cache warm and off, and
    of `python -c pass`, over ROUNDS rounds."""
    floor: list[float] = []
    times: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as tmp:
        out = Path(tmp) / "generated"
        warm = {**os.environ, "COMPILE_RULES_CACHE": str(Path(tmp) / "cache")}
        off = {**os.environ, "COMPILE_RULES_CACHE": "off"}
        _, _, code = run_measured(cli("compile", "-q", "--out", out), warm)
        assert code == 0, f"compile exited {code}"
        for _ in range(rounds):
            floor.append(run_measured([sys.executable, "-c", "pass"])[0])
            for name, args in commands(out).items():
                for mode, env in (("cached", warm), ("off", off)):
                    wall, _, code = run_measured(args, env)
                    assert code == 0, f"{name} ({mode}) exited {code}"
                    times.setdefault(name, {}).setdefault(mode, []).append(wall)
    found: dict[str, Any] = {
        "python_start_s": statistics.median(floor),
        "rounds": rounds,
    }
    for name, modes in times.items():
        found[name] = {
            f"{mode}_{what}": f(values)
            for mode, values in modes.items()
            for what, f in (("median_s", statistics.median), ("min_s", min))
        }
        found[name]["ratio"] = statistics.median(
            a / b for a, b in zip(modes["off"], modes["cached"], strict=True)
        )
    return found


def report(found: dict[str, Any]) -> list[str]:
    lines = [
        "`compile-rules` on the shipped tables (unchanged), each run a fresh process "
        f"(imports included), {found['rounds']} rounds in turns; wall seconds, median "
        "(min). *cache off* compiles every time, as before the cache; a bare "
        f"`python -c pass` takes {found['python_start_s']:.3f} s in the same run:",
        "",
        "| command | cache warm s | cache off s | off / warm (median of pairs) |",
        "|---|---|---|---|",
    ]
    for name, row in found.items():
        if isinstance(row, dict):
            lines.append(
                f"| {name} | {row['cached_median_s']:.3f} ({row['cached_min_s']:.3f}) "
                f"| {row['off_median_s']:.2f} ({row['off_min_s']:.2f}) "
                f"| {row['ratio']:.1f}x |"
            )
    return lines


def main() -> int:
    print("\n".join(report(measure(7))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
