"""Batch runs: a table's generated `evaluate_frame` over a Parquet or CSV file.

Payers re-decide past claims when a policy changes, millions of rows at a time. The
file is read in chunks, so memory stays flat whatever its size; each chunk is typed
by the table's columns, evaluated by the generated `evaluate_frame` and written, with
its inputs, to one output file. Rows whose values the table cannot take go to an
errors file by row number, and the other rows of the chunk still run. `run_dask`
applies the same chunk function to the partitions of a `dask.dataframe`, and
`run_spark` to the Arrow batches of a Spark DataFrame, so a cluster computes exactly
what one machine does.

Text (CSV cells, and string columns where the table expects another type) is read as
`eval` reads a value (`cells.parse_literal`); typed columns are taken as they are.
Rows are numbered from 1, the first data row: a CSV file's header is not a row.

The modules, in the order a run goes: `sources` (the input file, in chunks; RunError),
`plan` (the options checked against the table and the file), `columns` (values typed
by the table's columns), `chunks` (one chunk decided), `sinks` (the output and errors
files) and `staging` (where they are written until the run ends), and the drivers:
`engines` (`run_local`, `run_dask`) and `spark` (`run_spark`). `impact` runs two
versions of the tables on any of them.
"""

from compiler.batch.chunks import decide_chunk
from compiler.batch.engines import Summary, reuse_memory, run_dask, run_local
from compiler.batch.plan import Plan, evaluator, make_plan
from compiler.batch.sources import RunError, Source, file_format
from compiler.batch.spark import run_spark

__all__ = [
    "Plan",
    "RunError",
    "Source",
    "Summary",
    "decide_chunk",
    "evaluator",
    "file_format",
    "make_plan",
    "reuse_memory",
    "run_dask",
    "run_local",
    "run_spark",
]
