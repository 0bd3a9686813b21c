"""What changed between two versions of the tables, as a reviewer wants to read it.

Two levels:

- **Rules**: tables added and removed; per table, metadata, columns and rules added,
  removed and changed (cell by cell, in cell syntax), and changes of rule order.
- **Decisions**: both versions are evaluated by the reference interpreter over a grid
  of representative inputs (every value the rules and Values mention, both sides of
  every comparison, range end and version date, booleans, null (unless the input is
  required), and one "other" text),
  and the points where the outputs differ are merged into compact regions, each with
  an example input and the old and new outputs. A rule edit that changes no decision
  (a reworded note, a split rule) shows up in the first part only.

Sides are folders, single workbooks, or git revisions (`REV:tables`), extracted to a
temporary folder of the same name so that locations read as usual.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import posixpath
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from compiler.checking import interpret
from compiler.diagnostics import Diagnostic, has_errors
from compiler.model import (
    Bound,
    Column,
    Compare,
    DataType,
    Decision,
    Equals,
    Interval,
    Prefix,
    Project,
    Rule,
    Table,
    Value,
    YearsMonths,
)
from compiler.pipeline import load_tables
from compiler.reading.cell_text import entry_text, value_text
from compiler.reading.cells import tests_match
from compiler.reading.workbook import RawWorkbook, read_workbook

MAX_POINTS = 20_000  # grid points per table; above it a fixed-seed sample is taken


class SourceError(Exception):
    """A side that cannot be found or extracted (a usage error, not a table problem)."""


# -- sides ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Side:
    label: str
    project: Project | None
    diagnostics: tuple[Diagnostic, ...]


@contextlib.contextmanager
def materialize(spec: str) -> Iterator[Path]:
    """A folder holding the tables of SPEC: a folder, a workbook, or `REV:path`."""
    path = Path(spec)
    with tempfile.TemporaryDirectory(prefix="compile-rules-diff-") as tmp:
        if path.is_dir():
            yield path
        elif path.is_file():
            folder = Path(tmp) / "tables"
            folder.mkdir()
            shutil.copy2(path, folder / path.name)
            yield folder
        elif ":" in spec:
            rev, _, inside = spec.partition(":")
            yield _git_extract(rev, inside or ".", Path(tmp))
        else:
            raise SourceError(f"{spec!r} is neither a file, a folder nor REV:path")


def _git(*args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise SourceError("git is not installed") from None
    if done.returncode:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        said = (
            lines[-1].removeprefix("fatal: ").removeprefix("error: ") if lines else ""
        )
        raise SourceError(f"git {args[0]} failed" + (f": {said}" if said else ""))
    return done.stdout


def _check_revision(rev: str) -> None:
    """Say what is wrong, in our words, when REV cannot be read: no repository here,
    or no such commit (git's own `fatal: ...` lines are not for authors)."""
    inside = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], capture_output=True, check=False
    )
    if inside.returncode or inside.stdout.strip() != b"true":
        raise SourceError(
            f"cannot read revision {rev!r}: {Path.cwd()} is not inside a git "
            "repository (run diff --git where the tables are committed)"
        )
    known = subprocess.run(
        [
            "git",
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{rev}^{{commit}}",
        ],
        capture_output=True,
        check=False,
    )
    if known.returncode:
        raise SourceError(
            f"{rev!r} is not a commit of this repository; give a commit, branch or "
            "tag, e.g. HEAD, HEAD~1 or main (`git log --oneline` lists them)"
        )


def _git_extract(rev: str, inside: str, tmp: Path) -> Path:
    """Write the *.xlsx files of INSIDE (a folder or file, relative to the working
    directory) at revision REV under TMP, keeping the folder's own name."""
    try:
        _check_revision(rev)
    except FileNotFoundError:
        raise SourceError("git is not installed") from None
    names = [
        n
        for n in _git(
            "ls-tree", "-r", "-z", "--name-only", "--full-name", rev, "--", inside
        )
        .decode()
        .split("\0")
        if n.endswith(".xlsx")
    ]
    if not names:
        raise SourceError(f"no .xlsx workbook under {inside!r} at revision {rev!r}")
    prefix = _git("rev-parse", "--show-prefix").decode().strip()
    base = posixpath.normpath(prefix + inside)
    folder = tmp / (Path(base).name if base != "." else "tables")
    single = len(names) == 1 and names[0] == base
    for name in names:
        inner = Path(name) if base == "." else Path(name).relative_to(base)
        target = folder / (Path(name).name if single else inner)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_git("cat-file", "blob", f"{rev}:{name}"))
    return folder


def load_side(spec: str) -> Side:
    with materialize(spec) as folder:
        project, diagnostics = load_tables(folder)
    return Side(spec, project, diagnostics)


# -- structural changes -------------------------------------------------------------


def _column_text(column: Column) -> str:
    parts = [
        f"from {column.source_table}" if column.source_table else column.kind.value
    ]
    parts.append(column.type.value)
    if column.values is not None:
        parts.append(f"Values {entry_text(column.values, column.type)}")
    if column.has_default:
        parts.append(f"Default {_literal(column.default, column)}")
    return ", ".join(parts)


def _literal(value: Value | tuple[Value, ...], column: Column | None = None) -> str:
    return value_text(value, quote=column is None or column.type is not DataType.CODE)


def _rule_cells(table: Table, rule: Rule) -> dict[str, str]:
    cells = {
        c.name: entry_text(e, c.type)
        for c, e in zip(table.inputs, rule.inputs, strict=True)
    }
    cells.update(
        {
            c.name: _literal(v, c)
            for c, v in zip(table.outputs, rule.outputs, strict=True)
        }
    )
    cells.update(
        {c.name: a for c, a in zip(table.annotations, rule.annotations, strict=True)}
    )
    return cells


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split()) or "(empty)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _change(before: str, after: str, limit: int = 80, context: int = 24) -> str:
    """`before → after`, each cut to LIMIT around where they differ, so that a long
    note edited in the middle shows the edit, not two identical beginnings."""
    was, now = " ".join(before.split()), " ".join(after.split())
    if len(was) <= limit and len(now) <= limit:
        return f"{_short(was)} → {_short(now)}"
    start = 0
    while start < min(len(was), len(now)) and was[start] == now[start]:
        start += 1
    end = 0
    while end < min(len(was), len(now)) - start and was[-1 - end] == now[-1 - end]:
        end += 1
    begin = max(0, start - context)

    def cut(text: str) -> str:
        stop = len(text) - max(0, end - context)
        shown = (
            ("…" if begin else "")
            + text[begin:stop]
            + ("…" if stop < len(text) else "")
        )
        return _short(shown, limit)

    return f"{cut(was)} → {cut(now)}"


def _rule_line(table: Table, rule: Rule) -> str:
    cells = _rule_cells(table, rule)
    shown = [
        f"{n} = {cells[n]}" for n in (c.name for c in table.inputs + table.outputs)
    ]
    return ", ".join(shown)


def table_changes(old: Table, new: Table) -> list[str]:
    """The differences between two versions of one table, one line each."""
    lines: list[str] = []
    for label, before, after in (
        ("hit policy", old.hit_policy_text, new.hit_policy_text),
        ("title", old.title, new.title),
        ("source", old.source, new.source),
        ("effective from", old.effective_from, new.effective_from),
        ("effective to", old.effective_to, new.effective_to),
        ("complete", old.complete, new.complete),
    ):
        if before != after:
            lines.append(f"{label}: {_fmt(before)} → {_fmt(after)}")
    old_columns = {c.name: c for c in old.inputs + old.outputs + old.annotations}
    new_columns = {c.name: c for c in new.inputs + new.outputs + new.annotations}
    for name, column in new_columns.items():
        if name not in old_columns:
            lines.append(f"column {name} added: {_column_text(column)}")
        elif _column_text(old_columns[name]) != _column_text(column):
            lines.append(
                f"column {name} changed: {_column_text(old_columns[name])} → "
                f"{_column_text(column)}"
            )
    lines += [f"column {n} removed" for n in old_columns if n not in new_columns]
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    for rule in new.rules:
        if rule.id not in old_rules:
            lines.append(f"rule {rule.id} added: {_rule_line(new, rule)}")
            continue
        was = _rule_cells(old, old_rules[rule.id])
        now = _rule_cells(new, rule)
        changed = [
            f"{n}: {_change(was.get(n, '(no column)'), now.get(n, '(no column)'))}"
            for n in dict.fromkeys([*was, *now])
            if was.get(n) != now.get(n)
        ]
        if changed:
            lines.append(f"rule {rule.id} changed: " + "; ".join(changed))
    for rule in old.rules:
        if rule.id not in new_rules:
            lines.append(f"rule {rule.id} removed: {_rule_line(old, rule)}")
    kept_old = [r.id for r in old.rules if r.id in new_rules]
    kept_new = [r.id for r in new.rules if r.id in old_rules]
    if kept_old != kept_new:
        lines.append(f"rule order changed: {', '.join(kept_new)}")
    return lines


def _fmt(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return repr(value) if isinstance(value, str) else str(value)


def _version_label(table: Table) -> str:
    start = table.effective_from.isoformat() if table.effective_from else "…"
    end = table.effective_to.isoformat() if table.effective_to else "…"
    return f"version {start} to {end}"


def decision_changes(old: Decision, new: Decision) -> list[str]:
    if len(old.versions) == len(new.versions) == 1:
        return table_changes(old.first, new.first)
    lines: list[str] = []
    if len(old.versions) != len(new.versions):
        lines.append(
            f"versions: {len(old.versions)} → {len(new.versions)} "
            f"({', '.join(_version_label(t) for t in new.versions)})"
        )
    for before, after in zip(old.versions, new.versions, strict=False):
        lines += [
            f"{_version_label(after)}: {line}" for line in table_changes(before, after)
        ]
    return lines


# -- decisions ------------------------------------------------------------------------


_OTHER = "other"


@dataclass(frozen=True, slots=True)
class Region:
    """Inputs (name -> condition text) where the outputs changed from OLD to NEW."""

    conditions: tuple[tuple[str, str], ...]
    example: tuple[tuple[str, Value], ...]
    old: str
    new: str
    points: int


@dataclass(frozen=True, slots=True)
class TableDiff:
    name: str
    changes: tuple[str, ...]
    regions: tuple[Region, ...]
    points: int  # grid points evaluated
    total: int  # grid points in all (more than `points` when sampled)
    versioned: bool = False


@dataclass(frozen=True, slots=True)
class ProjectDiff:
    old: str
    new: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    tables: tuple[TableDiff, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.tables)

    def format(self, max_regions: int | None = 12) -> str:
        """The report as text; at most MAX_REGIONS regions per table (None: all)."""
        lines = [f"--- {self.old}", f"+++ {self.new}"]
        if self.empty:
            lines.append("no differences in the tables")
        lines += [f"table {name} added" for name in self.added]
        lines += [f"table {name} removed" for name in self.removed]
        for table in self.tables:
            lines.append(f"table {table.name} changed:")
            lines += [f"  {line}" for line in table.changes]
            sample = (
                f", a sample of {table.points} of {table.total} points"
                if table.points < table.total
                else f", {table.points} points"
            )
            if not table.regions:
                lines.append(f"  decisions: no input decides differently{sample}")
                continue
            lines.append(
                f"  decisions: {len(table.regions)} region(s) decide differently{sample}:"
            )
            shown = table.regions[:max_regions] if max_regions else table.regions
            for region in shown:
                when = " and ".join(f"{n} {c}" for n, c in region.conditions) or (
                    "for every input"
                )
                lines.append(f"    when {when}:")
                lines.append(f"      before: {region.old}")
                lines.append(f"      after:  {region.new}")
                args = " ".join(
                    _eval_arg(n, v) for n, v in region.example if v is not None
                )
                lines.append(
                    f"      e.g. compile-rules eval {table.name} {args}".rstrip()
                )
            if len(shown) < len(table.regions):
                lines.append(
                    f"    ... and {len(table.regions) - len(shown)} more region(s) "
                    "(--all shows them)"
                )
        return "\n".join(lines) + "\n"


def _eval_arg(name: str, value: Value) -> str:
    text = value_text(value, quote=False)
    if name == "as_of":
        return f"--as-of {text}"
    return (
        f"{name}={text}" if " " not in text and '"' not in text else f"{name}='{text}'"
    )


def _signature(project: Project, name: str) -> object:
    """What the decision's behaviour depends on (locations and notes left out),
    including the tables it requires."""

    def column(c: Column) -> object:
        return (c.name, c.type, c.source_table, c.values, c.default, c.has_default)

    def table(t: Table) -> object:
        return (
            t.hit_policy,
            t.aggregation,
            t.effective_from,
            t.effective_to,
            tuple(map(column, t.inputs)),
            tuple(map(column, t.outputs)),
            tuple((r.inputs, r.outputs) for r in t.rules),
        )

    seen: dict[str, object] = {}

    def visit(n: str) -> None:
        if n in seen:
            return
        try:
            decision = project.decision(n)
        except KeyError:
            seen[n] = None
            return
        seen[n] = tuple(map(table, decision.versions))
        for required in decision.requires:
            visit(required)

    visit(name)
    return tuple(sorted(seen.items()))


def _chain_columns(project: Project, name: str) -> list[Column]:
    try:
        return list(project.chain_inputs(name))
    except (KeyError, RecursionError):
        return list(project.decision(name).first.inputs)


def _chain_tables(project: Project, name: str) -> list[Table]:
    found: list[Table] = []
    stack, seen = [name], set()
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        try:
            decision = project.decision(n)
        except KeyError:
            continue
        found.extend(decision.versions)
        stack.extend(decision.requires)
    return found


def _step(column: Column, values: list[float]) -> float:
    if column.type is DataType.INTEGER:
        return 1
    gaps = [b - a for a, b in itertools.pairwise(sorted(set(values))) if b > a]
    return min([1.0, *(g / 2 for g in gaps)])


def _code_step(code: str, delta: int) -> str | None:
    """The code next to CODE with the same length (`70450` -> `70451`), if numeric."""
    digits = len(code) - len(code.rstrip("0123456789"))
    if not digits:
        return None
    head, tail = code[: len(code) - digits], code[len(code) - digits :]
    number = int(tail) + delta
    if number < 0 or len(str(number)) > digits:
        return None
    return head + str(number).zfill(digits)


def representative_values(column: Column, tables: list[Table]) -> list[Value]:
    """The values of one input that tell the rules apart (see the module docstring)."""
    mentioned: list[Value] = []
    bounds: list[Bound] = []
    prefixes: list[str] = []
    entries = [
        entry
        for table in tables
        for i, c in enumerate(table.inputs)
        if c.name == column.name and not c.source_table
        for entry in [r.inputs[i] for r in table.rules]
    ]
    if column.values is not None:
        entries.append(column.values)
    for entry in entries:
        for test in entry.tests:
            if isinstance(test, Equals):
                mentioned.append(test.value)
            elif isinstance(test, Compare):
                bounds.append(test.value)
            elif isinstance(test, Interval):
                bounds += [test.low, test.high]
            elif isinstance(test, Prefix):
                prefixes.append(test.prefix)
    # null, unless the input is required on every side (then it raises, both sides)
    required = all(
        c.required for t in tables for c in t.inputs if c.name == column.name
    )
    values: list[Value] = [*([] if required else [None]), *mentioned, *bounds]
    if column.type is DataType.BOOLEAN:
        values += [True, False]
    elif column.type in (DataType.INTEGER, DataType.NUMBER):
        numbers = [
            float(v)
            for v in (*bounds, *mentioned)
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
        step = _step(column, numbers)
        for number in numbers:
            values += [number - step, number + step]
        if column.type is DataType.INTEGER:
            values = [int(v) if isinstance(v, float) else v for v in values]
        if not numbers:
            values.append(0)
    elif column.type is DataType.DATE:
        dates = [v for v in (*bounds, *mentioned) if isinstance(v, dt.date)]
        day = dt.timedelta(days=1)
        for date in dates:
            values += [date - day, date + day]
        if not dates:
            values.append(dt.date(2000, 1, 1))
    elif column.type is DataType.YEARS_MONTHS:  # version 2: a month either side
        months = [v for v in (*bounds, *mentioned) if isinstance(v, YearsMonths)]
        for ym in months:
            values += [YearsMonths(ym.total - 1), YearsMonths(ym.total + 1)]
        if not months:
            values.append(YearsMonths(0))
    else:
        for bound in bounds:
            if isinstance(bound, str):
                values += [_code_step(bound, -1), _code_step(bound, 1)]
        values += [p + "0" for p in prefixes]
        if not column.enumerated:
            other = _OTHER
            while other in values:
                other += "_"
            values.append(other)
    unique: dict[tuple[str, object], Value] = {}
    for v in values:
        unique.setdefault((type(v).__name__, v), v)
    allowed = column.values
    kept = [
        v
        for v in unique.values()
        if v is None or allowed is None or tests_match(allowed, v)
    ]
    return sorted(kept, key=_order)


def _order(value: Value) -> tuple[int, str, float]:
    if value is None:
        return (0, "", 0.0)
    if isinstance(value, bool):
        return (1, "", float(value))
    if isinstance(value, (int, float)):
        return (2, "", float(value))
    if isinstance(value, dt.date):
        return (3, "", float(value.toordinal()))
    if isinstance(value, dt.timedelta):  # version 2
        return (5, "", value.total_seconds())
    if isinstance(value, YearsMonths):
        return (7, "", float(value.total))
    if isinstance(value, dt.time):
        return (6, value.isoformat(), 0.0)
    return (4, value, 0.0)


def _as_of_values(old: Project, new: Project, name: str) -> list[Value]:
    dates: set[dt.date] = set()
    for project in (old, new):
        for table in _chain_tables(project, name):
            for edge in (table.effective_from, table.effective_to):
                if edge:
                    dates |= {
                        edge - dt.timedelta(days=1),
                        edge,
                        edge + dt.timedelta(days=1),
                    }
    return list(sorted(dates))


def _outcome(project: Project, name: str, point: dict[str, Value]) -> tuple[str, str]:
    """(outputs as text, matched ids) of NAME at POINT; errors become text too."""
    as_of = point.get("as_of")
    assert as_of is None or isinstance(as_of, dt.date)
    try:
        outputs, matched = interpret.evaluate(project, name, point, as_of)
    except interpret.Ambiguous as exc:
        return f"ambiguous ({str(exc).split(': ', 1)[-1]})", ""
    except interpret.NoVersion:
        return "no version in force", ""
    except interpret.MissingInput as exc:
        return f"missing input ({str(exc).split(': ', 1)[-1]})", ""
    except (KeyError, RecursionError, TypeError) as exc:
        return f"cannot evaluate ({type(exc).__name__})", ""
    return _outputs_text(outputs), ", ".join(matched)


def _outputs_text(outputs: dict[str, Value] | list[dict[str, Value]]) -> str:
    if isinstance(outputs, list):
        return "[" + "; ".join(_outputs_text(o) for o in outputs) + "]"
    return ", ".join(f"{k} = {value_text(v)}" for k, v in outputs.items())


def decision_regions(
    old: Project, new: Project, name: str, *, max_points: int = MAX_POINTS
) -> tuple[list[Region], int, int]:
    """Regions of the input space where NAME decides differently; also the number of
    points evaluated and the size of the grid."""
    columns: dict[str, Column] = {}
    for project in (new, old):
        for column in _chain_columns(project, name):
            columns.setdefault(column.name, column)
    tables = _chain_tables(old, name) + _chain_tables(new, name)
    axes: list[tuple[str, list[Value]]] = [
        (n, representative_values(c, tables)) for n, c in columns.items()
    ]
    if old.chain_versioned(name) or new.chain_versioned(name):
        axes.append(("as_of", _as_of_values(old, new, name)))
    axes = [(n, vs) for n, vs in axes if vs]
    total = 1
    for _, vs in axes:
        total *= len(vs)
    grid: list[tuple[int, ...]]
    ranges = [range(len(vs)) for _, vs in axes]
    if total <= max_points:
        grid = list(itertools.product(*ranges))
    else:
        rng = random.Random(0)
        grid = sorted(
            {tuple(rng.randrange(len(r)) for r in ranges) for _ in range(max_points)}
        )
    differing: dict[tuple[str, str], list[tuple[int, ...]]] = {}
    examples: dict[tuple[str, str], tuple[str, str]] = {}
    for index in grid:
        point = {n: vs[i] for (n, vs), i in zip(axes, index, strict=True)}
        before, old_ids = _outcome(old, name, point)
        after, new_ids = _outcome(new, name, point)
        if before != after:
            key = (before, after)
            differing.setdefault(key, []).append(index)
            examples.setdefault(key, (old_ids, new_ids))
    regions = []
    for (before, after), points in differing.items():
        old_ids, new_ids = examples[(before, after)]
        for boxes in _merge(points, len(axes)):
            example = boxes[1]
            regions.append(
                Region(
                    conditions=tuple(
                        (axes[d][0], _condition(axes[d][1], boxes[0][d]))
                        for d in range(len(axes))
                        if len(boxes[0][d]) < len(axes[d][1])
                    ),
                    example=tuple(
                        (axes[d][0], axes[d][1][example[d]]) for d in range(len(axes))
                    ),
                    old=before + (f"   ({old_ids})" if old_ids else "   (no rule)"),
                    new=after + (f"   ({new_ids})" if new_ids else "   (no rule)"),
                    points=boxes[2],
                )
            )
    regions.sort(key=lambda r: [_order(v) for _, v in r.example])
    return regions, len(grid), total


Box = tuple[tuple[frozenset[int], ...], tuple[int, ...], int]


def _merge(points: list[tuple[int, ...]], dims: int) -> list[Box]:
    """Join points into boxes (a set of values per axis), one axis at a time: points
    that agree on every other axis become one box. Each box keeps its first point as
    the example and counts its points."""
    boxes: list[Box] = [
        (tuple(frozenset((i,)) for i in p), p, 1) for p in sorted(points)
    ]
    for d in range(dims):
        groups: dict[tuple[frozenset[int], ...], Box] = {}
        for sets, example, count in boxes:
            key = sets[:d] + sets[d + 1 :]
            if key in groups:
                old_sets, old_example, old_count = groups[key]
                merged = old_sets[:d] + (old_sets[d] | sets[d],) + old_sets[d + 1 :]
                groups[key] = (merged, min(old_example, example), old_count + count)
            else:
                groups[key] = (sets, example, count)
        boxes = list(groups.values())
    return boxes


def _ordered(value: Value) -> bool:
    return isinstance(value, (int, float, dt.date)) and not isinstance(value, bool)


def _condition(values: list[Value], chosen: frozenset[int]) -> str:
    """`= 18`, `in 16, 17`, `in [18..64]`, `>= 65`: runs of neighbouring ordered
    values become ranges, and a run to the end of the axis an open comparison (the
    grid has a point on both sides of every edge, so nothing changes beyond it)."""
    picked = sorted(chosen)
    if len(picked) == 1:
        return f"= {value_text(values[picked[0]])}"
    ordered = [i for i, v in enumerate(values) if _ordered(v)]
    parts: list[str] = []
    run: list[int] = []

    def flush() -> None:
        if not run:
            return
        first, last = values[run[0]], values[run[-1]]
        if _ordered(first) and type(first) is type(last) and len(run) >= 2:
            if run[-1] == ordered[-1] and run[0] != ordered[0]:
                parts.append(f">= {value_text(first)}")
            elif run[0] == ordered[0] and run[-1] != ordered[-1]:
                parts.append(f"<= {value_text(last)}")
            elif len(run) >= 3:
                parts.append(f"[{value_text(first)}..{value_text(last)}]")
            else:
                parts.extend(value_text(values[i]) for i in run)
        else:
            parts.extend(value_text(values[i]) for i in run)
        run.clear()

    for i in picked:
        if run and (
            i != run[-1] + 1 or _ordered(values[i]) != _ordered(values[run[-1]])
        ):
            flush()
        run.append(i)
    flush()
    if len(parts) == 1 and parts[0][:2] in (">=", "<="):
        return parts[0]
    return "in " + ", ".join(parts)


def diff_projects(old: Side, new: Side, *, max_points: int = MAX_POINTS) -> ProjectDiff:
    assert old.project is not None and new.project is not None
    before = {d.name: d for d in old.project.decisions}
    after = {d.name: d for d in new.project.decisions}
    tables: list[TableDiff] = []
    for name, decision in after.items():
        if name not in before:
            continue
        changes = decision_changes(before[name], decision)
        same = _signature(old.project, name) == _signature(new.project, name)
        if same and not changes:
            continue
        regions: list[Region] = []
        points = total = 0
        if not same:
            regions, points, total = decision_regions(
                old.project, new.project, name, max_points=max_points
            )
        tables.append(
            TableDiff(
                name,
                tuple(changes or [_required_change(old.project, new.project, name)]),
                tuple(regions),
                points,
                total,
            )
        )
    return ProjectDiff(
        old.label,
        new.label,
        tuple(n for n in after if n not in before),
        tuple(n for n in before if n not in after),
        tuple(tables),
    )


def _required_change(old: Project, new: Project, name: str) -> str:
    changed = [
        t.name
        for t in _chain_tables(new, name)
        if t.name != name and _signature(old, t.name) != _signature(new, t.name)
    ]
    listed = ", ".join(dict.fromkeys(changed)) or "a table it requires"
    return f"(no change in this table; it requires {listed}, which changed)"


def side_problems(side: Side) -> str:
    """Why a side cannot be compared, or ''."""
    if side.project is None or has_errors(side.diagnostics):
        return (
            f"{side.label}: the tables have errors; run `compile-rules check` on them"
        )
    return ""


# -- show (git textconv) -----------------------------------------------------------------


def _raw_text(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return (
            value.date().isoformat()
            if value.time() == dt.time(0)
            else value.isoformat()
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace("|", "\\|")


def show_workbook(book: RawWorkbook) -> str:
    """Every sheet of a workbook as text, one line per non-empty row: what `git diff`
    shows for a workbook through the textconv set-up in docs/authoring.md."""
    lines: list[str] = []
    for sheet in book.sheets:
        hidden = " (hidden)" if sheet.hidden else ""
        lines.append(f"== {sheet.title}{hidden} ==")
        for row in range(1, sheet.max_row + 1):
            cells = [sheet.value(row, c) for c in range(1, sheet.max_column + 1)]
            while cells and cells[-1] is None:
                cells.pop()
            if cells:
                lines.append(
                    " | ".join("" if c is None else _raw_text(c) for c in cells)
                )
            elif lines[-1] != "":
                lines.append("")
        if lines[-1] != "":
            lines.append("")
    return "\n".join(lines)


def show_file(path: Path) -> str | Diagnostic:
    book = read_workbook(path, path.name)
    return book if isinstance(book, Diagnostic) else show_workbook(book)
