"""compile-rules: Excel decision tables to fast, readable Python evaluators.

The stable Python API for engineers who embed the compiler (docs/generated-code.md,
"Python API"):

- `load_tables(path)`: read and validate a tables folder: (Project | None, diagnostics)
- `compile_tables(path)`: the whole pipeline in memory: a `Compilation` with the
  diagnostics and the generated files (path -> source), or no files on errors
  (a Tests-sheet case that does not hold among them; `cases=False` runs none).
- `write_generated(out, files)`: write those files as `compile-rules compile` does
  (atomically, under the lock, only what changed); returns the `Plan` it carried out.
- `Diagnostic`, `Location`, `Severity`: the records every stage reports.
"""

from compiler.diagnostics import Diagnostic, Location, Severity
from compiler.emitting.output import Plan, write_generated
from compiler.pipeline import Compilation, compile_tables, load_tables

__all__ = [
    "Compilation",
    "Diagnostic",
    "Location",
    "Plan",
    "Severity",
    "compile_tables",
    "load_tables",
    "write_generated",
]
