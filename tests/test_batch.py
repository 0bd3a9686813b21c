"""`compile-rules run`: CSV and Parquet in and out, typed CSV reading, versions,
chains, multi-hit tables, bad rows in the errors file while the rest still decide,
unreadable inputs (exit 3, no traceback), atomic output, and the Dask engine giving
exactly the pandas engine's results on a local two-worker cluster."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import faulthandler
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from compiler import batch
from compiler.cli import main
from compiler.pipeline import compile_tables

from .helpers import compiled_module, write_tables
from .test_codegen import CHAIN
from .workbooks import decision_table

AGE = ("age", "input", "integer", "[0..130]")

BOOK = {
    "Claims": decision_table(
        "claim",
        [
            AGE,
            ("modality", "input", "string", "CT, MRI"),
            ("zip", "input", "code", None),
            ("urgent", "input", "boolean", None),
            ("service", "input", "date", None),
            ("approved", "output", "boolean", None),
            ("reason", "output", "string", None),
        ],
        [
            ("R1", "< 18", "-", "-", "-", "-", False, "minor"),
            ("R2", "-", "CT", "02*", "-", "-", True, "northeast CT"),
            ("R3", "-", "-", "-", "true", "-", True, "urgent"),
            ("R4", "-", "-", "-", "-", ">= 2025-06-01", True, "new policy"),
            ("R5", "-", "-", "-", "-", "-", False, "other"),
        ],
        hit_policy="FIRST",
    ),
    "2025": decision_table(
        "coverage",
        [AGE, ("covered", "output", "string", None)],
        [("R1", "-", "old")],
        hit_policy="FIRST",
        metadata={"Effective from": "2025-01-01", "Effective to": "2025-12-31"},
    ),
    "2026": decision_table(
        "coverage",
        [AGE, ("covered", "output", "string", None)],
        [("R2", "-", "new")],
        hit_policy="FIRST",
        metadata={"Effective from": "2026-01-01"},
    ),
    "Flags": decision_table(
        "flags",
        [
            AGE,
            ("modality", "input", "string", "CT, MRI"),
            ("flag", "output", "string", None),
        ],
        [("R1", "< 18", "-", "minor"), ("R2", "-", "CT", "radiation")],
        hit_policy="COLLECT",
    ),
    **CHAIN,
}

CLAIMS = """\
id,age,modality,zip,urgent,service,note
0001,12,CT,02134,false,2025-01-02,child
0002,40,CT,02134,FALSE,2025-01-02,leading zero zip
0003,40,MRI,2134, true ,2025-01-02,urgent with spaces
0004,40,MRI,10001,false,2025-07-01,new policy
0005,,,,,,all missing
0006,abc,CT,02134,false,2025-01-02,bad age text
0007,200,CT,02134,false,2025-01-02,age outside Values
0008,40,PET,02134,maybe,2025-02-30,three bad values
0009,+41,\"\"\"CT\"\"\",02999,false,2025-01-02,plus sign and quotes
0010,40,PET,02134,false,2025-01-02,modality outside Values
"""


class Tables:
    """A tables folder under tmp_path, and a way to run commands on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tables = write_tables(root, {"batch.xlsx": BOOK})

    def run(
        self,
        table: str,
        source: Path,
        target: Path | str,
        *options: str,
        code: int | None = 0,
    ) -> Result:
        """`compile-rules run TABLE --input SOURCE --output TARGET OPTIONS...`."""
        args = ["run", "--tables", str(self.tables), table, "--input", str(source)]
        result = CliRunner().invoke(main, [*args, "--output", str(target), *options])
        assert "Traceback" not in result.output
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if code is not None:
            assert result.exit_code == code, result.output
        return result

    def file(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path

    def module(self, table: str) -> Any:
        return compiled_module(compile_tables(self.tables), table)

    def plan(self, table: str, source: Path, **options: Any) -> tuple[Any, Any]:
        """The library's side of `run`: (plan, opened source), as the command makes them."""
        compilation = compile_tables(self.tables)
        assert compilation.project is not None and compilation.files is not None
        opened = batch.Source.open(source)
        plan = batch.make_plan(
            compilation.project, compilation.files, table, opened.schema, **options
        )
        return plan, opened


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    return Tables(tmp_path_factory.mktemp("batch"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def problems(path: Path) -> list[tuple[str, str, str]]:
    return [(r["row"], r["column"], r["value"]) for r in read_csv(path)]


# -- CSV and Parquet ---------------------------------------------------------------


def test_csv_rows_are_typed_like_eval_and_bad_rows_go_to_the_errors_file(
    tables: Tables,
) -> None:
    source = tables.file("claims.csv", CLAIMS)
    target = tables.root / "decided.csv"
    result = tables.run("claim", source, target, code=4)
    assert "10 row(s) read, 6 evaluated, 4 rejected" in result.stderr
    assert "decided.errors.csv" in result.stderr
    rows = read_csv(target)
    assert [r["id"] for r in rows] == ["0001", "0002", "0003", "0004", "0005", "0009"]
    by_id = {r["id"]: r for r in rows}
    # leading zeros kept: 02134 matches the prefix 02*, 2134 does not
    assert by_id["0002"]["reason"] == "northeast CT"
    assert by_id["0003"]["zip"] == "2134" and by_id["0003"]["reason"] == "urgent"
    assert by_id["0003"]["urgent"] == "true"  # ' true ' read as eval reads it
    assert by_id["0004"]["reason"] == "new policy"  # a date compared as a date
    assert by_id["0005"]["age"] == "" and by_id["0005"]["matched"] == "R5"
    assert by_id["0009"]["age"] == "41" and by_id["0009"]["matched"] == "R2"
    assert by_id["0002"]["note"] == "leading zero zip"  # other columns carried over
    # every decision is the one `evaluate` makes on the same values
    module = tables.module("claim")
    for row in rows:
        expected = module.evaluate(
            age=int(row["age"]) if row["age"] else None,
            modality=row["modality"] or None,
            zip=row["zip"] or None,
            urgent={"true": True, "false": False}.get(row["urgent"]),
            service=dt.date.fromisoformat(row["service"]) if row["service"] else None,
        )
        assert row["matched"] == expected.matched[0], row
        assert row["reason"] == expected.outputs.reason
    errors = problems(tables.root / "decided.errors.csv")
    assert errors == [
        ("6", "age", "abc"),
        ("7", "age", "200"),
        ("8", "urgent", "maybe"),  # every type problem of a row is listed
        ("8", "service", "2025-02-30"),
        ("10", "modality", "PET"),
    ]
    messages = [r["message"] for r in read_csv(tables.root / "decided.errors.csv")]
    assert "'abc' is not a whole number" in messages[0]
    assert "not one of the allowed Values of 'age'" in messages[1]
    assert "not a real calendar date" in messages[3]
    assert "'PET' is not one of the allowed Values of 'modality'" in messages[4]


def test_parquet_in_and_out_keep_types_and_equal_the_csv_run(tables: Tables) -> None:
    source = tables.file("claims.csv", CLAIMS)
    tables.run("claim", source, tables.root / "a.parquet", code=4)
    decided = pq.read_table(tables.root / "a.parquet")
    assert decided.schema.field("age").type == pa.int64()
    assert decided.schema.field("zip").type == pa.string()
    assert decided.schema.field("urgent").type == pa.bool_()
    assert decided.schema.field("service").type == pa.date32()
    assert decided.schema.field("approved").type == pa.bool_()
    assert decided.schema.field("note").type == pa.string()
    # the decided rows, typed, as a Parquet input: the same decisions again
    typed = decided.drop_columns(["approved", "reason", "matched"])
    pq.write_table(typed, tables.root / "typed.parquet")
    tables.run("claim", tables.root / "typed.parquet", tables.root / "b.parquet")
    assert pq.read_table(tables.root / "b.parquet").equals(decided)


def test_parquet_output_types_whatever_the_encoding(tables: Tables) -> None:
    """String columns are written as dictionaries (cheapest) where Parquet's own
    types say what they are, else plainly with pyarrow's schema: read back, both
    hold the documented types, the other columns as they came, the same rows."""
    rows = 3000
    base = {
        "id": pa.array([f"{i:06d}" for i in range(rows)]),  # mostly distinct
        "age": pa.array([i % 90 for i in range(rows)]),
        "modality": pa.array(["CT", "MRI", "PET"] * (rows // 3)),
    }
    when = pa.array([dt.datetime(2025, 1, 1)] * rows, pa.timestamp("ms", tz="UTC"))
    decided = {}
    for name, extra in (("native", {}), ("zoned", {"seen": when})):
        source = tables.root / f"{name}-in.parquet"
        pq.write_table(pa.table({**base, **extra}), source)
        target = tables.root / f"{name}-out.parquet"
        tables.run("claim", source, target, "--chunk-size", "1500", code=4)
        decided[name] = pq.read_table(target)
        schema = decided[name].schema
        assert schema.field("modality").type == pa.string()
        assert schema.field("reason").type == pa.string()
        assert schema.field("matched").type == pa.string()
        assert schema.field("id").type == pa.string()
        assert decided[name].num_rows == 2000  # PET is outside the Values
    assert decided["zoned"].schema.field("seen").type == when.type
    assert decided["zoned"].drop_columns(["seen"]).equals(decided["native"])
    plain = pq.ParquetFile(tables.root / "native-out.parquet")
    assert b"ARROW:schema" not in (plain.metadata.metadata or {})  # dictionaries
    ids = plain.metadata.row_group(0).column(0)  # mostly distinct: no dictionary
    assert ids.path_in_schema == "id" and "RLE_DICTIONARY" not in ids.encodings


def test_parquet_columns_of_other_types_are_converted_or_rejected(
    tables: Tables,
) -> None:
    frame = pa.table(
        {
            "age": pa.array([12.0, None, 40.5, 40.0]),  # pandas' integers with gaps
            "zip": pa.array([2134, 2134, 2134, 10001]),  # a code stored as a number
            "service": pa.array(
                [dt.datetime(2025, 7, 1), None, None, dt.datetime(2025, 7, 1, 9, 30)]
            ),
            "modality": pa.array(["CT", "MRI", "CT", "CT"]).dictionary_encode(),
        }
    )
    pq.write_table(frame, tables.root / "odd.parquet")
    tables.run("claim", tables.root / "odd.parquet", tables.root / "odd.csv", code=4)
    rows = read_csv(tables.root / "odd.csv")
    assert [(r["age"], r["zip"], r["service"], r["matched"]) for r in rows] == [
        ("12", "2134", "2025-07-01", "R1"),
        ("", "2134", "", "R5"),
    ]
    errors = read_csv(tables.root / "odd.errors.csv")
    assert [(r["row"], r["column"]) for r in errors] == [("3", "age"), ("4", "service")]
    assert "time of day" in errors[1]["message"]


def test_nan_in_a_parquet_column_is_missing(tables: Tables) -> None:
    """pyarrow, polars and Spark write a float NaN where an integer is missing: it
    is a missing value, in any column, as `evaluate` takes NaN."""
    nan = float("nan")
    frame = pa.table(
        {
            "age": pa.array([12.0, nan, None, 40.0]),
            "zip": pa.array([nan] * 4),  # pandas' type for a column of no text
            "modality": pa.array(["CT", "CT", "MRI", "MRI"]),
        }
    )
    pq.write_table(frame, tables.root / "nan.parquet")
    tables.run("claim", tables.root / "nan.parquet", tables.root / "nan.csv")
    rows = read_csv(tables.root / "nan.csv")
    assert [(r["age"], r["zip"], r["matched"]) for r in rows] == [
        ("12", "", "R1"),
        ("", "", "R5"),
        ("", "", "R5"),
        ("40", "", "R5"),
    ]
    assert read_csv(tables.root / "nan.errors.csv") == []


def test_no_rejected_rows_exit_0_with_an_empty_errors_file(tables: Tables) -> None:
    source = tables.file("good.csv", "age,modality\n12,CT\n40,MRI\n")
    target = tables.root / "good.parquet"
    errors = tables.root / "elsewhere" / "problems.csv"
    result = tables.run("claim", source, target, "--errors", str(errors))
    assert "none rejected" in result.stderr
    assert read_csv(errors) == []
    assert errors.read_text().startswith("row,column,value,message")
    assert pq.read_table(target).column("matched").to_pylist() == ["R1", "R5"]
    assert "deciding" not in result.output  # no progress bar when not a terminal


def test_missing_input_columns_are_a_warning(tables: Tables) -> None:
    source = tables.file("typo.csv", "Age,modality\n12,CT\n")
    result = tables.run("claim", source, tables.root / "t.csv")
    assert (
        "has no column 'age'" in result.stderr and "did you mean 'Age'" in result.stderr
    )


# -- many bad rows -------------------------------------------------------------------


def test_many_distinct_bad_values_cost_two_passes_per_chunk(
    tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["age,modality"]
    for i in range(6000):
        lines.append(f"{131 + i},CT" if i % 3 == 0 else f"{i % 100},CT")
    source = tables.file("many.csv", "\n".join(lines) + "\n")
    plan, opened = tables.plan("claim", source, cells=True)
    module = batch.evaluator(plan)
    calls: list[int] = []
    evaluate_frame = module.evaluate_frame

    def counted(frame: Any, **options: Any) -> Any:
        calls.append(len(frame))
        return evaluate_frame(frame, **options)

    monkeypatch.setattr(module, "evaluate_frame", counted)
    summary = batch.run_local(
        plan,
        opened,
        tables.root / "many.parquet",
        tables.root / "many.errors.csv",
        chunk_rows=2000,
    )
    assert (summary.rows, summary.evaluated, summary.rejected) == (6000, 4000, 2000)
    assert len(calls) == 6  # 3 chunks: a failing pass, then one on the valid rows
    rows = [int(r["row"]) for r in read_csv(tables.root / "many.errors.csv")]
    assert rows == list(range(1, 6001, 3))


# -- versions ------------------------------------------------------------------------


def test_as_of_one_date_for_every_row(tables: Tables) -> None:
    source = tables.file("ages.csv", "age\n10\n20\n")
    target = tables.root / "cov.csv"
    tables.run("coverage", source, target, "--as-of", "2025-06-01")
    assert [r["covered"] for r in read_csv(target)] == ["old", "old"]
    tables.run("coverage", source, target, "--as-of", "2026-01-01")
    assert [r["matched"] for r in read_csv(target)] == ["R2", "R2"]
    result = tables.run("coverage", source, target, "--as-of", "2024-01-01", code=2)
    assert "no version of coverage is in force on 2024-01-01" in result.output
    result = tables.run("coverage", source, target, "--as-of", "2025-13-01", code=2)
    assert "--as-of '2025-13-01'" in result.output


def test_as_of_column_dates_each_row(tables: Tables) -> None:
    source = tables.file(
        "dated.csv",
        "age,served\n10,2025-03-01\n11,2026-02-01\n12,2024-05-05\n13,\n14,someday\n",
    )
    target = tables.root / "dated.parquet"
    tables.run("coverage", source, target, "--as-of-column", "served", code=4)
    decided = pq.read_table(target)
    assert decided.schema.field("served").type == pa.date32()
    today = "old" if dt.date.today() <= dt.date(2025, 12, 31) else "new"
    assert decided.column("covered").to_pylist() == ["old", "new", today]
    errors = read_csv(tables.root / "dated.errors.csv")
    assert [(r["row"], r["column"], r["value"]) for r in errors] == [
        ("3", "served", "2024-05-05"),
        ("5", "served", "someday"),
    ]
    assert "coverage: no version is in force on 2024-05-05" in errors[0]["message"]


def test_an_as_of_column_is_used_when_present(tables: Tables) -> None:
    source = tables.file("asof.csv", "age,as_of\n10,2025-03-01\n11,2026-02-01\n")
    target = tables.root / "asof.csv.out.csv"
    tables.run("coverage", source, target)
    assert [r["covered"] for r in read_csv(target)] == ["old", "new"]


def test_as_of_options_are_checked(tables: Tables) -> None:
    source = tables.file("plain.csv", "age,modality\n12,CT\n")
    target = str(tables.root / "x.csv")
    result = tables.run("claim", source, target, "--as-of", "2025-01-01", code=2)
    assert "'claim' has no effective-dated versions; drop --as-of" in result.output
    result = tables.run(
        "coverage",
        source,
        target,
        "--as-of",
        "2025-01-01",
        "--as-of-column",
        "age",
        code=2,
    )
    assert "not both" in result.output
    result = tables.run("coverage", source, target, "--as-of-column", "when", code=2)
    assert "no such column" in result.output


# -- chains and multi-hit tables -----------------------------------------------------


def test_chained_tables_evaluate_their_required_tables(tables: Tables) -> None:
    source = tables.file(
        "surgery.csv", "bmi,age,urgent\n35,70,false\n35,40,\n20,70,\n35,200,false\n"
    )
    target = tables.root / "surgery.csv.out.parquet"
    tables.run("surgery", source, target, code=4)
    decided = pq.read_table(target)
    assert decided.column("eligible").to_pylist() == [False, True, True]
    assert decided.column("matched").to_pylist() == ["R2", "R3", "R3"]
    errors = read_csv(target.with_name("surgery.csv.out.errors.csv"))
    assert [(r["row"], r["column"], r["value"]) for r in errors] == [
        ("4", "age", "200")
    ]
    assert "in risk" in errors[0]["message"]  # the required table that checks it


def test_multi_hit_tables_write_lists(tables: Tables) -> None:
    source = tables.file("flags.csv", "age,modality\n12,CT\n40,MRI\n12,\n")
    tables.run("flags", source, tables.root / "flags.parquet")
    decided = pq.read_table(tables.root / "flags.parquet")
    assert decided.schema.field("flag").type == pa.list_(pa.string())
    assert decided.column("flag").to_pylist() == [["minor", "radiation"], [], ["minor"]]
    assert decided.column("matched").to_pylist() == [["R1", "R2"], [], ["R1"]]
    tables.run("flags", source, tables.root / "flags-out.csv")
    rows = read_csv(tables.root / "flags-out.csv")
    assert [json.loads(r["flag"]) for r in rows] == [
        ["minor", "radiation"],
        [],
        ["minor"],
    ]
    assert json.loads(rows[0]["matched"]) == ["R1", "R2"]


# -- user errors ---------------------------------------------------------------------


def test_unreadable_inputs_exit_3_and_write_nothing(tables: Tables) -> None:
    target = tables.root / "never.parquet"
    missing = tables.root / "missing.csv"
    result = tables.run("claim", missing, target, code=3)
    assert f"{missing}: cannot read it" in result.stderr
    garbage = tables.root / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    result = tables.run("claim", garbage, target, code=3)
    assert "garbage.parquet: cannot read it" in result.stderr
    ragged = tables.file("ragged.csv", "age,modality\n12,CT\n13,CT,extra\n")
    result = tables.run("claim", ragged, target, code=3)
    assert (
        "ragged.csv: cannot read it" in result.stderr
        and "Expected 2 columns" in result.stderr
    )
    empty = tables.file("empty.csv", "")
    result = tables.run("claim", empty, target, code=3)
    assert "the file is empty" in result.stderr
    assert not target.exists() and not target.with_name("never.errors.csv").exists()


def test_a_parquet_file_with_a_column_twice_exits_3(tables: Tables) -> None:
    twice = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["age", "age"])
    pq.write_table(twice, tables.root / "twice.parquet")
    target = tables.root / "twice-out.parquet"
    result = tables.run("claim", tables.root / "twice.parquet", target, code=3)
    assert "twice.parquet: cannot read it: column(s) 'age' appear twice" in (
        result.stderr
    )
    assert not target.exists()


def test_wide_files_are_read_up_to_a_documented_width(tables: Tables) -> None:
    width = batch.sources.MAX_COLUMNS
    names = [f"c{i}" for i in range(width - 1)]
    wide = tables.file(
        "wide.csv",
        ",".join([*names, "age"]) + "\n" + ",".join(["x"] * (width - 1) + ["12"]),
    )
    tables.run("claim", wide, tables.root / "wide.parquet")
    decided = pq.read_table(tables.root / "wide.parquet")
    assert decided.num_columns == width + 3
    assert decided.column("c0").to_pylist() == ["x"]
    assert decided.column("matched").to_pylist() == ["R1"]
    wider = tables.file("wider.csv", ",".join([*names, "age", "one_more"]) + "\n")
    result = tables.run("claim", wider, tables.root / "wider.parquet", code=3)
    assert f"it has {width + 1:,} columns; compile-rules run reads at most" in (
        result.stderr
    )


def test_usage_errors_exit_2(tables: Tables) -> None:
    source = tables.file("u.csv", "age,matched\n1,R1\n")
    target = str(tables.root / "u.csv.out.csv")
    result = tables.run("clam", source, target, code=2)
    assert "no table named 'clam'; did you mean 'claim'?" in result.output
    result = tables.run("claim", source, target, code=2)
    assert "already has column(s) 'matched'" in result.output
    result = tables.run("claim", source, "out.xlsx", code=2)
    assert "must end in .parquet or .csv" in result.output
    result = tables.run("claim", source, source, code=2)
    assert "three different paths" in result.output
    result = tables.run("claim", source, target, "--partitions", "2", code=2)
    assert "--partitions needs --engine dask or spark" in result.output


def test_a_run_killed_midway_leaves_the_old_output_whole(
    tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tables.root / "kept.csv"
    target.write_text("the previous run's output\n")
    source = tables.root / "kept-input.parquet"
    pq.write_table(pa.table({"age": list(range(50))}), source)
    plan, opened = tables.plan("claim", source, text=True)
    decide = batch.Plan.decide
    chunks: list[int] = []

    def interrupted(*args: Any) -> Any:
        chunks.append(1)
        if len(chunks) == 3:
            raise KeyboardInterrupt  # Ctrl-C (or a kill) in the third chunk
        return decide(*args)

    monkeypatch.setattr(batch.Plan, "decide", interrupted)
    with pytest.raises(KeyboardInterrupt):
        batch.run_local(
            plan, opened, target, tables.root / "kept.errors.csv", chunk_rows=5
        )
    assert target.read_text() == "the previous run's output\n"
    assert not (tables.root / "kept.errors.csv").exists()
    assert list(tables.root.glob(".kept*")) == []  # no temporary file left


def _killed_midway(command: list[str], folder: Path) -> None:
    """Start COMMAND, wait until it writes a staged file in FOLDER, SIGKILL it."""
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            fds = Path(f"/proc/{process.pid}/fd")
            with contextlib.suppress(OSError):
                links = [os.readlink(fd) for fd in fds.iterdir()]
                if sum(str(folder) in link for link in links) >= 3:
                    break  # input, staged output and staged errors: mid-run
            time.sleep(0.05)
        time.sleep(0.3)
        assert process.poll() is None, "the run ended before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("staging", ["unnamed", "named"])
def test_a_killed_run_leaves_no_claims_data(tables: Tables, staging: str) -> None:
    """SIGKILL mid-run: the previous output stays whole, and no claims data stays
    behind: unnamed staged files die with the process; named ones (where the file
    system cannot make unnamed files) are removed by the next run."""
    folder = tables.root / f"killed-{staging}"
    folder.mkdir()
    rows = 3_000_000
    codes = pa.array(np.arange(rows) % 2, pa.int32())
    pq.write_table(
        pa.table(
            {
                "age": pa.array(np.arange(rows) % 90),
                "modality": pa.DictionaryArray.from_arrays(codes, ["CT", "MRI"]),
            }
        ),
        folder / "claims.parquet",
    )
    target, errors = folder / "out.csv", folder / "out.errors.csv"
    target.write_text("the previous run's output\n")
    errors.write_text("row,column,value,message\n")
    patch = (
        "import compiler.batch.staging as s; s._unnamed = lambda folder: None; "
        if staging == "named"
        else ""
    )
    command = [
        sys.executable,
        "-c",
        patch + "from compiler.cli import main; main()",
        "run",
        "--tables",
        str(tables.tables),
        "claim",
        "--input",
        str(folder / "claims.parquet"),
        "--output",
        str(target),
        "--chunk-size",
        "5000",
    ]
    _killed_midway(command, folder)
    assert target.read_text() == "the previous run's output\n"
    left = sorted(p.name for p in folder.iterdir())
    expected = ["claims.parquet", "out.csv", "out.errors.csv"]
    if staging == "unnamed":
        assert left == expected
        return
    assert len(left) == 5 and all(n.endswith(".tmp") for n in left[:2])  # claims data
    small = tables.file("small.csv", "age\n12\n")
    command[command.index(str(folder / "claims.parquet"))] = str(small)
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == expected  # removed


def test_a_run_removes_only_what_dead_runs_left(tables: Tables) -> None:
    folder = tables.root / "strays"
    folder.mkdir()
    dead = folder / ".out.parquet.dead1234.tmp"
    dead.write_bytes(b"claims of a killed run")
    dead_parts = folder / ".out.parquet.new-dead5678"  # a killed Dask run's folder
    dead_parts.mkdir()
    (dead_parts / "part.00000.parquet").write_bytes(b"claims")
    live = folder / ".out.parquet.live1234.tmp"
    live.write_bytes(b"claims of a run still going")
    other = folder / ".other.parquet.dead1234.tmp"  # not beside this output
    other.write_bytes(b"")
    held = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # as the live run holds it
        source = tables.file("strays.csv", "age\n12\n")
        tables.run("claim", source, folder / "out.parquet")
    finally:
        os.close(held)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [live.name, other.name, "out.parquet", "out.errors.csv"]
    )


# -- Dask ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    faulthandler.dump_traceback_later(300, exit=True)  # a hung cluster fails the run
    try:
        with distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as local:
            yield local.scheduler_address
    finally:
        faulthandler.cancel_dump_traceback_later()


def engine_inputs(tables: Tables) -> dict[str, Path]:
    """3,000 claims as CSV and as typed Parquet (in row groups of 500), a few of
    them bad: what every engine must decide as the pandas engine does."""
    lines = ["id,age,modality,zip,urgent,service"]
    for i in range(3000):
        age = "abc" if i % 997 == 5 else ("999" if i % 1009 == 7 else str(i % 95))
        zip_code = f"{i % 3:02d}{i % 1000:03d}"
        lines.append(
            f"{i:06d},{age},{'CT' if i % 2 else 'MRI'},{zip_code},"
            f"{'true' if i % 7 == 0 else 'false'},2025-{i % 12 + 1:02d}-01"
        )
    source = tables.file("engines.csv", "\n".join(lines) + "\n")
    parquet = tables.root / "engines-input.parquet"
    tables.run("claim", source, tables.root / "engines-first.parquet", code=4)
    pq.write_table(
        pq.read_table(tables.root / "engines-first.parquet").drop_columns(
            ["approved", "reason", "matched"]
        ),
        parquet,
        row_group_size=500,
    )
    return {"csv": source, "parquet": parquet}


def assert_same_run(local: Path, other: Path) -> None:
    """The output folder OTHER holds LOCAL's rows, in order; the errors files match."""
    assert other.is_dir()
    assert pq.read_table(other).equals(pq.read_table(local))
    assert (
        local.with_name(f"{local.stem}.errors.csv").read_text()
        == other.with_name(f"{other.stem}.errors.csv").read_text()
    )


def dask_run(
    tables: Tables, source: Path, target: Path, cluster: str, parts: int, code: int
) -> None:
    """`run claim` on the Dask CLUSTER in PARTS partitions."""
    engine = ["--engine", "dask", "--scheduler", cluster, "--partitions", str(parts)]
    tables.run("claim", source, target, *engine, code=code)


def test_dask_engine_equals_the_pandas_engine(tables: Tables, cluster: str) -> None:
    for name, given in engine_inputs(tables).items():
        local, spread = (
            tables.root / f"local-{name}.parquet",
            tables.root / f"dask-{name}.parquet",
        )
        tables.run("claim", given, local, "--chunk-size", "700", code=None)
        dask_run(tables, given, spread, cluster, 3, code=4 if name == "csv" else 0)
        assert len(list(spread.glob("part.*.parquet"))) == 3
        assert_same_run(local, spread)
    errors = problems(tables.root / "dask-csv.errors.csv")
    assert errors[:2] == [("6", "age", "abc"), ("8", "age", "999")]
    assert pq.read_table(tables.root / "dask-csv.parquet").num_rows == 3000 - len(
        errors
    )


def indexed_inputs(tables: Tables) -> dict[str, Path]:
    """Parquet files as `df.to_parquet()` writes them: a non-default index as a
    column (unnamed: `__index_level_0__`, else by its name), a RangeIndex in
    pandas' metadata only; ages with NaN (missing) and a bad one."""
    import pandas as pd

    ages = [12.0, float("nan"), 40.0, 200.0] * 50
    frames = {
        "unnamed": pd.DataFrame(
            {"age": ages}, index=[1000 + 2 * i for i in range(200)]
        ),
        "named": pd.DataFrame(
            {"age": ages}, index=pd.Index([f"C{i}" for i in range(200)], name="no")
        ),
        "range": pd.DataFrame({"age": ages}, index=pd.RangeIndex(200, name="no")),
    }
    found = {}
    for name, frame in frames.items():
        found[name] = tables.root / f"indexed-{name}.parquet"
        frame.to_parquet(found[name])
    return found


def assert_index_columns_kept(name: str, decided: pa.Table) -> None:
    index = {"unnamed": "__index_level_0__", "named": "no"}.get(name)
    assert decided.column_names[:2] == ["age", index or "approved"]
    if index is not None:
        assert decided.column(index).to_pylist()[:2] == (
            [1000, 1002] if name == "unnamed" else ["C0", "C1"]
        )
    assert decided.column("age").to_pylist()[:3] == [12, None, 40]


def test_dask_engine_reads_pandas_index_columns_as_the_pandas_engine(
    tables: Tables, cluster: str
) -> None:
    """Dask would make pandas' index columns its index again: both engines keep
    them as columns, in their place. NaN in a float column is missing in both."""
    for name, source in indexed_inputs(tables).items():
        local = tables.root / f"indexed-{name}-local.parquet"
        spread = tables.root / f"indexed-{name}-dask.parquet"
        tables.run("claim", source, local, code=4)
        dask_run(tables, source, spread, cluster, 2, code=4)
        assert_same_run(local, spread)
        assert_index_columns_kept(name, pq.read_table(local))


def test_impact_on_dask_equals_the_pandas_engine(cluster: str, tmp_path: Path) -> None:
    from .test_impact import same_impact_on

    engine = ["--engine", "dask", "--scheduler", cluster, "--partitions", "2"]
    same_impact_on(engine, tmp_path)


def test_dask_engine_writes_only_parquet_folders(tables: Tables) -> None:
    source = tables.file("d.csv", "age\n1\n")
    result = tables.run(
        "claim", source, tables.root / "d.out.csv", "--engine", "dask", code=2
    )
    assert "writes a folder of Parquet parts" in result.output


def test_rows_missing_a_required_input_are_rejected_as_evaluate_rejects_them(
    tmp_path: Path,
) -> None:
    need = decision_table(
        "need",
        [
            ("age", "required input", "integer", "[0..130]"),
            ("modality", "input", "string", "CT, MRI"),
            ("band", "output", "string", None),
        ],
        [("R1", "< 18", "-", "child"), ("R2", ">= 18", "-", "adult")],
    )
    own = Tables.__new__(Tables)
    own.root = tmp_path
    own.tables = write_tables(tmp_path, {"need.xlsx": {"Need": need}})
    source = own.file(
        "need.csv",
        "id,age,modality\n1,12,CT\n2,,CT\n3,40,MRI\n4,,MRI\n5,,\n6,70,\n",
    )
    target = tmp_path / "need.out.csv"
    result = own.run("need", source, target, code=4)
    assert "6 row(s) read, 3 evaluated, 3 rejected" in result.stderr
    assert [r["band"] for r in read_csv(target)] == ["child", "adult", "adult"]
    errors = read_csv(tmp_path / "need.out.errors.csv")
    module = own.module("need")
    with pytest.raises(module.InputError) as raised:
        module.evaluate(modality="CT")
    assert [(r["row"], r["column"], r["message"]) for r in errors] == [
        (row, "age", str(raised.value)) for row in ("2", "4", "5")
    ]


# -- memory: what a run holds does not grow with the file ------------------------------


@pytest.mark.parametrize("bad", ["", "131"], ids=["missing", "outside"])
def test_an_error_a_chunk_raises_leaves_no_cycle_holding_the_chunk(
    tmp_path: Path, bad: str
) -> None:
    """A chunk with bad rows makes evaluate_frame raise; the error's traceback holds
    the frames that hold the chunk's arrays, and the raising frame holds the error. Such
    a cycle is freed only by a full collection, so a run grew by a chunk per error."""
    import gc

    need = decision_table(
        "need",
        [
            ("age", "required input", "integer", "[0..130]"),
            ("band", "output", "string", None),
        ],
        [("R1", "< 18", "child"), ("R2", ">= 18", "adult")],
    )
    own = Tables.__new__(Tables)
    own.root = tmp_path
    own.tables = write_tables(tmp_path, {"need.xlsx": {"Need": need}})
    ages = [bad if i % 7 == 0 else str(i % 100) for i in range(700)]
    rows = [f"{i},{age}" for i, age in enumerate(ages)]
    source = own.file("need.csv", "id,age\n" + "\n".join(rows) + "\n")
    plan, opened = own.plan("need", source, cells=True)
    schema = plan.output_schema(opened.schema)
    error = batch.chunks._runtime(batch.evaluator(plan)).DecisionError
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for chunk, _ in opened.chunks(1000):
            table, found = plan.decide(chunk, schema)
            assert len(found) == 100 and table.num_rows == 600
        del chunk, table, found
        gc.collect()
        held = [o for o in gc.garbage if isinstance(o, error)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert held == []


def test_parquet_is_read_in_runs_of_row_groups(tmp_path: Path) -> None:
    """pyarrow's batch reader keeps what it read until its row groups end: read in one
    go, a file's reading grew with the file (4 MiB per 250,000 rows here)."""
    from compiler.batch.sources import _row_group_runs

    path = tmp_path / "groups.parquet"
    size = 1000
    column = pa.array([f"claim-{i:08d}" for i in range(40 * size)])
    pq.write_table(pa.table({"claim_id": column}), path, row_group_size=size)
    meta = pq.ParquetFile(path).metadata
    runs = list(_row_group_runs(meta, 2500))
    assert runs[0] == [0, 1, 2] and sum(runs, []) == list(range(40))
    assert all(len(run) == 3 for run in runs[:-1])
    held = []
    for _chunk, _ in batch.Source.open(path).chunks(2500):
        held.append(pa.total_allocated_bytes())
    assert max(held[5:]) <= 2 * max(held[:5])  # bounded by a run, not by the file
