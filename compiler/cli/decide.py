"""`eval` and `explain`: decide one case (and say why), or each row of a cases file,
with the generated evaluator, compiled in memory (`run` and `impact`: `batch`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from compiler.cli.options import (
    F,
    compiled,
    folders,
    guarded,
    known_table,
)
from compiler.emitting.loader import EvalError, TextEvaluator, read_cases
from compiler.report import Exit


def _evaluator(tables: Path, table: str) -> TextEvaluator:
    """TABLE's evaluator for `eval` and `explain`, compiled as for `run`
    (`batch._compiled_table`) but without the whole project: what parses the
    arguments is in the cache entry."""
    compilation, files, _ = compiled(tables, True, "compile", cases=False)
    known_table(table, list(compilation.tables))
    columns, versioned = compilation.inputs(table)
    return TextEvaluator.of(table, columns, versioned, files)


def _one_case(func: F) -> F:
    """What `eval` and `explain` take: the folders, TABLE, NAME=VALUE..., --as-of
    and --json."""
    func = click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON object."
    )(func)
    func = click.option(
        "--as-of",
        "as_of",
        help="Evaluation date (ISO), for versioned tables. Default: today.",
    )(func)
    func = click.argument("assignments", nargs=-1, metavar="NAME=VALUE...")(func)
    return folders(click.argument("table")(func))


@click.command("eval")
@_one_case
@click.option(
    "--cases",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A CSV file with one column per input: evaluate each row, print JSON lines.",
)
@guarded
def eval_command(
    tables: Path,
    out: Path,
    quiet: bool,
    table: str,
    assignments: tuple[str, ...],
    as_of: str | None,
    as_json: bool,
    cases: Path | None,
) -> None:
    """Evaluate TABLE on the given inputs through its generated evaluator."""
    evaluator = _evaluator(tables, table)
    if cases is not None:
        _eval_cases(cases, evaluator, as_of)
        return
    try:
        result = evaluator.evaluate(_assigned(assignments), as_of)
    except EvalError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    outputs = result["outputs"]
    for row in outputs if isinstance(outputs, list) else [outputs]:
        click.echo(", ".join(f"{k} = {v!r}" for k, v in _flat(row)))
    if isinstance(outputs, list) and not outputs:
        click.echo("(no rule matched and there is no Default)")
    click.echo(f"matched: {', '.join(result['matched']) or '(none)'}")


def _flat(outputs: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """OUTPUTS (JSON) as (header, value): a structure of path outputs,
    `"rgb": {"red": 0}`, as `rgb.red` the way its column writes it."""
    found: list[tuple[str, Any]] = []
    for key, value in outputs.items():
        if isinstance(value, dict):
            found.extend(_flat(value, f"{prefix}{key}."))
        else:
            found.append((prefix + key, value))
    return found


def _assigned(assignments: tuple[str, ...]) -> dict[str, str | None]:
    """`NAME=VALUE` arguments as input name -> text."""
    values: dict[str, str | None] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep:
            raise click.UsageError(f"{item!r} is not NAME=VALUE")
        values[name.strip()] = text
    return values


@click.command("explain")
@_one_case
@guarded
def explain_command(
    tables: Path,
    out: Path,
    quiet: bool,
    table: str,
    assignments: tuple[str, ...],
    as_of: str | None,
    as_json: bool,
) -> None:
    """Say why TABLE decides as it does on the given inputs: the version in force,
    the rules that decided with their cells, annotations and source, and for every
    other rule the first entry that rejected the inputs (as `eval`, through the
    generated `explain`)."""
    evaluator = _evaluator(tables, table)
    try:
        explanation = evaluator.explain(_assigned(assignments), as_of)
    except EvalError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(explanation.to_json(), ensure_ascii=False))
        return
    click.echo(str(explanation))


def _eval_cases(cases: Path, evaluator: TextEvaluator, as_of: str | None) -> None:
    """One JSON line per row, its result or its error (rows numbered from 1, the
    first data row); exit 4 if any row failed, as `run` does for rejected rows."""
    failed = 0
    for case in read_cases(cases, as_of):
        try:
            line = evaluator.evaluate(case.values, case.as_of)
        except EvalError as exc:
            failed += 1
            line = {"row": case.row, "error": str(exc)}
        click.echo(json.dumps(line, ensure_ascii=False))
    if failed:
        click.echo(f"{cases}: {failed} row(s) could not be evaluated", err=True)
        sys.exit(Exit.REJECTED)
