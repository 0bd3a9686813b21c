"""Benchmark the generated evaluators against the alternatives, side by side.

    python -m bench                      # 10, 100, 1,000 and 16,384 rules, 1M-row frames
    python -m bench --sizes 10,100 --rows 200000 --quick

For each size, a FIRST and a UNIQUE table over five inputs (two strings with Values
lists, an integer, a number, a boolean; see bench/tables.py) is compiled and timed:

- `evaluate`: the generated evaluator, one decision per call (keyword arguments);
- `if/elif`: the evaluator a programmer would write by hand, one `if` per rule;
- `evaluate_frame`: the generated DataFrame evaluator on a frame of `--rows` rows;
- zen-engine 2.x (the decision pre-built, `engine.evaluate` per call, and
  `evaluate_batch`) and pyDMNrules, when the `bench` extra is installed
  (`pip install -e ".[bench]"`); pyDMNrules is slow, so it is timed on a few calls
  (mean per call, like the others);
- the whole `compile-rules compile` of each table's workbook in a fresh process
  (wall time and peak memory);
- up to 1,000 rules, a version-2 table against its scalar twin and a chained table
  against its parts (bench/version2.py).

All engines answer the same inputs, drawn uniformly over the domain. Then the shipped
tables (tables/): `evaluate` and `evaluate_frame` against the previous naive
generated code (if/elif per rule, from the newest commit that has it, for the tables
it still decides alike), and `compile-rules compile` / `check` from a cold start.
Every engine's answers are checked against the generated evaluator on the inputs it
is timed on. Figures are medians of repeated runs; the machine is shared, so runs
vary. Results go to bench/results.md and bench/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from compiler.emitting import codegen
from compiler.emitting.loader import load_table
from compiler.model import DataType, Project
from compiler.pipeline import compile_tables, load_tables

from . import tables as T

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def timed(row: dict[str, Any], key: str, run: Callable[[], int], repeats: int) -> None:
    """ROW[KEY_us]: the median µs per call over REPEATS runs of RUN (which makes calls
    and returns how many), and ROW[KEY_best_us] the fastest run: the machine is
    shared, so the median shows the typical cost and the best the cost undisturbed."""
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        calls = run()
        times.append((time.perf_counter() - start) / calls * 1e6)
    row[f"{key}_us"] = statistics.median(times)
    row[f"{key}_best_us"] = min(times)


def timed_together(
    row: dict[str, Any], runs: dict[str, Callable[[], int]], repeats: int
) -> None:
    """`timed` for several RUNS at once, in turns (A B C A B C ...): a drift of the
    shared machine's speed touches them alike, so their ratios hold."""
    times: dict[str, list[float]] = {key: [] for key in runs}
    for _ in range(repeats):
        for key, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            calls = run()
            times[key].append((time.perf_counter() - start) / calls * 1e6)
    for key, found in times.items():
        row[f"{key}_us"] = statistics.median(found)
        row[f"{key}_best_us"] = min(found)


def bare_call(
    *,
    modality: Any = None,
    body_area: Any = None,
    age: Any = None,
    bmi: Any = None,
    urgent: Any = None,
) -> None:
    """The floor of a decision: a plain function with the same keyword arguments,
    called through the same loop as `evaluate`, doing nothing."""


_MODALITIES = frozenset((*T.MODALITIES, None))
_AREAS = frozenset((*T.AREAS, None))


def validation_floor(
    *,
    modality: Any = None,
    body_area: Any = None,
    age: Any = None,
    bmi: Any = None,
    urgent: Any = None,
) -> None:
    """The floor of a validating evaluator: the cheapest code found that checks the
    five inputs as `evaluate` must (the strings in their Values, age an int in
    [0..120], bmi a float or an int, urgent a bool; None allowed for each; bools are
    not ints, ints not bools) and returns a constant, deciding nothing. The same
    tests as the early leaves of a generated tree (`strategy.early_level`)."""
    try:
        if (
            modality in _MODALITIES
            and body_area in _AREAS
            and (0 <= age and age < 121 if type(age) is int else age is None)
            and (type(bmi) is float or type(bmi) is int or bmi is None)
            and (urgent is True or urgent is False or urgent is None)
        ):
            return None
    except TypeError:  # an unhashable string input
        pass
    raise ValueError("an input is not valid")


def loop(
    function: Callable[..., Any], rows: list[tuple[Any, ...]]
) -> Callable[[], int]:
    """Call FUNCTION with keyword arguments, as callers do, once per row."""

    def run() -> int:
        for m, a, g, b, u in rows:
            function(modality=m, body_area=a, age=g, bmi=b, urgent=u)
        return len(rows)

    return run


def _calls(function: Callable[[Any], Any], inputs: list[Any]) -> int:
    for x in inputs:
        function(x)
    return len(inputs)


def _calls_with_keywords(
    function: Callable[..., Any], inputs: list[dict[str, Any]]
) -> int:
    for x in inputs:
        function(**x)
    return len(inputs)


def answer(result: Any) -> tuple[Any, ...] | None:
    """A generated Result as (decision, points, rule id), None when nothing matched."""
    if not result.matched:
        return None
    return (result.outputs.decision, result.outputs.points, result.matched[0])


# -- other engines ------------------------------------------------------------------------


def zen_engine(spec: T.Spec) -> tuple[Callable[[dict[str, Any]], Any], Any] | None:
    if importlib.util.find_spec("zen") is None:
        return None
    import zen

    # The fastest way found: a loader returning the parsed model (a loader returning
    # JSON text has it parsed again on every call; create_decision(...).evaluate is
    # several times slower per call here).
    content = zen.ZenDecisionContent(T.jdm(spec))
    engine = zen.ZenEngine({"loader": lambda key: content})
    engine.evaluate(spec.name, T.random_inputs(1)[0])  # load and compile once

    def decide(inputs: dict[str, Any]) -> Any:
        return engine.evaluate(spec.name, inputs)

    return decide, engine


def zen_answer(response: Any) -> tuple[Any, ...] | None:
    result = response["result"]
    if not result:
        return None
    return (result["decision"], int(result["points"]), result["rule"])


def pydmn_engine(
    spec: T.Spec, folder: Path
) -> tuple[Callable[[dict[str, Any]], Any], float] | None:
    if importlib.util.find_spec("pyDMNrules") is None:
        return None
    import pyDMNrules  # type: ignore[import-untyped, unused-ignore]

    path = folder / f"pydmn_{spec.name}.xlsx"
    T.write_pydmnrules(path, spec)
    dmn = pyDMNrules.DMN()
    start = time.perf_counter()
    status = dmn.load(str(path))
    loaded = time.perf_counter() - start
    if status.get("errors"):
        raise RuntimeError(f"pyDMNrules could not load {path}: {status['errors']}")

    def decide(inputs: dict[str, Any]) -> Any:
        return dmn.decide({T.PYDMN_NAMES[k]: v for k, v in inputs.items()})

    return decide, loaded


def pydmn_answer(response: Any) -> tuple[Any, ...] | None:
    status, found = response
    errors = status.get("errors") or []
    if any("No rules matched" in e for e in errors):
        return None
    if errors:
        raise RuntimeError(errors)
    result = found["Result"]
    if result.get("RuleId") is None:
        return None
    return (result["Decision"], int(result["Points"]), result["RuleId"])


# -- one benchmark table ---------------------------------------------------------------------


def bench_table(
    spec: T.Spec, module: types.ModuleType, args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    n = len(spec.rules)
    calls = 20000 if n <= 1000 else 5000
    if args.quick:
        calls //= 4
    inputs = T.random_inputs(calls, seed=n)
    rows = [tuple(x.values()) for x in inputs]
    namespace: dict[str, Any] = {}
    exec(T.reference_source(spec), namespace)
    reference = namespace["evaluate"]
    expected = [answer(module.evaluate(**x)) for x in inputs]
    mismatches = sum(reference(**x) != e for x, e in zip(inputs, expected, strict=True))
    assert not mismatches, f"{spec.name}: if/elif disagrees on {mismatches} inputs"
    row: dict[str, Any] = {"table": spec.name, "policy": spec.policy, "rules": n}
    # How far down the table the deciding rule is (n + 1: no rule matches): what an
    # engine testing rules in order (if/elif, pyDMNrules) walks through per call.
    position = {r.id: i + 1 for i, r in enumerate(spec.rules)}
    row["deciding_rule_mean"] = statistics.mean(
        n + 1 if e is None else position[e[2]] for e in expected
    )
    repeats = 5 if args.quick else 15
    chunk = rows[: calls // 5]
    few = rows[: max(200, len(chunk) // max(1, n // 100))]
    runs = {
        "floor": loop(bare_call, chunk),
        "validation": loop(validation_floor, chunk),
        "evaluate": loop(module.evaluate, chunk),
        "if_elif": loop(reference, few),
    }
    timed_together(row, runs, repeats * 2)

    frame = T.random_frame(args.rows, seed=n)
    module.evaluate_frame(frame.head(1000))  # words and tables built once per module
    gc.collect()
    start = time.perf_counter()
    module.evaluate_frame(frame)  # the first call builds the grid, when it pays
    row["frame_first_rows_per_s"] = args.rows / (time.perf_counter() - start)
    frame_times = []
    for _ in range(2 if args.quick else 3):
        gc.collect()
        start = time.perf_counter()
        found = module.evaluate_frame(frame)
        frame_times.append(time.perf_counter() - start)
    row["frame_rows_per_s"] = args.rows / statistics.median(frame_times)
    row["frame_best_rows_per_s"] = args.rows / min(frame_times)
    sample = frame.head(2000).astype(object).to_dict("records")
    for record, (_, got) in zip(sample, found.head(2000).iterrows(), strict=True):
        want = module.evaluate(**record)
        assert got["matched"] == (want.matched[0] if want.matched else None), record
        assert got["decision"] == want.outputs.decision, record

    zen = zen_engine(spec)
    if zen is not None:
        decide, engine = zen
        some = inputs[: min(len(inputs), 1000 if n <= 1000 else 300)]
        for x, e in zip(some, expected, strict=False):
            assert zen_answer(decide(x)) == e, (spec.name, x)
        timed(row, "zen", partial(_calls, decide, some), repeats)
        batch = [
            {"key": spec.name, "context": x}
            for x in inputs[: min(len(inputs), 20000 if n <= 1000 else 2000)]
        ]
        start = time.perf_counter()
        responses = engine.evaluate_batch(batch)
        row["zen_batch_rows_per_s"] = len(batch) / (time.perf_counter() - start)
        for response, e in zip(responses[:200], expected, strict=False):
            assert zen_answer(response["data"]) == e, spec.name

    pydmn = None if args.no_pydmn else pydmn_engine(spec, folder)
    if pydmn is not None:
        decide, loaded = pydmn
        row["pydmn_load_s"] = loaded
        budget = 4.0 if args.quick else 12.0
        times = []
        for x, e in zip(inputs, expected, strict=False):
            start = time.perf_counter()
            response = decide(x)
            times.append(time.perf_counter() - start)
            assert pydmn_answer(response) == e, (spec.name, x)
            if sum(times) > budget or len(times) >= 200:
                break
        # total time / calls, as for every other engine (its cost varies with how
        # far down the table the deciding rule is; the median would hide that)
        row["pydmn_us"] = sum(times) / len(times) * 1e6
        row["pydmn_median_us"] = statistics.median(times) * 1e6
        row["pydmn_calls"] = len(times)
    return row


def compile_specs(
    specs: list[T.Spec], folder: Path
) -> tuple[dict[str, str], dict[str, float]]:
    """Compile SPECS (one workbook per table) with the compiler's own stages, timing
    reading (workbook -> model) and code generation (model -> formatted Python).
    The static analysis stage is not run: it is timed by `compile-rules compile`."""
    files: dict[str, str] = {}
    timing: dict[str, float] = {}
    for spec in specs:
        tables = folder / spec.name / "tables"
        T.write_workbook(tables / f"{spec.name}.xlsx", [spec])
        start = time.perf_counter()
        project, _ = load_tables(tables)
        read = time.perf_counter() - start
        assert project is not None
        start = time.perf_counter()
        generated = codegen.generate(project)
        timing[spec.name] = time.perf_counter() - start
        timing[f"{spec.name}:read"] = read
        files.update(generated)
    return files, timing


# Runs a command and prints [wall seconds, peak KiB, exit code]. A small process of its
# own starts it: a child's peak memory counts that of the process it was forked from
# (Linux keeps it across exec), and the benchmark itself holds large frames.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(json.loads(sys.argv[1]), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
print(json.dumps([time.perf_counter() - start, usage.ru_maxrss, child.returncode]))
"""


def run_measured(
    args: list[str], env: dict[str, str] | None = None
) -> tuple[float, float | None, int]:
    """(wall seconds, peak resident MiB or None, exit code) of ARGS in a fresh
    process: a cold start, imports included. ENV is its environment; by default
    this one with the compile cache off, so that every run compiles."""
    env = env or {**os.environ, "COMPILE_RULES_CACHE": "off"}
    if not hasattr(os, "wait4"):  # not on Windows: no peak memory there
        start = time.perf_counter()
        code = subprocess.run(args, cwd=ROOT, capture_output=True, env=env).returncode
        return time.perf_counter() - start, None, code
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, json.dumps(args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    wall, peak, code = json.loads(done.stdout)
    return wall, peak / 1024, code  # Linux: KiB


def cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "compiler", *map(str, args)]


def whole_compiles(
    specs: list[T.Spec], folder: Path, repeats: int
) -> dict[str, dict[str, float | None]]:
    """`compile-rules compile` of each benchmark table's workbook in a fresh process:
    into an empty folder (every file written), then again (nothing changed). Median
    wall time of REPEATS runs each, and the peak memory of the largest."""
    found: dict[str, dict[str, float | None]] = {}
    for spec in specs:
        tables = folder / spec.name / "tables"
        out = folder / spec.name / "generated"
        first, again, peaks = [], [], []
        for _ in range(repeats):
            shutil.rmtree(out, ignore_errors=True)
            wall, peak, code = run_measured(
                cli("compile", "-q", "--tables", tables, "--out", out)
            )
            assert code == 0, f"compile of {spec.name} exited {code}"
            first.append(wall)
            peaks.append(peak)
            wall, peak, code = run_measured(
                cli("compile", "-q", "--tables", tables, "--out", out)
            )
            assert code == 0, f"compile of {spec.name} exited {code}"
            again.append(wall)
            peaks.append(peak)
        known = [x for x in peaks if x is not None]
        found[spec.name] = {
            "compile_s": statistics.median(first),
            "unchanged_s": statistics.median(again),
            "peak_mib": max(known) if known else None,
        }
    return found


def shipped_compiles(repeats: int) -> dict[str, float | None]:
    """The shipped tables from a cold start, into a scratch folder: a compile that
    writes every file (a changed tree), one that finds them current (unchanged), and
    `check` (unchanged). Medians of REPEATS runs."""
    times: dict[str, list[float]] = {"compile_s": [], "unchanged_s": [], "check_s": []}
    peaks = []
    with tempfile.TemporaryDirectory(prefix="bench-shipped-") as tmp:
        out = Path(tmp) / "generated"
        for _ in range(repeats):
            shutil.rmtree(out, ignore_errors=True)
            runs = [
                ("compile_s", cli("compile", "-q", "--out", out)),
                ("unchanged_s", cli("compile", "-q", "--out", out)),
                ("check_s", cli("check", "-q", "--out", out)),
            ]
            for key, args in runs:
                wall, peak, code = run_measured(args)
                assert code == 0, f"{' '.join(args[2:])} exited {code}"
                times[key].append(wall)
                peaks.append(peak)
    known = [x for x in peaks if x is not None]
    found: dict[str, float | None] = {k: statistics.median(v) for k, v in times.items()}
    found["peak_mib"] = max(known) if known else None
    return found


# -- shipped tables ------------------------------------------------------------------------------


def shipped_inputs(
    project: Project, name: str, count: int, seed: int = 9
) -> list[dict[str, Any]]:
    """Random valid inputs of table NAME (and its chain), drawn from the Values."""
    rnd = random.Random(seed)
    columns = project.chain_inputs(name)

    def draw(column: Any) -> Any:
        if rnd.random() < 0.1:
            return None
        listed = [v for v in column.value_list if v is not None]
        if column.type is DataType.BOOLEAN:
            return rnd.random() < 0.5
        if column.enumerated and listed:
            return rnd.choice(listed)
        low, high = 0, 150
        if column.values is not None and column.values.tests:
            test = column.values.tests[0]
            low, high = getattr(test, "low", low), getattr(test, "high", high)
        if column.type is DataType.INTEGER:
            return rnd.randint(int(low), int(high))
        if column.type is DataType.NUMBER:
            return round(rnd.uniform(float(low), float(high)), 1)
        if column.type is DataType.DATE:
            return dt.date(2024, 1, 1) + dt.timedelta(days=rnd.randint(0, 1200))
        return rnd.choice(listed) if listed else "X"

    found = []
    for _ in range(count):
        inputs = {c.name: draw(c) for c in columns}
        if project.chain_versioned(name):
            inputs["as_of"] = dt.date(2024, 1, 1) + dt.timedelta(
                days=rnd.randint(0, 1200)
            )
        found.append(inputs)
    return found


def naive_package() -> dict[str, str] | None:
    """The generated package of the newest commit whose evaluators are still the
    naive ones (if/elif per rule), when the history has it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    try:
        for commit in git("rev-list", "HEAD", "--", "generated/_runtime.py").split():
            if "def checked_mask" in git("show", f"{commit}:generated/_runtime.py"):
                continue
            files = {}
            for path in git("ls-tree", "--name-only", commit, "generated/").split():
                if path.endswith(".py"):
                    text = git("show", f"{commit}:{path}")
                    files[path.removeprefix("generated/")] = text
            return files or None
    except (OSError, subprocess.CalledProcessError):
        return None
    return None


def _naive_module(
    naive: dict[str, str] | None, name: str, module: Any, inputs: list[dict[str, Any]]
) -> Any:
    """The naive evaluator of table NAME, when it still decides INPUTS as MODULE does
    (its table may have changed since)."""
    if naive is None or f"{name}.py" not in naive:
        return None
    try:
        old = load_table(naive, name)
        for x in inputs[:500]:
            if tuple(old.evaluate(**x)) != tuple(module.evaluate(**x)):
                return None
    except Exception:  # noqa: BLE001 - a table or input that changed since
        return None
    return old


def bench_shipped(args: argparse.Namespace) -> tuple[list[dict[str, Any]], float]:
    """The shipped tables' evaluators, and the seconds compile_tables took on them."""
    import pandas as pd

    start = time.perf_counter()
    compilation = compile_tables(ROOT / "tables")
    compiled_in = time.perf_counter() - start
    assert compilation.files is not None and compilation.project is not None
    project = compilation.project
    naive = naive_package()
    rows = []
    for decision in project.decisions:
        name = decision.name
        module = load_table(compilation.files, name)
        inputs = [
            x for x in shipped_inputs(project, name, 3000) if _evaluates(module, x)
        ]
        row: dict[str, Any] = {
            "table": name,
            "rules": sum(len(t.rules) for t in decision.versions),
        }
        repeats = 3 if args.quick else 7

        run = partial(_calls_with_keywords, module.evaluate, inputs)
        timed(row, "evaluate", run, repeats)
        old = _naive_module(naive, name, module, inputs)
        if old is not None:
            old_run = partial(_calls_with_keywords, old.evaluate, inputs)
            timed(row, "if_elif", old_run, repeats)
        records = [inputs[i % len(inputs)] for i in range(args.rows // 10)]
        frame = pd.DataFrame(
            {k: pd.array([r[k] for r in records], dtype=object) for k in inputs[0]}
        )
        module.evaluate_frame(frame.head(100))
        frame_times = []
        for _ in range(repeats):
            start = time.perf_counter()
            module.evaluate_frame(frame)
            frame_times.append(time.perf_counter() - start)
        row["frame_rows_per_s"] = len(frame) / statistics.median(frame_times)
        rows.append(row)
    return rows, compiled_in


def _evaluates(module: types.ModuleType, inputs: dict[str, Any]) -> bool:
    try:
        module.evaluate(**inputs)
    except Exception:  # noqa: BLE001 - NoVersionError and incomplete chains: not timed
        return False
    return True


# -- report ---------------------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "rows":
        return f"{value / 1e6:.2f}M" if value >= 1e5 else f"{value / 1e3:.1f}k"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def report(results: dict[str, Any]) -> str:
    lines = [
        "# Benchmark: generated evaluators vs the alternatives",
        "",
        f"Run `python -m bench` ({results['when']}, Python {results['python']}, "
        f"{results['machine']}, load average {results['load']}). Per decision: median µs "
        "per call with keyword arguments; frames: rows per "
        f"second over {results['rows']:,} rows (strings as category columns).",
        "",
        "Per decision against two floors, timed through the same loop in turns with "
        "`evaluate` and the if/elif chain (A B C D A B C D ...): *bare call* is a plain "
        "Python function with the same five keyword arguments that does nothing; "
        "*validation floor* (`validation_floor`) checks the five inputs as `evaluate` "
        "must (types, Values, None allowed; InputError otherwise) and returns a "
        "constant, deciding nothing: what any validating evaluator pays. The if/elif "
        "chain validates nothing. Ratios are to the floors of the same run (medians; "
        "fastest runs in brackets).",
        "",
        "| table | rules | bare call µs | validation floor µs | evaluate µs | if/elif µs | evaluate / bare | validation floor / bare | evaluate / validation floor | if/elif / bare | evaluate / if/elif |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *[
            f"| {row['table']} | {row['rules']:,} | {fmt(row['floor_us'])} | "
            f"{fmt(row['validation_us'])} | "
            f"{fmt(row['evaluate_us'])} | {fmt(row['if_elif_us'])} | "
            f"{row['evaluate_us'] / row['floor_us']:.1f}x "
            f"({row['evaluate_best_us'] / row['floor_best_us']:.1f}x) | "
            f"{row['validation_us'] / row['floor_us']:.1f}x "
            f"({row['validation_best_us'] / row['floor_best_us']:.1f}x) | "
            f"{row['evaluate_us'] / row['validation_us']:.2f}x "
            f"({row['evaluate_best_us'] / row['validation_best_us']:.2f}x) | "
            f"{row['if_elif_us'] / row['floor_us']:.1f}x "
            f"({row['if_elif_best_us'] / row['floor_best_us']:.1f}x) | "
            f"{row['evaluate_us'] / row['if_elif_us']:.2f} |"
            for row in results["tables"]
        ],
        "",
        "| table | rules | deciding rule | evaluate µs | if/elif µs | zen µs | pyDMNrules µs | vs if/elif | vs zen | vs pyDMNrules | evaluate_frame rows/s | zen batch rows/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["tables"]:
        e = row["evaluate_us"]
        lines.append(
            f"| {row['table']} | {row['rules']:,} | {row['deciding_rule_mean']:,.0f} | "
            f"{fmt(e)} | {fmt(row['if_elif_us'])} | "
            f"{fmt(row.get('zen_us'))} | {fmt(row.get('pydmn_us'))} | "
            f"{row['if_elif_us'] / e:.1f}x | "
            + (f"{row['zen_us'] / e:.0f}x" if "zen_us" in row else "-")
            + " | "
            + (f"{row['pydmn_us'] / e:,.0f}x" if "pydmn_us" in row else "-")
            + f" | {fmt(row['frame_rows_per_s'], 'rows')} | {fmt(row.get('zen_batch_rows_per_s'), 'rows')} |"
        )
    lines += [
        "",
        "Fastest run of each (the same runs; the cost when the shared machine leaves the "
        "benchmark alone):",
        "",
        "| table | evaluate µs | if/elif µs | zen µs | vs zen | evaluate_frame rows/s | evaluate_frame, first call |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["tables"]:
        e = row["evaluate_best_us"]
        lines.append(
            f"| {row['table']} | {fmt(e)} | {fmt(row['if_elif_best_us'])} | "
            f"{fmt(row.get('zen_best_us'))} | "
            + (f"{row['zen_best_us'] / e:.0f}x" if "zen_best_us" in row else "-")
            + f" | {fmt(row['frame_best_rows_per_s'], 'rows')}"
            + f" | {fmt(row['frame_first_rows_per_s'], 'rows')} |"
        )
    lines += [
        "",
        "All engines answer the same inputs, drawn uniformly over the domain (the same "
        "sequence for all; the slower ones take its first calls), and agree on them. "
        "*deciding rule*: the mean position of the deciding rule over those inputs (rules + 1 "
        "when none matches), i.e. how many rules an engine that tests them in order "
        "(if/elif, pyDMNrules) goes through per call. pyDMNrules: mean µs per call over its "
        "first calls (`pydmn_calls` in results.json); it tests rules in order and stops at "
        "the first match under F, U and A alike (it does not check that a UNIQUE table has "
        "a single match). zen-engine has no UNIQUE policy: the UNIQUE tables (disjoint "
        "rules) run under its `first`. *first call*: evaluate_frame's first call on the "
        "frame, which builds the grid of atom combinations when that pays.",
        "",
        "Compiling: reading (workbook -> model) and code generation (model -> formatted "
        "Python, ruff included) in process, and the whole `compile-rules compile` (read, "
        "validate, analyse, generate the code and the example tests, write) in a fresh "
        "process: into an empty folder, then again with nothing changed; peak resident "
        "memory of the process.",
        "",
        "| table | read s | codegen s | compile s | compile, unchanged s | peak MiB |",
        "|---|---|---|---|---|---|",
    ]
    whole = results.get("whole_compile", {})
    for name, seconds in results["compile"].items():
        if not name.endswith(":read"):
            done = whole.get(name, {})
            peak = done.get("peak_mib")
            lines.append(
                f"| {name} | {results['compile'][name + ':read']:.2f} | {seconds:.2f} | "
                f"{fmt(done.get('compile_s'))} | {fmt(done.get('unchanged_s'))} | "
                f"{'-' if peak is None else f'{peak:,.0f}'} |"
            )
    if results.get("shipped"):
        lines += [
            "",
            "## Shipped tables",
            "",
            "| table | rules | evaluate µs | previous if/elif µs | speed-up | evaluate_frame rows/s |",
            "|---|---|---|---|---|---|",
        ]
        for row in results["shipped"]:
            old = row.get("if_elif_us")
            lines.append(
                f"| {row['table']} | {row['rules']} | {fmt(row['evaluate_us'])} | {fmt(old)} | "
                + (f"{old / row['evaluate_us']:.1f}x" if old else "-")
                + f" | {fmt(row['frame_rows_per_s'], 'rows')} |"
            )
    cold = results.get("shipped_compile")
    if cold:
        peak = cold.get("peak_mib")
        lines += [
            "",
            "`compile-rules` on the shipped tables, each run a fresh process (imports "
            "included), into a scratch folder: the first compile writes every file (a "
            "changed tree), the second finds them current (unchanged), then `check`:",
            "",
            "| compile, all written s | compile, unchanged s | check, unchanged s | peak MiB |",
            "|---|---|---|---|",
            f"| {cold['compile_s']:.2f} | {cold['unchanged_s']:.2f} | {cold['check_s']:.2f} | "
            f"{'-' if peak is None else f'{peak:,.0f}'} |",
        ]
    if results.get("version2"):
        from bench import version2

        lines += ["", *version2.report(results["version2"])]
    if results.get("commands"):
        from bench import commands

        lines += ["", *commands.report(results["commands"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", default="10,100,1000,16384")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    parser.add_argument("--no-pydmn", action="store_true", help="skip pyDMNrules")
    parser.add_argument(
        "--no-shipped", action="store_true", help="skip the shipped tables"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    specs = [s for n in sizes for s in (T.first_table(n), T.unique_table(n))]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        files, timing = compile_specs(specs, folder)
        results: dict[str, Any] = {
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(),
            "machine": f"{os.cpu_count()} cores",
            "load": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
            "rows": args.rows,
            "compile": timing,
            "tables": [],
        }
        for spec in specs:
            module = load_table(files, spec.name)
            row = bench_table(spec, module, args, folder)
            results["tables"].append(row)
            print(json.dumps(row), flush=True)
        results["whole_compile"] = whole_compiles(specs, folder, 1 if args.quick else 3)
    from bench import version2  # imports this module: here, not at the top

    small = [n for n in sizes if n <= 1000]  # the claim table has 1,441 rules at most
    results["version2"] = version2.measure(small, args.quick)
    if not args.no_shipped:
        results["shipped"], in_process = bench_shipped(args)
        results["shipped_compile"] = shipped_compiles(1 if args.quick else 5)
        results["shipped_compile"]["in_process_s"] = in_process
        from bench import commands  # imports this module: here, not at the top

        results["commands"] = commands.measure(1 if args.quick else 7)
    text = report(results)
    print(text)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(
        json.dumps(results, indent=1) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
