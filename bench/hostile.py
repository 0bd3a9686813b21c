"""Time and memory of reading hostile workbooks, one fresh process per file.

    python bench/hostile.py            # every file of tests/hostile.py, and large ones
    python bench/hostile.py --raw      # also openpyxl alone, without the reader's scan
    python bench/hostile.py merge-bomb.xlsx big-table-100k.xlsx

For each file: the outcome of `read_workbook` (read, or the start of its message),
the time it took and the peak of Python allocations (tracemalloc) in a process that
does only that; then the whole `compile-rules compile` in another process: its exit
code, wall time and peak resident memory (ru_maxrss, interpreter and imports
included). `--raw` adds openpyxl's own `load_workbook` on the file, stopped after
--timeout seconds, to show what the reader's checks prevent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import hostile  # noqa: E402

READ = """
import json, sys, time, tracemalloc
from pathlib import Path
from compiler.reading.workbook import read_workbook
path = Path(sys.argv[1])
tracemalloc.start()
started = time.perf_counter()
result = read_workbook(path, "tables/" + path.name)
seconds = time.perf_counter() - started
peak = tracemalloc.get_traced_memory()[1]
outcome = getattr(result, "message", None) or f"read: {len(result.sheets)} sheet(s)"
print(json.dumps({"seconds": seconds, "peak": peak, "outcome": outcome}))
"""

RAW = """
import sys, warnings
warnings.simplefilter("ignore")
import openpyxl
try:
    openpyxl.load_workbook(sys.argv[1])
    print("loaded")
except Exception as exc:
    print(type(exc).__name__)
"""


def files() -> dict[str, Callable[[], bytes]]:
    found: dict[str, Callable[[], bytes]] = {
        name: builder for name, (builder, _) in hostile.HOSTILE_FILES.items()
    }
    found.update(
        {
            "valid.xlsx": hostile.valid_workbook,
            "huge-dimension.xlsx": hostile.huge_dimension,
            "far-cell.xlsx": hostile.far_cell,
            "deep-nesting.xlsx": hostile.deep_nesting,
            "merge-100k.xlsx": lambda: hostile.range_bomb("mergeCell", "A1:J10000"),
            "merge-2.6m.xlsx": lambda: hostile.range_bomb("mergeCell", "A1:Z100000"),
            "long-attribute-8m.xlsx": lambda: hostile.long_attribute(8),
            "namespaces-100k.xlsx": lambda: hostile.namespace_bomb(100_000),
            "cells-1m.xlsx": lambda: hostile.many_cells(1_000_000),
            "cells-1m-plus-1.xlsx": lambda: hostile.many_cells(1_000_001),
            "big-table-32k.xlsx": lambda: hostile.big_table(32_768),
            "big-table-100k.xlsx": lambda: hostile.big_table(100_000),
            # read, then refused by the compiler (E122, E101): exit 3
            "cached-error.xlsx": hostile.cached_error,
            "long-name.xlsx": hostile.long_name,
            # read, then refused for the cell they name (E001): exit 3
            "duplicate-cell.xlsx": hostile.duplicate_cell,
            "boolean-2.xlsx": lambda: hostile.boolean_cell("2"),
            # what openpyxl builds objects for beyond cells
            "validations-2m.xlsx": hostile.data_validations,
            "strings-10m.xlsx": hostile.shared_strings,
        }
    )
    return found


def measured(command: list[str], timeout: float) -> tuple[int | None, float, int, str]:
    """Run COMMAND; its exit code (None if stopped at TIMEOUT), wall seconds, peak
    resident kilobytes, and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL)
        code: int | None = None
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() - started > timeout:
                process.kill()
                _, _, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.01)
        process.returncode = code if code is not None else -9
        out.seek(0)
        text = out.read().decode(errors="replace")
    return code, time.perf_counter() - started, usage.ru_maxrss, text


def mib(count: float) -> str:
    return f"{count / (1024 * 1024):,.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="files to measure (default: all)")
    parser.add_argument("--raw", action="store_true", help="also openpyxl alone")
    parser.add_argument("--timeout", type=float, default=120)
    options = parser.parse_args()
    builders = files()
    names = options.names or list(builders)
    header = f"{'file':24} {'size':>9} {'read s':>7} {'traced MiB':>10} {'compile s':>9} {'RSS MiB':>8} exit  outcome"
    if options.raw:
        header += "  | openpyxl alone"
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            tables = Path(tmp) / name.replace(".", "_") / "tables"
            path = hostile.write_file(tables, name, builders[name]())
            _, _, _, text = measured(
                [sys.executable, "-c", READ, str(path)], options.timeout
            )
            read: dict[str, Any] = (
                json.loads(text)
                if text.strip()
                else {"seconds": float("nan"), "peak": 0, "outcome": "?"}
            )
            code, seconds, rss, _ = measured(
                [
                    sys.executable,
                    "-m",
                    "compiler",
                    "compile",
                    "-q",
                    "--tables",
                    str(tables),
                    "--out",
                    str(tables.parent / "out"),
                ],
                options.timeout,
            )
            line = (
                f"{name:24} {mib(path.stat().st_size):>9} {read['seconds']:>7.2f} "
                f"{mib(read['peak']):>10} {seconds:>9.2f} {rss / 1024:>8,.0f} "
                f"{code if code is not None else 'killed':>4}  {read['outcome'][:60]}"
            )
            if options.raw:
                raw_code, raw_s, raw_rss, raw_text = measured(
                    [sys.executable, "-c", RAW, str(path)], options.timeout
                )
                verdict = (
                    raw_text.strip()
                    if raw_code is not None
                    else f"stopped at {options.timeout:g} s"
                )
                line += f"  | {raw_s:.2f} s, {raw_rss / 1024:,.0f} MiB, {verdict}"
            print(line, flush=True)
    print("size in MiB; read: read_workbook alone (tracemalloc on); compile: the CLI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
