"""Batch runs at scale: synthetic claims through a shipped table, both engines.

    python bench/batch.py [--rows 10000000] [--bad 0] [--chunk-size 250000]

Writes ROWS synthetic imaging claims (claim and member ids, date of service, age,
pediatric condition, body area) as Parquet, then runs `compile-rules run
imaging_guideline_document` (a chain through imaging_guideline_set) on them with the
pandas engine and with `--engine dask` on a local cluster (one worker process per
core), each in its own process. Prints rows per second and the peak memory of each
run's process tree, and checks that both engines wrote the same rows. A benchmark,
not a test: nothing here runs under pytest.
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
    process = subprocess.Popen(command, cwd=ROOT)
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
    if code not in (0, 4):
        sys.exit(f"{' '.join(command)} exited {code}")
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--bad", type=float, default=0.0, help="fraction of bad rows")
    parser.add_argument("--chunk-size", type=int, default=250_000)
    parser.add_argument(
        "--partitions", type=int, help="Dask partitions (default: its own)"
    )
    parser.add_argument("--keep", type=Path, help="keep the files in this folder")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per engine; the fastest is shown"
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="compile-rules-batch-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "claims.parquet"
    start = time.perf_counter()
    claims(source, args.rows, args.bad)
    size = source.stat().st_size / 2**20
    print(
        f"{args.rows:,} claims ({size:,.0f} MiB of Parquet) written in "
        f"{time.perf_counter() - start:.1f}s; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    base = [
        sys.executable,
        "-m",
        "compiler",
        "run",
        TABLE,
        "-q",
        "--input",
        str(source),
    ]
    runs = {
        "pandas": [*base, "--output", str(folder / "pandas.parquet")]
        + ["--chunk-size", str(args.chunk_size)],
        "dask (local cluster)": [*base, "--output", str(folder / "dask.parquet")]
        + ["--engine", "dask"]
        + (["--partitions", str(args.partitions)] if args.partitions else []),
    }
    print(f"{'engine':<22} {'seconds':>8} {'rows/s':>12} {'peak RSS (tree)':>16}")
    for name, command in runs.items():
        runs_of = [measure(command) for _ in range(max(args.repeat, 1))]
        seconds = min(r[0] for r in runs_of)
        peak = max(r[1] for r in runs_of)
        print(
            f"{name:<22} {seconds:>8.1f} {args.rows / seconds:>12,.0f} "
            f"{peak / 2**20:>12,.0f} MiB"
        )
    pandas_rows = pq.read_table(folder / "pandas.parquet")
    dask_rows = pq.read_table(folder / "dask.parquet")
    same = pandas_rows.equals(dask_rows)
    errors = [(folder / f"{n}.errors.csv").read_bytes() for n in ("pandas", "dask")]
    print(
        f"{pandas_rows.num_rows:,} rows decided; both engines wrote the same rows: "
        f"{same}, the same errors: {errors[0] == errors[1]}"
    )
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    if not same or errors[0] != errors[1]:
        sys.exit(1)


if __name__ == "__main__":
    main()
