"""Fuzz the compiler for as long as asked, beyond the few hundred examples of the suite.

    python bench/fuzz.py cells --seconds 600
    python bench/fuzz.py workbook compiler --seconds 300 --engine atheris

Targets (their strategies and checks are those of tests/test_fuzz.py):
  cells     the cell grammar: every parser, every type, any text or Excel value
  workbook  the reader on mutated and truncated archives and XML of a valid workbook
  compiler  random sheets through build, validate, analyse, generate and import

Engines: `hypothesis` (default) runs batches of examples until the time is up;
`atheris` (optional: `pip install atheris`) drives the same strategies through
Hypothesis's `fuzz_one_input`, with coverage feedback from the instrumented compiler.
Any exception other than a diagnostic is a finding: the falsifying input is printed
and the run exits 1. The same tests in the suite take `HYPOTHESIS_PROFILE=long`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def targets() -> dict[str, tuple[dict[str, Any], Callable[..., None]]]:
    from tests import test_fuzz as fuzz

    folder = Path(tempfile.mkdtemp(prefix="compile-rules-fuzz-"))
    return {
        "cells": ({"raw": fuzz.RAW_VALUE, "type_": fuzz.TYPES}, fuzz.check_cell),
        "workbook": (
            {"data": fuzz.mutated_archives()},
            lambda data: fuzz.check_workbook(data, folder),
        ),
        "compiler": ({"book": fuzz.random_tables()}, fuzz.check_compiler),
    }


def wrapped(
    strategies: dict[str, Any], check: Callable[..., None], examples: int
) -> tuple[Any, list[int]]:
    from hypothesis import HealthCheck, given, settings

    count = [0]

    @given(**strategies)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    def test(**kwargs: Any) -> None:
        count[0] += 1
        check(**kwargs)

    return test, count


def with_hypothesis(name: str, seconds: float) -> int:
    strategies, check = targets()[name]
    test, count = wrapped(strategies, check, examples=500)
    deadline = time.monotonic() + seconds
    batches = 0
    while time.monotonic() < deadline:
        test()  # raises, with the falsifying example, on a finding
        batches += 1
    return count[0]


def with_atheris(name: str, seconds: float) -> int:
    import atheris  # type: ignore[import-untyped]

    with atheris.instrument_imports(include=["compiler"]):
        import compiler.checking.analyse  # noqa: F401  (instrumented for coverage feedback)
        import compiler.checking.validate  # noqa: F401
        import compiler.emitting.codegen  # noqa: F401
        import compiler.reading.cells  # noqa: F401
        import compiler.reading.sheets  # noqa: F401
        import compiler.reading.workbook  # noqa: F401
    strategies, check = targets()[name]
    test, count = wrapped(strategies, check, examples=1)
    argv = [sys.argv[0], f"-max_total_time={int(seconds)}", "-rss_limit_mb=4096"]
    atheris.Setup(argv, test.hypothesis.fuzz_one_input)
    try:
        atheris.Fuzz()
    except SystemExit as stop:  # libFuzzer exits when the time is up
        if stop.code not in (0, None):
            raise
    return count[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", nargs="+", choices=["cells", "workbook", "compiler"])
    parser.add_argument("--seconds", type=float, default=300, help="per target")
    parser.add_argument(
        "--engine", choices=["hypothesis", "atheris"], default="hypothesis"
    )
    options = parser.parse_args()
    if options.engine == "atheris" and len(options.target) > 1:
        parser.error("atheris fuzzes one target per run (libFuzzer exits at the end)")
    run = with_atheris if options.engine == "atheris" else with_hypothesis
    for name in options.target:
        started = time.monotonic()
        examples = run(name, options.seconds)
        took = time.monotonic() - started
        print(
            f"{name}: {examples:,} inputs in {took:.0f} s ({options.engine}), no finding",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
