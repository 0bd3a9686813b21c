"""`eval`, `explain` and `run`: decide one case (and say why), a cases file, or every
row of a data file with the generated evaluator, compiled in memory."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    `compile` writes), once TABLE is known to be one of them; exit 3 on errors. The
    Tests-sheet cases are not run: these commands show what the tables decide, also
    while a case fails (to see why)."""
    compilation, files, _ = compiled(tables, True, "compile", cases=False)
    known_table(table, list(compilation.inputs))
    project = compilation.project()
    assert project is not None  # there are files: the tables compiled
    return project, files


def _evaluator(tables: Path, table: str) -> TextEvaluator:
    """TABLE's evaluator for `eval` and `explain`, as `_compiled_table` compiles it
    (without the whole project: what parses the arguments is in the cache entry)."""
    compilation, files, _ = compiled(tables, True, "compile", cases=False)
    known_table(table, list(compilation.inputs))
    columns, versioned = compilation.inputs[table]
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


def _batch_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options `run` and `impact` share: the files, dates, chunks, engine."""
    options = [
        click.option(
            "--input",
            "source",
            required=True,
            type=click.Path(path_type=Path),
            help="A Parquet or CSV file (.parquet, .csv) with one column per input.",
        ),
        click.option(
            "--output",
            "target",
            required=True,
            type=click.Path(path_type=Path),
            help="Where to write the rows (.parquet or .csv; with --engine dask or "
            "spark a folder of Parquet parts).",
        ),
        click.option(
            "--errors",
            type=click.Path(dir_okay=False, path_type=Path),
            help="The CSV file of rejected rows. Default: beside OUTPUT, with "
            ".errors.csv for its extension (decisions.parquet: decisions.errors.csv).",
        ),
        click.option(
            "--as-of",
            "as_of",
            metavar="DATE",
            help="One evaluation date (ISO) for every row.",
        ),
        click.option(
            "--as-of-column",
            metavar="NAME",
            help="The column holding each row's evaluation date (default: as_of, "
            "if present).",
        ),
        click.option(
            "--chunk-size",
            type=click.IntRange(min=1),
            default=250_000,
            show_default=True,
            help="Rows evaluated at a time (memory grows with it).",
        ),
        click.option(
            "--engine",
            type=click.Choice(["pandas", "dask", "spark"]),
            default="pandas",
            show_default=True,
            help="pandas: in this process; dask: on a Dask cluster (the dask extra: "
            "pip install -e '.[dask]'); spark: on Spark (the spark extra, and Java).",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            help="With --engine dask: the cluster's scheduler, e.g. tcp://host:8786 "
            "(default: a local cluster, one worker per core).",
        ),
        click.option(
            "--master",
            metavar="URL",
            help="With --engine spark: the cluster's master, e.g. spark://host:7077 "
            "or yarn (default: local mode, local[*]).",
        ),
        click.option(
            "--partitions",
            type=click.IntRange(min=1),
            help="With --engine dask or spark: split the input into this many "
            "partitions.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@dataclass(frozen=True)
class _Batch:
    """What `run` and `impact` were asked to read, write and run on."""

    source: Path
    target: Path
    errors: Path | None
    as_of: str | None
    as_of_column: str | None
    chunk_size: int
    engine: str
    scheduler: str | None
    master: str | None
    partitions: int | None

    def check(self) -> tuple[Path, Any]:
        """The errors file's path and the opened input (usage errors first)."""
        from compiler import batch

        if self.engine != "dask" and self.scheduler:
            raise click.UsageError("--scheduler needs --engine dask")
        if self.engine != "spark" and self.master:
            raise click.UsageError("--master needs --engine spark")
        if self.engine == "pandas" and self.partitions:
            raise click.UsageError("--partitions needs --engine dask or spark")
        target = self.target
        errors = self.errors or target.with_name(f"{target.stem}.errors.csv")
        batch.file_format(target, "--output")
        if len({p.resolve() for p in (self.source, target, errors)}) < 3:
            raise batch.RunError(
                "--input, --output and --errors must be three different paths",
                usage=True,
            )
        return errors, batch.Source.open(self.source)

    def plan(
        self, project: Project, files: dict[str, str], table: str, opened: Any
    ) -> Any:
        from compiler import batch

        return batch.make_plan(
            project,
            files,
            table,
            opened.schema,
            as_of=self.as_of,
            as_of_column=self.as_of_column,
            text=self.target.suffix.lower() == ".csv",
            cells=opened.format == "csv",
        )

    def run(self, plan: Any, opened: Any, errors: Path, quiet: bool) -> Any:
        """PLAN (a plan or an impact) over the input on the chosen engine."""
        from compiler import batch

        if self.engine == "spark":
            return batch.run_spark(
                plan,
                opened,
                self.target,
                errors,
                master=self.master,
                partitions=self.partitions,
                chunk_rows=self.chunk_size,
            )
        if self.engine == "dask":
            return batch.run_dask(
                plan,
                opened,
                self.target,
                errors,
                scheduler=self.scheduler,
                partitions=self.partitions,
            )
        batch.reuse_memory()
        with progress(quiet, "deciding") as advance:
            return batch.run_local(
                plan,
                opened,
                self.target,
                errors,
                chunk_rows=self.chunk_size,
                progress=advance,
            )


@contextlib.contextmanager
def _run_errors() -> Iterator[None]:
    """A RunError as the command's error: usage (exit 2), else exit 3."""
    from compiler import batch

    try:
        yield
    except batch.RunError as exc:
        if exc.usage:
            raise click.UsageError(str(exc)) from None
        click.secho(f"error: {exc}; nothing was written", fg="red", err=True)
        sys.exit(Exit.INVALID)


@click.command("run")
@folders
@click.argument("table")
@_batch_options
@guarded
def run_command(
    tables: Path, out: Path, quiet: bool, table: str, **options: Any
) -> None:
    """Evaluate TABLE on every row of a Parquet or CSV file, in chunks; write the
    inputs with the outputs and matched rules. Rows whose values TABLE cannot take
    go to the errors file (row, column, value, message); the others still run.
    Exit 4 when rows were rejected."""
    asked = _Batch(**options)
    project, files = _compiled_table(tables, table)
    with _run_errors():
        errors, opened = asked.check()
        plan = asked.plan(project, files, table, opened)
        for note in plan.notes:
            click.secho(f"{asked.source}: warning: {note}", fg="yellow", err=True)
        summary = asked.run(plan, opened, errors, quiet)
    click.echo(
        run_summary(
            summary.rows, summary.evaluated, summary.rejected, asked.target, errors
        ),
        err=True,
    )
    sys.exit(Exit.REJECTED if summary.rejected else Exit.OK)


@click.command("impact")
@folders
@click.argument("table")
@click.option(
    "--git",
    "revision",
    metavar="REV",
    help="The old tables: --tables at git revision REV (e.g. HEAD~1, main).",
)
@click.option(
    "--old",
    "old_folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The old tables: a folder of workbooks.",
)
@_batch_options
@guarded
def impact_command(
    tables: Path,
    out: Path,
    quiet: bool,
    table: str,
    revision: str | None,
    old_folder: Path | None,
    **options: Any,
) -> None:
    """Decide every row of a Parquet or CSV file by the old tables (--git REV or
    --old DIR) and by --tables, and write the rows decided differently: the inputs,
    old_ and new_ of each output, old_matched and new_matched. Prints how many rows
    changed per (old rule, new rule). Rows either version rejects go to the errors
    file. Exit 1 when some row changed, else 4 when rows were rejected, else 0."""
    from compiler.authoring import diff
    from compiler.batch.impact import Impact, rule_pairs

    if (revision is None) == (old_folder is None):
        raise click.UsageError("give the old tables: --git REV or --old DIR")
    asked = _Batch(**options)
    spec = str(old_folder) if old_folder else f"{revision}:{tables.as_posix()}"
    try:
        with diff.materialize(spec) as folder:
            old_project, old_files = _compiled_table(folder, table)
    except diff.SourceError as exc:
        raise click.UsageError(str(exc)) from None
    project, files = _compiled_table(tables, table)
    with _run_errors():
        errors, opened = asked.check()
        impact = Impact(
            asked.plan(old_project, old_files, table, opened),
            asked.plan(project, files, table, opened),
        )
        for side, plan in (("old", impact.old), ("new", impact.new)):
            for note in plan.notes:
                click.secho(
                    f"{asked.source}: warning ({side} tables): {note}",
                    fg="yellow",
                    err=True,
                )
        summary = asked.run(impact, opened, errors, quiet)
    decided = summary.rows - summary.rejected
    click.echo(
        f"{summary.rows:,} row(s) read, {decided:,} decided by both versions, "
        f"{summary.evaluated:,} of them differently; wrote {asked.target}"
        + (
            f" ({summary.rejected:,} rejected: see {errors})"
            if summary.rejected
            else ""
        ),
        err=True,
    )
    pairs = rule_pairs(asked.target) if summary.evaluated else {}
    if pairs:
        click.echo("old rule -> new rule: rows")
        for (old, new), count in sorted(pairs.items(), key=lambda p: (-p[1], p[0])):
            click.echo(f"{old} -> {new}: {count:,}")
    if summary.evaluated:
        sys.exit(Exit.DRIFT)
    sys.exit(Exit.REJECTED if summary.rejected else Exit.OK)
