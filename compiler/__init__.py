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

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from compiler.diagnostics import Diagnostic, Location, Severity

if TYPE_CHECKING:
    from compiler.emitting.output import Plan, write_generated
    from compiler.pipeline import Compilation, compile_tables, load_tables

_LAZY = {
    "Plan": "compiler.emitting.output",
    "write_generated": "compiler.emitting.output",
    "Compilation": "compiler.pipeline",
    "compile_tables": "compiler.pipeline",
    "load_tables": "compiler.pipeline",
}


def __getattr__(name: str) -> Any:
    """The pipeline's names, imported on first use: `import compiler` (and every
    command, which imports it first) does not load the reader, pandas or Jinja."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'compiler' has no attribute {name!r}")


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
