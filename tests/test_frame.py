"""`evaluate_frame(df)` equals `evaluate` row by row (hypothesis), for every hit
policy and column type, from object columns and from typed pandas columns; errors
name a row; versions and chains; the module imports neither pandas nor numpy."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.model import DataType

from .helpers import compile_books, compiled_module
from .random_tables import KINDS, Case, build_table, module, tables
from .test_codegen import CHAIN, coverage, table
from .workbooks import decision_table


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def typed_column(kind_type: DataType, values: list[Any]) -> Any:
    """VALUES as the typed pandas column a caller would have, when there is one."""
    present = [v for v in values if not missing(v)]
    if kind_type is DataType.INTEGER and all(
        type(v) is int and abs(v) < 2**62 for v in present
    ):
        return (
            pd.array(values, dtype="Int64")
            if len(present) < len(values)
            else np.array(values, dtype=np.int64)
        )
    if kind_type is DataType.NUMBER and all(type(v) in (int, float) for v in present):
        return np.array(
            [math.nan if missing(v) else v for v in values], dtype=np.float64
        )
    if (
        kind_type is DataType.BOOLEAN
        and all(type(v) is bool for v in present)
        and len(present) == len(values)
    ):
        return np.array(values, dtype=bool)
    if kind_type in (DataType.STRING, DataType.CODE) and all(
        type(v) is str for v in present
    ):
        return pd.Categorical(values)
    in_range = all(
        dt.date(1700, 1, 1) < v < dt.date(2200, 1, 1)
        for v in present
        if type(v) is dt.date
    )
    if (
        kind_type is DataType.DATE
        and all(type(v) is dt.date for v in present)
        and present
        and in_range
    ):
        return pd.to_datetime(pd.Series(values, dtype=object)).to_numpy(
            dtype="datetime64[ns]"
        )
    return pd.Series(values, dtype=object)


def outcome(evaluator: types.ModuleType, inputs: dict[str, Any]) -> Any:
    try:
        return evaluator.evaluate(
            **{k: None if missing(v) else v for k, v in inputs.items()}
        )
    except Exception as error:  # noqa: BLE001 - compared by type below
        return error


def frame_row(result: Any, shape: str, outputs: tuple[str, ...]) -> dict[str, Any]:
    if shape == "list":
        row = {
            name: tuple(getattr(o, name) for o in result.outputs) for name in outputs
        }
        return {**row, "matched": result.matched}
    row = {name: getattr(result.outputs, name) for name in outputs}
    matched = (
        result.matched
        if shape == "multi"
        else (result.matched[0] if result.matched else None)
    )
    return {**row, "matched": matched}


def shape_of(case: Case) -> str:
    t = case.table
    if t.returns_list:
        return "list"
    if t.aggregation is not None or t.hit_policy.name == "ANY":
        return "multi"
    return "single"


def check_frame(
    case: Case,
    evaluator: types.ModuleType,
    rows: list[dict[str, Any]],
    typed: bool,
    labels: list[Any],
) -> None:
    columns = {}
    for column in case.table.inputs:
        values = [r[column.name] for r in rows]
        found = typed_column(column.type, values) if typed else values
        columns[column.name] = pd.Series(
            found, dtype=None if typed else object
        ).set_axis(labels)
    frame = pd.DataFrame(columns, index=labels)
    expected = [outcome(evaluator, r) for r in rows]
    errors = [e for e in expected if isinstance(e, Exception)]
    if errors:
        kinds = {type(e) for e in errors}
        with pytest.raises(Exception) as caught:
            evaluator.evaluate_frame(frame)
        first_kind = (
            evaluator.InputError
            if any(isinstance(e, evaluator.InputError) for e in errors)
            else type(errors[0])
        )
        assert isinstance(caught.value, first_kind), (caught.value, kinds)
        failing = [
            labels[i] for i, e in enumerate(expected) if isinstance(e, first_kind)
        ]
        assert getattr(caught.value, "row", None) in failing, (caught.value, failing)
        return
    found = evaluator.evaluate_frame(frame)
    names = tuple(c.name for c in case.table.outputs)
    assert list(found.columns) == [*names, "matched"]
    assert list(found.index) == labels
    records = found.to_dict("records")
    for label, result, got in zip(labels, expected, records, strict=True):
        assert got == frame_row(result, shape_of(case), names), label
    coded = evaluator.evaluate_frame(frame, categorical=True)  # the same, as codes
    assert list(coded.columns) == list(found.columns)
    assert list(coded.index) == labels
    for name in found.columns:
        column = coded[name]
        assert isinstance(column.dtype, pd.CategoricalDtype)
        categories = column.cat.categories
        values = [None if c < 0 else categories[c] for c in column.cat.codes]
        assert values == list(found[name]), name


def row_inputs(case: Case) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {c.name: st.sampled_from(KINDS[c.name].inputs) for c in case.table.inputs}
    )


def decide_by(evaluator: types.ModuleType, way: str) -> None:
    """Make evaluate_frame decide FIRST, PRIORITY and UNIQUE tables through the grid
    of atom combinations ("grid", when it is small enough) or row by row ("rows"),
    whatever the number of rows it has seen."""
    for version in evaluator._FRAME_VERSIONS:
        version.cache.pop("grid", None)
        version.cache["rows"] = 1 << 40 if way == "grid" else -(1 << 40)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_frame_equals_evaluate_row_by_row(data: st.DataObject) -> None:
    case = data.draw(tables())
    evaluator = module(case)
    distinct = data.draw(st.lists(row_inputs(case), min_size=1, max_size=6))
    rows = data.draw(st.lists(st.sampled_from(distinct), min_size=1, max_size=40))
    labels = [f"r{i}" for i in data.draw(st.permutations(range(len(rows))))]
    decide_by(evaluator, data.draw(st.sampled_from(["grid", "rows"])))
    check_frame(case, evaluator, rows, data.draw(st.booleans()), labels)


@pytest.mark.parametrize("policy", ["FIRST", "UNIQUE", "PRIORITY", "COLLECT", "C+"])
def test_large_random_frames(policy: str) -> None:
    """Several 64-rule words, rows decided one by one and through distinct keys."""
    from .test_fast import random_case

    case = random_case(11, 200, policy)
    evaluator = module(case)
    rng = np.random.default_rng(5)
    kinds = [KINDS[c.name] for c in case.table.inputs]
    rows = []
    for _ in range(3000):
        row = {}
        for column, kind in zip(case.table.inputs, kinds, strict=True):
            choices = [v for v in kind.inputs if _valid_plain(column, v)]
            row[column.name] = choices[int(rng.integers(len(choices)))]
        rows.append(row)
    for typed in (False, True):
        for way in ("grid", "rows"):
            decide_by(evaluator, way)
            check_frame(case, evaluator, rows, typed, list(range(len(rows))))


def _valid_plain(column: Any, value: Any) -> bool:
    from .random_tables import valid

    return valid(column, value) and not (
        isinstance(value, float) and not math.isfinite(value)
    )


# -- fixed cases --------------------------------------------------------------------------


def test_frame_of_a_chain(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, {"chain.xlsx": CHAIN})
    surgery = compiled_module(compilation, "surgery")
    frame = pd.DataFrame(
        {
            "bmi": [35.0, 35.0, 35.0, 20.0, np.nan],
            "age": pd.array([70, 40, 70, 70, 70], dtype="Int64"),
            "urgent": pd.array([None, None, True, None, None], dtype=object),
        },
        index=list("abcde"),
    )
    found = surgery.evaluate_frame(frame)
    assert found["eligible"].tolist() == [False, True, True, True, True]
    assert found["matched"].tolist() == ["R2", "R3", "R1", "R3", "R3"]
    bad = frame.assign(age=pd.array([70, 200, 70, 70, 70], dtype="Int64"))
    with pytest.raises(surgery.InputError) as caught:
        surgery.evaluate_frame(bad)
    assert caught.value.row == "b" and caught.value.name == "age"
    assert "(row 'b')" in str(caught.value)


def test_frame_of_versions_by_as_of(tmp_path: Path) -> None:
    books = {
        "v1.xlsx": {"2025": coverage("2025-01-01", "2025-12-31", "old")},
        "v2.xlsx": {"2026": coverage("2026-01-01", None, "new")},
    }
    module_ = compiled_module(compile_books(tmp_path, books), "coverage")
    days = [dt.date(2025, 1, 1), dt.date(2025, 12, 31), dt.date(2026, 1, 1), None]
    frame = pd.DataFrame(
        {
            "age": pd.array([1, 2, 3, 4], dtype="Int64"),
            "as_of": pd.array(days, dtype=object),
        }
    )
    found = module_.evaluate_frame(frame)
    today = module_.evaluate(age=4).outputs.covered
    assert found["covered"].tolist() == ["old", "old", "new", today]
    as_datetimes = frame.assign(
        as_of=pd.to_datetime(pd.Series(days[:3] + [dt.date(2026, 5, 1)]))
    )
    assert module_.evaluate_frame(as_datetimes)["covered"].tolist() == [
        "old",
        "old",
        "new",
        "new",
    ]
    early = frame.assign(as_of=pd.array([dt.date(2024, 1, 1)] * 4, dtype=object))
    with pytest.raises(module_.NoVersionError) as caught:
        module_.evaluate_frame(early)
    assert caught.value.row == 0


def test_absent_columns_are_missing_values(tmp_path: Path) -> None:
    books = {
        "t.xlsx": {
            "T": table(
                "first_scan",
                "FIRST",
                [
                    ("modality", "input", "string", "CT, MRI"),
                    ("age", "input", "integer", "[0..130]"),
                    ("decision", "output", "string", None),
                ],
                [
                    ("R1", "CT", "< 18", "no"),
                    ("R2", "CT", "-", "yes"),
                    ("R3", "-", "-", "maybe"),
                ],
                metadata={"Complete": "no"},
            )
        }
    }
    scan = compiled_module(compile_books(tmp_path, books), "first_scan")
    found = scan.evaluate_frame(pd.DataFrame({"modality": ["CT", "MRI", None]}))
    assert found["decision"].tolist() == ["yes", "maybe", "maybe"]
    assert found["matched"].tolist() == ["R2", "R3", "R3"]
    assert scan.evaluate_frame(pd.DataFrame({"age": [3]}))["matched"].tolist() == ["R3"]
    empty = scan.evaluate_frame(pd.DataFrame({"modality": pd.Series([], dtype=object)}))
    assert list(empty.columns) == ["decision", "matched"] and len(empty) == 0


def test_float_in_an_integer_column_is_an_error() -> None:
    case = build_table(["age"], "FIRST", [(["< 18"], ("low", 1))])
    evaluator = module(case)
    with pytest.raises(evaluator.InputError) as caught:
        evaluator.evaluate_frame(pd.DataFrame({"age": [3.0, 20.0]}))
    assert caught.value.row == 0
    found = evaluator.evaluate_frame(
        pd.DataFrame({"age": pd.array([3, None], dtype="Int64")})
    )
    assert found["matched"].tolist() == ["R1", None]


def test_importing_a_generated_module_imports_neither_pandas_nor_numpy(
    tmp_path: Path,
) -> None:
    sheet = decision_table(
        "band",
        [("age", "input", "integer", "[0..130]"), ("band", "output", "string", None)],
        [("R1", "< 18", "child"), ("R2", ">= 18", "adult")],
        hit_policy="FIRST",
    )
    compilation = compile_books(tmp_path, {"b.xlsx": {"Band": sheet}})
    assert compilation.files is not None
    package = tmp_path / "out" / "lazy"
    for name, text in compilation.files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    script = (
        "import sys\n"
        "from lazy import band\n"
        "assert band.evaluate(age=3).matched == ('R1',)\n"
        "assert 'pandas' not in sys.modules and 'numpy' not in sys.modules, 'imported'\n"
        "assert 'lazy._frame' not in sys.modules, 'evaluate_frame imports it when called'\n"
        "import pandas as pd\n"
        "assert band.evaluate_frame(pd.DataFrame({'age': [3, 30]}))['matched'].tolist() == ['R1', 'R2']\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path / "out",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
