"""Version-2 tables against scalar twins, and chained tables against their parts.

    python -m bench.version2                 # 10, 100 and 1,000 rules
    python -m bench.version2 --sizes 10 --quick

Part of `python -m bench` (its sizes up to 1,000 rules). Two rows per size:

- *version 2 vs scalar* (issue 15): the claim table of `bench/tables.py`
  (`claim_table`), whose rules test an age computed from a date of birth, a duration
  between two dates, an X-ray date against a window ending at the date of service
  (an entry naming another input), any of a list of ICD-10 codes matching a prefix
  pattern and the authorization's expiry against the date of service, and compute
  the days left as an output expression; against its scalar twin (the same rules
  over the five values a caller would compute first, version-1 types only). The
  target: version 2 within 2x of the twin per decision.
- *chain vs parts* (issue 18): `route_<table>`, a table whose `decision` input is
  `from` the FIRST table of `python -m bench`, against that table and the routing
  table with `decision` a plain input, each evaluated on its own: the chain should
  cost little more than the sum of its parts.

Every function is timed through the same kind of loop (keyword arguments, one call
per row) in turns with the others and a bare call of the same arguments (A B C A B
C ...); the figures are the fastest runs and the ratios are of the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compiler.diagnostics import Severity
from compiler.emitting import codegen
from compiler.emitting.loader import load_table
from compiler.pipeline import load_tables

from . import tables as T
from .__main__ import bare_call, loop, timed_together

TARGET = 2.0  # version 2 per decision, at most this times its scalar twin


def compile_sheets(folder: Path, sheets: dict[str, list[list[Any]]]) -> dict[str, str]:
    """The generated sources of a workbook of SHEETS, by the compiler's own stages
    (read and generate; the analysis is not run: it does not change the code)."""
    tables = folder / "tables"
    T.write_sheets(tables / "bench.xlsx", sheets)
    project, diagnostics = load_tables(tables)
    errors = [d.format() for d in diagnostics if d.severity is Severity.ERROR]
    assert project is not None and not errors, errors
    return codegen.generate(project)


# -- loops: keyword arguments, as callers pass them, one call per row ------------------


def claim_bare(
    *,
    date_of_service: Any = None,
    date_of_birth: Any = None,
    last_ct: Any = None,
    xray_date: Any = None,
    diagnosis_codes: Any = None,
    authorization_expires: Any = None,
) -> None:
    """The floor of a version-2 decision: its six keyword arguments, doing nothing."""


def claim_loop(
    function: Callable[..., Any], rows: list[tuple[Any, ...]]
) -> Callable[[], int]:
    def run() -> int:
        for s, b, c, x, d, e in rows:
            function(
                date_of_service=s,
                date_of_birth=b,
                last_ct=c,
                xray_date=x,
                diagnosis_codes=d,
                authorization_expires=e,
            )
        return len(rows)

    return run


def scalar_bare(
    *,
    age: Any = None,
    days_since_ct: Any = None,
    xray_age_days: Any = None,
    diagnosis_category: Any = None,
    days_to_expiry: Any = None,
) -> None:
    """The floor of a scalar decision: its five keyword arguments, doing nothing."""


def scalar_loop(
    function: Callable[..., Any], rows: list[tuple[Any, ...]]
) -> Callable[[], int]:
    def run() -> int:
        for a, c, x, d, e in rows:
            function(
                age=a,
                days_since_ct=c,
                xray_age_days=x,
                diagnosis_category=d,
                days_to_expiry=e,
            )
        return len(rows)

    return run


def caller_loop(
    function: Callable[..., Any], rows: list[tuple[Any, ...]]
) -> Callable[[], int]:
    """The scalar twin FUNCTION called on claims, each first turned into the twin's
    five values inline, as cheaply as a caller can in Python (`T.scalar_inputs`
    without its dict): what deciding a claim by a version-1 table costs."""

    def run() -> int:
        for s, b, c, x, d, e in rows:
            function(
                age=s.year - b.year - ((s.month, s.day) < (b.month, b.day)),
                days_since_ct=(s - c).days,
                xray_age_days=(s - x).days,
                diagnosis_category=d[0].split(".")[0],
                days_to_expiry=(e - s).days,
            )
        return len(rows)

    return run


def chain_loop(
    function: Callable[..., Any], rows: list[tuple[Any, ...]]
) -> Callable[[], int]:
    def run() -> int:
        for m, a, g, b, u, p in rows:
            function(modality=m, body_area=a, age=g, bmi=b, urgent=u, urgency=p)
        return len(rows)

    return run


def route_loop(
    function: Callable[..., Any], rows: list[tuple[Any, ...]]
) -> Callable[[], int]:
    def run() -> int:
        for d, p in rows:
            function(decision=d, urgency=p)
        return len(rows)

    return run


# -- the rows ----------------------------------------------------------------------------


def claim_modules(n: int, folder: Path) -> tuple[T.ClaimSpec, Any, Any]:
    """The claim table of N rules and its scalar twin, compiled and imported."""
    spec = T.claim_table(n)
    files = compile_sheets(
        folder,
        {
            spec.name: T.claim_sheet_rows(spec),
            spec.scalar_name: T.scalar_sheet_rows(spec),
        },
    )
    return spec, load_table(files, spec.name), load_table(files, spec.scalar_name)


def chain_modules(n: int, folder: Path) -> tuple[T.Spec, Any, Any, Any]:
    """The FIRST table of N rules, the routing table reading it and the routing
    table alone (`decision` a plain input), compiled and imported."""
    spec = T.first_table(n)
    files = compile_sheets(
        folder,
        {
            spec.name: T.sheet_rows(spec),
            "route": T.route_sheet_rows(spec),
            "route alone": T.route_sheet_rows(spec, alone=True),
        },
    )
    return (
        spec,
        load_table(files, spec.name),
        load_table(files, f"route_{spec.name}"),
        load_table(files, f"route_{spec.name}_alone"),
    )


def bench_claims(n: int, folder: Path, calls: int, repeats: int) -> dict[str, Any]:
    spec, v2, scalar = claim_modules(n, folder)
    claims = T.claim_inputs(calls, seed=n)
    twins = [T.scalar_inputs(x) for x in claims]
    for x, y in zip(claims, twins, strict=True):  # the twins decide alike
        a, b = v2.evaluate(**x), scalar.evaluate(**y)
        assert a.matched == b.matched and a.outputs.decision == b.outputs.decision, x
    row: dict[str, Any] = {"table": spec.name, "rules": n}
    runs = {
        "v2_floor": claim_loop(claim_bare, [tuple(x.values()) for x in claims]),
        "v2": claim_loop(v2.evaluate, [tuple(x.values()) for x in claims]),
        "scalar_floor": scalar_loop(scalar_bare, [tuple(y.values()) for y in twins]),
        "scalar": scalar_loop(scalar.evaluate, [tuple(y.values()) for y in twins]),
        "caller": caller_loop(scalar.evaluate, [tuple(x.values()) for x in claims]),
    }
    timed_together(row, runs, repeats)
    return row


def bench_chain(n: int, folder: Path, calls: int, repeats: int) -> dict[str, Any]:
    spec, first, chain, alone = chain_modules(n, folder)
    inputs = T.random_inputs(calls, seed=n)
    urgencies = [T.URGENCIES[i % 2] for i in range(calls)]
    rows = [(*x.values(), p) for x, p in zip(inputs, urgencies, strict=True)]
    decisions = [first.evaluate(**x).outputs.decision for x in inputs]
    for x, p, d in zip(inputs, urgencies, decisions, strict=True):
        assert chain.evaluate(**x, urgency=p) == alone.evaluate(decision=d, urgency=p)
    row: dict[str, Any] = {"table": f"route_{spec.name}", "rules": n}
    runs = {
        "floor": loop(bare_call, [tuple(x.values()) for x in inputs]),
        "first": loop(first.evaluate, [tuple(x.values()) for x in inputs]),
        "alone": route_loop(
            alone.evaluate, list(zip(decisions, urgencies, strict=True))
        ),
        "chain": chain_loop(chain.evaluate, rows),
    }
    timed_together(row, runs, repeats)
    return row


def measure(sizes: list[int], quick: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Both rows for each of SIZES (at most 1,441 rules: the claim table's grid)."""
    calls, repeats = (1000, 10) if quick else (4000, 30)
    found: dict[str, list[dict[str, Any]]] = {"claims": [], "chains": []}
    with tempfile.TemporaryDirectory(prefix="bench-v2-") as tmp:
        for n in sizes:
            folder = Path(tmp) / str(n)
            row = bench_claims(n, folder / "claims", calls, repeats)
            print(json.dumps(row), flush=True)
            found["claims"].append(row)
            row = bench_chain(n, folder / "chain", calls, repeats)
            print(json.dumps(row), flush=True)
            found["chains"].append(row)
    return found


def report(found: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [
        "## Version 2 against a scalar twin (issue 15)",
        "",
        "The claim table (`bench/tables.py`, `claim_table`: computed age, a duration "
        "between dates, entries naming the date of service, any-match of a list of "
        "codes, an output expression) against its scalar twin (the same rules over "
        "the values a caller computes first). Fastest run of each, ns per call; "
        "each ratio is of the same run. The target is judged against the twin "
        "alone; *twin + caller* also times the caller computing the twin's five "
        "values from the claim (inline Python, `bench.version2.caller_loop`), "
        "which is what deciding a claim by a version-1 table costs.",
        "",
        "| table | rules | bare call (6 args) | version 2 | version 2 / bare | "
        "bare call (5 args) | scalar | scalar / bare | version 2 / scalar | target | "
        "twin + caller | version 2 / (twin + caller) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in found["claims"]:
        ratio = row["v2_best_us"] / row["scalar_best_us"]
        lines.append(
            f"| {row['table']} | {row['rules']:,} | {row['v2_floor_best_us'] * 1e3:,.0f} | "
            f"{row['v2_best_us'] * 1e3:,.0f} | "
            f"{row['v2_best_us'] / row['v2_floor_best_us']:.1f}x | "
            f"{row['scalar_floor_best_us'] * 1e3:,.0f} | {row['scalar_best_us'] * 1e3:,.0f} | "
            f"{row['scalar_best_us'] / row['scalar_floor_best_us']:.1f}x | {ratio:.2f}x | "
            f"{TARGET:.0f}x: {'met' if ratio <= TARGET else 'not met'} | "
            f"{row['caller_best_us'] * 1e3:,.0f} | "
            f"{row['v2_best_us'] / row['caller_best_us']:.2f}x |"
        )
    lines += [
        "",
        "## A chain against its parts (issue 18)",
        "",
        "`route_<table>` reads `decision` from the FIRST table (a `from` column); its "
        "parts are that table and the routing table with `decision` a plain input, "
        "each called on its own. Fastest run of each, ns per call, the same run.",
        "",
        "| chain | rules | bare call | first table | routing alone | sum of parts | "
        "chain | chain / sum |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in found["chains"]:
        parts = row["first_best_us"] + row["alone_best_us"]
        lines.append(
            f"| {row['table']} | {row['rules']:,} | {row['floor_best_us'] * 1e3:,.0f} | "
            f"{row['first_best_us'] * 1e3:,.0f} | {row['alone_best_us'] * 1e3:,.0f} | "
            f"{parts * 1e3:,.0f} | {row['chain_best_us'] * 1e3:,.0f} | "
            f"{row['chain_best_us'] / parts:.2f}x |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.version2", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--quick", action="store_true", help="fewer calls and runs")
    args = parser.parse_args(argv)
    found = measure([int(s) for s in args.sizes.split(",")], args.quick)
    print("\n".join(report(found)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
