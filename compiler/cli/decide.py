"""`eval`, `explain` and `run`: decide one case (and say why), a cases file, or every
row of a data file with the generated evaluator, compiled in memory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from compiler.cli.options import (
    F,
    compiled,
    folders,
    guarded,
    known_table,
    progress,
)
from compiler.emitting.loader import EvalError, TextEvaluator, read_cases
from compiler.model import Project
from compiler.report import Exit, run_summary


def _compiled_table(tables: Path, table: str) -> tuple[Project, dict[str, str]]:
    """The tables compiled in memory (so `eval` and `run` always run exactly the code
    `compile` writes), once TABLE is known to be one of them; exit 3 on errors."""
    project, files, _ = compiled(tables, True, "compile")
    known_table(table, [d.name for d in project.decisions])
    return project, files


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
    evaluator = TextEvaluator.load(*_compiled_table(tables, table), table)
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
        click.echo(", ".join(f"{k} = {v!r}" for k, v in row.items()))
    if isinstance(outputs, list) and not outputs:
        click.echo("(no rule matched and there is no Default)")
    click.echo(f"matched: {', '.join(result['matched']) or '(none)'}")


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
    evaluator = TextEvaluator.load(*_compiled_table(tables, table), table)
    try:
        explanation = evaluator.explain(_assigned(assignments), as_of)
    except EvalError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(explanation.to_json(), ensure_ascii=False))
        return
    click.echo(str(explanation))


def _eval_cases(cases: Path, evaluator: TextEvaluator, as_of: str | None) -> None:
    """One JSON line per row, its result or its error; exit 2 if any row failed."""
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
        sys.exit(Exit.USAGE)


@click.command("run")
@folders
@click.argument("table")
@click.option(
    "--input",
    "source",
    required=True,
    type=click.Path(path_type=Path),
    help="A Parquet or CSV file (.parquet, .csv) with one column per input.",
)
@click.option(
    "--output",
    "target",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write the inputs, outputs and matched rules (.parquet or .csv; "
    "with --engine dask a folder of Parquet parts).",
)
@click.option(
    "--errors",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The CSV file of rejected rows. Default: beside OUTPUT, with .errors.csv "
    "for its extension (decisions.parquet: decisions.errors.csv).",
)
@click.option(
    "--as-of", "as_of", metavar="DATE", help="One evaluation date (ISO) for every row."
)
@click.option(
    "--as-of-column",
    metavar="NAME",
    help="The column holding each row's evaluation date (default: as_of, if present).",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=250_000,
    show_default=True,
    help="Rows evaluated at a time (memory grows with it).",
)
@click.option(
    "--engine",
    type=click.Choice(["pandas", "dask", "spark"]),
    default="pandas",
    show_default=True,
    help="pandas: in this process; dask: on a Dask cluster (the dask extra: "
    "pip install -e '.[dask]'); spark: on Spark (the spark extra, and Java).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: the cluster's scheduler, e.g. tcp://host:8786 "
    "(default: a local cluster, one worker per core).",
)
@click.option(
    "--master",
    metavar="URL",
    help="With --engine spark: the cluster's master, e.g. spark://host:7077 or yarn "
    "(default: local mode, local[*]).",
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    help="With --engine dask or spark: split the input into this many partitions.",
)
@guarded
def run_command(
    tables: Path,
    out: Path,
    quiet: bool,
    table: str,
    source: Path,
    target: Path,
    errors: Path | None,
    as_of: str | None,
    as_of_column: str | None,
    chunk_size: int,
    engine: str,
    scheduler: str | None,
    master: str | None,
    partitions: int | None,
) -> None:
    """Evaluate TABLE on every row of a Parquet or CSV file, in chunks; write the
    inputs with the outputs and matched rules. Rows whose values TABLE cannot take
    go to the errors file (row, column, value, message); the others still run.
    Exit 4 when rows were rejected."""
    from compiler import batch

    if engine != "dask" and scheduler:
        raise click.UsageError("--scheduler needs --engine dask")
    if engine != "spark" and master:
        raise click.UsageError("--master needs --engine spark")
    if engine == "pandas" and partitions:
        raise click.UsageError("--partitions needs --engine dask or spark")
    project, files = _compiled_table(tables, table)
    errors = errors or target.with_name(f"{target.stem}.errors.csv")
    try:
        batch.file_format(target, "--output")
        if len({p.resolve() for p in (source, target, errors)}) < 3:
            raise batch.RunError(
                "--input, --output and --errors must be three different paths",
                usage=True,
            )
        opened = batch.Source.open(source)
        plan = batch.make_plan(
            project,
            files,
            table,
            opened.schema,
            as_of=as_of,
            as_of_column=as_of_column,
            text=target.suffix.lower() == ".csv",
            cells=opened.format == "csv",
        )
        for note in plan.notes:
            click.secho(f"{source}: warning: {note}", fg="yellow", err=True)
        if engine == "spark":
            summary = batch.run_spark(
                plan,
                opened,
                target,
                errors,
                master=master,
                partitions=partitions,
                chunk_rows=chunk_size,
            )
        elif engine == "dask":
            summary = batch.run_dask(
                plan,
                opened,
                target,
                errors,
                scheduler=scheduler,
                partitions=partitions,
            )
        else:
            batch.reuse_memory()
            with progress(quiet, "deciding") as advance:
                summary = batch.run_local(
                    plan,
                    opened,
                    target,
                    errors,
                    chunk_rows=chunk_size,
                    progress=advance,
                )
    except batch.RunError as exc:
        if exc.usage:
            raise click.UsageError(str(exc)) from None
        click.secho(f"error: {exc}; nothing was written", fg="red", err=True)
        sys.exit(Exit.INVALID)
    click.echo(
        run_summary(
            summary.rows, summary.evaluated, summary.rejected, target, summary.errors
        ),
        err=True,
    )
    sys.exit(Exit.REJECTED if summary.rejected else Exit.OK)
