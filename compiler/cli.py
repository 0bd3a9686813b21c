"""The `compile-rules` command: a thin Click layer over the library functions.

Exit codes (see README): 0 ok, 1 generated files out of date, 2 usage, 3 invalid
tables or unreadable workbook, 123 internal error. User errors never show a traceback.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import cells, output
from .diagnostics import CellError
from .evaluate import load_table, result_json
from .pipeline import Compilation, compile_tables
from .report import FORMATS, Exit, Report
from .sheets import suggest

F = TypeVar("F", bound=Callable[..., Any])


def folders(func: F) -> F:
    """`--tables` and `--out`, which every command takes."""
    func = click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("generated"),
        show_default=True,
        help="Folder of the generated package.",
    )(func)
    func = click.option(
        "--tables",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("tables"),
        show_default=True,
        help="Folder of the source workbooks (searched recursively).",
    )(func)
    func = click.option(
        "-q", "--quiet", is_flag=True, help="Hide info-level diagnostics."
    )(func)
    func = click.option(
        "--format",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        expose_value=False,
        callback=_remember,
        help="Diagnostics as text or JSON lines (stderr), or GitHub annotations (stdout).",
    )(func)
    func = click.option(
        "--junit",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember,
        help="Also write the diagnostics as JUnit XML to this file.",
    )(func)
    return func


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Keep --format and --junit in the context, where `Report` reads them."""
    ctx.meta[f"compile_rules.{param.name}"] = value
    return value


def guarded(func: F) -> F:
    """Turn unexpected exceptions into exit code 123 with a short message."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("COMPILE_RULES_DEBUG"):
                traceback.print_exc()
            click.secho(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in compile-rules, not in your tables; set COMPILE_RULES_DEBUG=1 "
                "for the traceback and report it.",
                fg="red",
                err=True,
            )
            sys.exit(Exit.INTERNAL)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="compile-rules")
def main() -> None:
    """Compile Excel decision tables into Python evaluators and their tests."""


def _compile(tables: Path, quiet: bool) -> tuple[Compilation, Report]:
    compilation = compile_tables(tables)
    report = Report(diagnostics=compilation.diagnostics, quiet=quiet)
    if compilation.project is not None:
        project = compilation.project
        report.checked = tuple(
            [t.location for d in project.decisions for t in d.versions]
            + [s.location for s in project.suites]
        )
    report.print_diagnostics()
    return compilation, report


@main.command("compile")
@folders
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print what would change; write nothing."
)
@guarded
def compile_command(tables: Path, out: Path, quiet: bool, show_diff: bool) -> None:
    """Compile every workbook under --tables into --out."""
    compilation, report = _compile(tables, quiet)
    if compilation.files is None:
        click.echo(report.summary("compile"), err=True)
        sys.exit(report.exit_code)
    change = output.plan(out, compilation.files)
    report.unchanged = len(change.unchanged)
    if show_diff:
        report.stale = [*change.new, *change.changed, *change.orphaned]
        click.echo(change.diff(), nl=False)
        click.echo(report.summary("diff"), err=True)
        sys.exit(Exit.OK)
    output.apply(out, change)
    report.written = [*change.new, *change.changed]
    report.removed = list(change.orphaned)
    for name in report.written:
        click.echo(f"wrote {out / name}", err=True)
    for name in report.removed:
        click.echo(f"removed {out / name}", err=True)
    click.echo(report.summary("compile"), err=True)


@main.command("check")
@folders
@guarded
def check_command(tables: Path, out: Path, quiet: bool) -> None:
    """Exit 1 if --out is not exactly what --tables generates. Never writes."""
    compilation, report = _compile(tables, quiet)
    if compilation.files is None:
        click.echo(report.summary("check"), err=True)
        sys.exit(report.exit_code)
    change = output.plan(out, compilation.files)
    report.unchanged = len(change.unchanged)
    report.stale = [*change.new, *change.changed, *change.orphaned]
    for label, names in (
        ("missing", change.new),
        ("stale", change.changed),
        ("orphaned", change.orphaned),
    ):
        for name in names:
            click.echo(f"{label}: {out / name}", err=True)
    if change.stale:
        click.echo(change.diff(), nl=False)
    click.echo(report.summary("check"), err=True)
    sys.exit(report.exit_code)


@main.command("eval")
@folders
@click.argument("table")
@click.argument("assignments", nargs=-1, metavar="NAME=VALUE...")
@click.option(
    "--as-of",
    "as_of",
    help="Evaluation date (ISO), for versioned tables. Default: today.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
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
    compilation, report = _compile(tables, True)
    if compilation.files is None or compilation.project is None:
        click.echo(report.summary("compile"), err=True)
        sys.exit(report.exit_code)
    project = compilation.project
    names = [d.name for d in project.decisions]
    if table not in names:
        hint = suggest(table, names)
        raise click.UsageError(
            f"no table named {table!r}" + (f"; {hint}" if hint else "")
        )
    columns = {c.name: c for c in project.chain_inputs(table)}
    versioned = project.chain_versioned(table)
    module = load_table(compilation.files, table)

    def run(values: dict[str, str | None], when: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for name, text in values.items():
            if name not in columns:
                hint = suggest(name, columns)
                raise click.UsageError(
                    f"{table!r} has no input {name!r}"
                    + (f"; {hint}" if hint else f"; inputs: {', '.join(columns)}")
                )
            if text is None or not text.strip():
                kwargs[name] = None
                continue
            try:
                kwargs[name] = cells.parse_literal(text, columns[name].type)
            except CellError as exc:
                raise click.UsageError(
                    f"{name}={text!r}: {exc.message}"
                    + (f" ({exc.hint})" if exc.hint else "")
                ) from None
        if when:
            if not versioned:
                raise click.UsageError(
                    f"{table!r} has no effective-dated versions; drop --as-of"
                )
            try:
                kwargs["as_of"] = cells.parse_date_text(when.strip())
            except CellError as exc:
                raise click.UsageError(f"--as-of {when!r}: {exc.message}") from None
        try:
            return result_json(module.evaluate(**kwargs))
        except (
            ValueError
        ) as exc:  # the evaluator's InputError, NoVersionError, AmbiguousError
            raise click.UsageError(str(exc)) from None

    if cases is not None:
        _eval_cases(cases, run, as_of)
        return
    values: dict[str, str | None] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep:
            raise click.UsageError(f"{item!r} is not NAME=VALUE")
        values[name.strip()] = text
    result = run(values, as_of)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    outputs = result["outputs"]
    for row in outputs if isinstance(outputs, list) else [outputs]:
        click.echo(", ".join(f"{k} = {v!r}" for k, v in row.items()))
    if isinstance(outputs, list) and not outputs:
        click.echo("(no rule matched and there is no Default)")
    click.echo(f"matched: {', '.join(result['matched']) or '(none)'}")


def _eval_cases(
    cases: Path,
    run: Callable[[dict[str, str | None], str | None], dict[str, Any]],
    as_of: str | None,
) -> None:
    failed = 0
    with cases.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            values = {
                k.strip(): v
                for k, v in row.items()
                if k is not None and k.strip() != "as_of"
            }
            when = (row.get("as_of") or "").strip() or as_of
            try:
                line: dict[str, Any] = run(values, when)
            except click.UsageError as exc:
                failed += 1
                line = {"row": number, "error": exc.message}
            click.echo(json.dumps(line, ensure_ascii=False))
    if failed:
        click.echo(f"{cases}: {failed} row(s) could not be evaluated", err=True)
        sys.exit(Exit.USAGE)
