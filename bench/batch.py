"""Batch runs at scale: synthetic claims through a shipped table, on every engine.

    python bench/batch.py [--rows 10000000] [--bad 0] [--chunk-size 250000]
        [--engines pandas,dask,spark] [--no-csv] [--repeat N]

Writes ROWS synthetic imaging claims (claim and member ids, date of service, age,
pediatric condition, body area) as Parquet, then times, each in its own process:
the fixed start-up of `compile-rules run` (imports and compiling the tables, on a
10-row file), pyarrow alone reading the file and writing its rows again (the floor),
and `compile-rules run imaging_guideline_document` (a chain through
imaging_guideline_set) with the pandas engine on the file, on a quarter of it (the
peak memory must not grow with the file) and on the same rows as CSV;
`compile-rules impact` of a change to imaging_guideline_set over the file; and the
file with `--engine dask` on a local cluster (one worker process per core) and
`--engine spark` in local mode. Prints seconds, rows per second (whole command and
past the start-up), the peak memory of each process tree, the pandas engine against
the floor, the other engines and impact against the pandas engine, and checks that
the engines wrote the same rows and errors. A benchmark, not a test: nothing here
runs under pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from compiler.pipeline import load_tables

ROOT = Path(__file__).resolve().parent.parent
TABLE = "imaging_guideline_document"


def body_areas() -> list[str]:
    """The Values of the table's `body_area` input, read from the shipped tables."""
    project, _ = load_tables(ROOT / "tables")
    assert project is not None
    columns = {c.name: c for c in project.chain_inputs(TABLE)}
    return [str(v) for v in columns["body_area"].value_list]


def claims(path: Path, rows: int, bad: float, seed: int = 7) -> None:
    """ROWS claims, written a million at a time (memory stays flat). A fraction BAD
    of them has an age outside [0..130] or a misspelt body area."""
    rng = np.random.default_rng(seed)
    areas_listed = np.array(body_areas(), dtype=object)
    step = 1_000_000
    writer = None
    for start in range(0, rows, step):
        n = min(step, rows - start)
        ages = rng.integers(0, 100, n)
        areas = areas_listed[rng.integers(0, len(areas_listed), n)]
        if bad:
            wrong = rng.random(n) < bad
            ages[wrong & (rng.random(n) < 0.5)] = 150
            areas[wrong & (ages != 150)] = "Hed"
        days = np.datetime64("2024-01-01") + rng.integers(0, 730, n)
        ids = np.arange(start, start + n)
        table = pa.table(
            {
                "claim_id": pa.array([f"C{i:010d}" for i in ids]),
                "member_id": pa.array([f"{i % 997_331:08d}" for i in ids]),
                "date_of_service": pa.array(days.astype("datetime64[D]")),
                "age_years": pa.array(ages, mask=rng.random(n) < 0.01),
                "condition_in_pediatric_guidelines": pa.array(rng.random(n) < 0.3),
                "body_area": pa.array(areas, pa.string()),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(str(path), table.schema)
        writer.write_table(table, row_group_size=250_000)
    assert writer is not None
    writer.close()


def _tree_rss(pid: int) -> int:
    """The resident memory of PID and its descendants, in bytes (Linux /proc)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    pending.extend(int(c) for c in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def measure(command: list[str]) -> tuple[float, int]:
    """(seconds, peak RSS of its process tree, sampled every 20 ms) of COMMAND. The
    tree: a Dask run's scheduler and worker processes count too."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if code not in (0, 1, 4):  # 1: impact found changed rows
        sys.exit(f"{' '.join(command)} exited {code}")
    return seconds, peak


FLOOR = """
import sys, time
import pyarrow as pa, pyarrow.parquet as pq
start = time.perf_counter()
writer = None
for batch in pq.ParquetFile(sys.argv[1]).iter_batches(batch_size=250_000):
    if writer is None:
        writer = pq.ParquetWriter(sys.argv[2], batch.schema)
    writer.write_batch(batch)
writer.close()
print(time.perf_counter() - start)
"""


def floor(source: Path, target: Path) -> float:
    """Seconds pyarrow alone takes to read SOURCE and write its rows again (in
    chunks of 250,000, with pyarrow's default writer), timed inside its process."""
    done = subprocess.run(
        [sys.executable, "-c", FLOOR, str(source), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def to_csv(source: Path, target: Path) -> None:
    """SOURCE's rows as CSV, a million at a time."""
    import pyarrow.csv as pacsv

    writer = None
    for batch in pq.ParquetFile(source).iter_batches(batch_size=1_000_000):
        if writer is None:
            writer = pacsv.CSVWriter(str(target), batch.schema)
        writer.write_batch(batch)
    assert writer is not None
    writer.close()


def changed_tables(folder: Path) -> tuple[Path, Path]:
    """The shipped tables, and a copy in which imaging_guideline_set sends 16 and 17
    year olds to the General guidelines (its age limit 16, not 18)."""
    import openpyxl

    old, new = folder / "old-tables", folder / "new-tables"
    shutil.copytree(ROOT / "tables", old, dirs_exist_ok=True)
    shutil.copytree(ROOT / "tables", new, dirs_exist_ok=True)
    book = openpyxl.load_workbook(new / "imaging_preface.xlsx")
    for row in book["Guideline set"].iter_rows():
        for cell in row:
            if cell.value in ("< 18", ">= 18"):
                cell.value = str(cell.value).replace("18", "16")
    book.remove(book["Guideline set tests"])
    book.save(new / "imaging_preface.xlsx")
    return old, new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--bad", type=float, default=0.0, help="fraction of bad rows")
    parser.add_argument("--chunk-size", type=int, default=250_000)
    parser.add_argument(
        "--partitions", type=int, help="Dask and Spark partitions (default: theirs)"
    )
    parser.add_argument(
        "--engines",
        default="pandas,dask,spark",
        help="the engines to run, of pandas, dask, spark (default: all three)",
    )
    parser.add_argument("--no-csv", action="store_true", help="skip the CSV input")
    parser.add_argument("--keep", type=Path, help="keep the files in this folder")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per engine; the fastest is shown"
    )
    args = parser.parse_args()
    engines = args.engines.split(",")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="compile-rules-batch-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "claims.parquet"
    start = time.perf_counter()
    claims(source, args.rows, args.bad)
    size = source.stat().st_size / 2**20
    tiny = folder / "tiny.parquet"
    pq.write_table(pq.read_table(source).slice(0, 10), tiny)
    quarter = folder / "quarter.parquet"
    pq.write_table(
        pq.read_table(source).slice(0, args.rows // 4), quarter, row_group_size=250_000
    )
    print(
        f"{args.rows:,} claims ({size:,.0f} MiB of Parquet) written in "
        f"{time.perf_counter() - start:.1f}s; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )

    def run(given: Path, output: str, *options: str) -> list[str]:
        return [
            *(sys.executable, "-m", "compiler", "run", TABLE, "-q"),
            *("--input", str(given), "--output", str(folder / output), *options),
        ]

    def best(command: list[str]) -> tuple[float, int]:
        found = [measure(command) for _ in range(max(args.repeat, 1))]
        return min(f[0] for f in found), max(f[1] for f in found)

    chunks = ["--chunk-size", str(args.chunk_size)]
    parts = ["--partitions", str(args.partitions)] if args.partitions else []
    startup, _ = best(run(tiny, "tiny-out.parquet"))
    floor_seconds = min(
        floor(source, folder / "floor.parquet") for _ in range(max(args.repeat, 1))
    )
    print(f"start-up (imports, compiling the tables; a 10-row file): {startup:.2f}s")
    print(
        f"floor: pyarrow alone reads and writes the {args.rows:,} rows in "
        f"{floor_seconds:.2f}s ({args.rows / floor_seconds:,.0f} rows/s)"
    )
    runs: dict[str, tuple[list[str], int]] = {}
    if "pandas" in engines:
        runs["pandas, Parquet"] = (run(source, "pandas.parquet", *chunks), args.rows)
        runs["pandas, a quarter of it"] = (
            run(quarter, "quarter-out.parquet", *chunks),
            args.rows // 4,
        )
        if not args.no_csv:
            csv_source = folder / "claims.csv"
            to_csv(source, csv_source)
            runs["pandas, CSV"] = (
                run(csv_source, "csv-out.parquet", *chunks),
                args.rows,
            )
        old, new = changed_tables(folder)
        impact = [
            *(sys.executable, "-m", "compiler", "impact", TABLE, "-q"),
            *("--tables", str(new), "--old", str(old), "--input", str(source)),
            *("--output", str(folder / "changed.parquet"), *chunks),
        ]
        runs["impact (pandas)"] = (impact, args.rows)
    if "dask" in engines:
        runs["dask, local cluster"] = (
            run(source, "dask.parquet", "--engine", "dask", *parts),
            args.rows,
        )
    if "spark" in engines:
        runs["spark, local[*]"] = (
            run(source, "spark.parquet", "--engine", "spark", *chunks, *parts),
            args.rows,
        )
    print(
        f"{'run':<26} {'seconds':>8} {'rows/s':>12} {'past start-up':>14} "
        f"{'peak RSS (tree)':>16}"
    )
    seconds: dict[str, float] = {}
    for name, (command, rows) in runs.items():
        seconds[name], peak = best(command)
        past = rows / max(seconds[name] - startup, 1e-9)
        print(
            f"{name:<26} {seconds[name]:>8.2f} {rows / seconds[name]:>12,.0f} "
            f"{past:>14,.0f} {peak / 2**20:>12,.0f} MiB"
        )
    if "pandas, Parquet" in seconds:
        whole = seconds["pandas, Parquet"]
        print(
            f"pandas past start-up: {args.rows / (whole - startup):,.0f} rows/s "
            f"({(whole - startup) / floor_seconds:.2f}x the pyarrow floor); "
            f"whole command: {args.rows / whole:,.0f} rows/s"
        )
        for name in ("dask, local cluster", "spark, local[*]", "impact (pandas)"):
            if name in seconds:
                print(f"{name}: {seconds[name] / whole:.2f}x the pandas engine's time")
    outputs = {
        "pandas": folder / "pandas.parquet",
        "dask": folder / "dask.parquet",
        "spark": folder / "spark.parquet",
    }
    ran = {n: p for n, p in outputs.items() if n in engines}
    tables = {n: pq.read_table(p) for n, p in ran.items()}
    errors = {
        n: p.with_name(f"{p.stem}.errors.csv").read_bytes() for n, p in ran.items()
    }
    first = next(iter(ran))
    same = all(t.equals(tables[first]) for t in tables.values())
    same_errors = all(e == errors[first] for e in errors.values())
    print(
        f"{tables[first].num_rows:,} rows decided; {', '.join(ran)} wrote the same "
        f"rows: {same}, the same errors: {same_errors}"
    )
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    if not same or not same_errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
