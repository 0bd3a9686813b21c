"""The impact of a policy change on real claims: every row of a file decided by two
versions of the tables, the rows decided differently written with both answers.

An `Impact` holds the plans of the old and the new tables and is run by any engine
as a plan is: each chunk is read once and decided twice (deciding costs little next
to reading and writing), and only the rows whose outputs or deciding rules differ
are written, with the input's columns, `old_` and `new_` of each output, and
`old_matched` and `new_matched`. A row either version rejects is not compared: it
goes to the errors file, once for a problem both versions have, else with the
version that has it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from compiler.batch.chunks import (
    Decided,
    Problem,
    arrow_results,
    decide_rows,
    described,
    input_columns,
    output_schema,
)
from compiler.batch.plan import Field, Plan
from compiler.batch.sources import RunError


@dataclass(frozen=True)
class Impact:
    old: Plan
    new: Plan

    @property
    def dictionary(self) -> tuple[str, ...]:
        return tuple(sorted({*self.old.dictionary, *self.new.dictionary}))

    def output_schema(self, source: pa.Schema) -> pa.Schema:
        """The input's columns (typed as the new tables type them), then old_ and new_
        of each output of either version, then old_matched and new_matched."""
        new = output_schema(source, self.new)
        old = output_schema(source, self.old)
        fields = list(new)[: len(source)]
        names = {f.name for f in fields}
        for side, schema in (("old", old), ("new", new)):
            for f in list(schema)[len(source) :]:
                name = f"{side}_{f.name}"
                if name in names:
                    raise RunError(
                        f"the input already has a column {name!r}, which impact "
                        "writes; rename or drop it",
                        usage=True,
                    )
                fields.append(pa.field(name, f.type))
        return pa.schema(fields)

    def coded_schema(self, schema: pa.Schema) -> None:
        return None  # the few changed rows are written plainly

    def decide(
        self, raw: pa.Table, schema: pa.Schema
    ) -> tuple[pa.Table, list[tuple[int, str, str, str]]]:
        """The rows of RAW that the versions decide differently (in SCHEMA), and the
        problems of the rows either rejects."""
        old, new = decide_rows(raw, self.old), decide_rows(raw, self.new)
        both = np.flatnonzero(old.keep & new.keep)
        differ = np.zeros(len(both), dtype=bool)
        sides = []
        for plan, decided in ((self.old, old), (self.new, new)):
            taken = decided.results.iloc[
                decided.results.index.get_indexer(pd.Index(both))
            ]
            sides.append((plan, taken))
        for name in _compared(self.old.outputs, self.new.outputs):
            differ |= _differ(sides[0][1].get(name), sides[1][1].get(name), len(both))
        changed = both[differ]
        columns = input_columns(raw, new.typed, schema, self.new.text, changed)
        for side, (plan, taken) in zip(("old", "new"), sides, strict=True):
            rows = taken.iloc[np.flatnonzero(differ)]
            for name in [*(f.name for f in plan.outputs), "matched"]:
                kind = schema.field(f"{side}_{name}").type
                listed = (
                    plan.shape != "single"
                    if name == "matched"
                    else plan.shape == "list"
                )
                columns.append(arrow_results(rows[name], kind, listed=listed))
        table = pa.Table.from_arrays(columns, schema=schema)
        return table, described(raw, _problems(old, new))


def _compared(old: tuple[Field, ...], new: tuple[Field, ...]) -> list[str]:
    names = [f.name for f in old]
    return [*names, *(f.name for f in new if f.name not in names), "matched"]


def _differ(old: Any, new: Any, rows: int) -> Any:
    """Per row, whether two Categorical columns (None: all missing) differ."""
    if old is None or new is None:
        present = old if new is None else new
        if present is None:
            return np.zeros(rows, dtype=bool)
        return np.asarray(present.cat.codes) >= 0
    codes = {v: i for i, v in enumerate(new.cat.categories)}
    as_new = np.array([codes.get(v, -2) for v in old.cat.categories] + [-1])
    return as_new.take(np.asarray(old.cat.codes)) != np.asarray(new.cat.codes)


def _problems(old: Decided, new: Decided) -> list[Problem]:
    """The problems of both versions: once when both have it, else saying which."""
    found = set(new.problems)
    shared = found & set(old.problems)
    problems = [p for p in new.problems if p in shared]
    problems += [
        (p, c, f"new tables only: {m}")
        for p, c, m in new.problems
        if (p, c, m) not in shared
    ]
    problems += [
        (p, c, f"old tables only: {m}")
        for p, c, m in old.problems
        if (p, c, m) not in shared
    ]
    return problems


def rule_pairs(output: Path) -> Counter[tuple[str, str]]:
    """Per (old rule, new rule), how many rows of the written OUTPUT (a file or a
    folder of Parquet parts) changed between them."""
    columns = ["old_matched", "new_matched"]
    if output.suffix.lower() == ".csv":
        table = pacsv.read_csv(
            output,
            convert_options=pacsv.ConvertOptions(
                include_columns=columns,
                column_types=dict.fromkeys(columns, pa.string()),
            ),
        )
    else:
        table = pq.read_table(output, columns=columns)
    return Counter(
        (_ids(old), _ids(new))
        for old, new in zip(
            *(table.column(c).to_pylist() for c in columns), strict=True
        )
    )


def _ids(matched: Any) -> str:
    """A matched value (an id, a list of ids, JSON text of one) as text."""
    if isinstance(matched, str) and matched.startswith("["):
        matched = json.loads(matched)
    if isinstance(matched, list):
        return ", ".join(matched) or "(none)"
    return matched or "(none)"
