"""compile-rules: Excel decision tables to fast, readable Python evaluators.

The stable Python API for engineers who embed the compiler:

- `load_tables(path)`: read and validate a tables folder: (Project | None, diagnostics)
- `compile_tables(path)`: the whole pipeline in memory: a `Compilation` with the
  diagnostics and the generated files (path -> source), or no files on errors.
"""

from .diagnostics import Diagnostic, Location, Severity
from .pipeline import Compilation, compile_tables, load_tables

__all__ = [
    "Compilation",
    "Diagnostic",
    "Location",
    "Severity",
    "compile_tables",
    "load_tables",
]
