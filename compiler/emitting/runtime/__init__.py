"""The runtime of the generated package: modules that `codegen` copies into it
verbatim, after the marker line, under the names they have here.

`_runtime.py` is the scalar path that `evaluate` uses (errors, hit policies, masks,
the checked path) and needs only the standard library. `_frame.py` is the vectorized
path behind `evaluate_frame` (pandas and numpy, imported on its first call), and
`_explain.py` what `explain` returns (imported on its first call too); both import
from `._runtime`, which resolves the same way here and in the package.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent
SHIPPED = ("_runtime.py", "_frame.py", "_explain.py")
