"""Run generated evaluators without writing them: used by `compile-rules eval`.

The generated sources are imported from memory as a throwaway package, so `eval`
always runs exactly the code `compile` writes for the current tables.
"""

from __future__ import annotations

import datetime as dt
import importlib.abc
import importlib.util
import itertools
import sys
import types
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from typing import Any

from compiler.emitting.runtime import SHIPPED

_counter = itertools.count(1)


class _SourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, package: str, files: dict[str, str]) -> None:
        self.package = package
        self.sources = {
            f"{package}.{name[:-3].replace('/', '.')}": text
            for name, text in files.items()
            if name.endswith(".py")
            and not name.startswith("tests/")
            and name != "__init__.py"
        }
        self.sources[package] = files.get("__init__.py", "")

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in self.sources:
            return None
        return importlib.util.spec_from_loader(
            fullname, self, is_package=fullname == self.package
        )

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        code = compile(
            self.sources[module.__name__], f"<generated {module.__name__}>", "exec"
        )
        exec(code, module.__dict__)  # the generated code, never cell text


def load_table(files: dict[str, str], table: str) -> types.ModuleType:
    """Import the generated module of TABLE from FILES, as a fresh package. The
    runtime modules are imported with it, while the finder is installed: the module
    imports `_frame` only when `evaluate_frame` is first called."""
    package = f"_compile_rules_eval_{next(_counter)}"
    finder = _SourceFinder(package, files)
    sys.meta_path.insert(0, finder)
    try:
        for name in SHIPPED:
            if name in files:
                importlib.import_module(f"{package}.{name.removesuffix('.py')}")
        return importlib.import_module(f"{package}.{table}")
    finally:
        sys.meta_path.remove(finder)


def to_json(value: Any) -> Any:
    """Outputs as JSON values: dates as ISO text, named tuples as objects."""
    if hasattr(value, "_asdict"):
        return {k: to_json(v) for k, v in value._asdict().items()}
    if isinstance(value, tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def result_json(result: Any) -> dict[str, Any]:
    return {"outputs": to_json(result.outputs), "matched": list(result.matched)}
