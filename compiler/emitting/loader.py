"""Run generated evaluators without writing them: used by `compile-rules eval`.

The generated sources are imported from memory as a throwaway package, so `eval`
always runs exactly the code `compile` writes for the current tables. `TextEvaluator`
takes the inputs as text, as typed on the command line or read from a cases file.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import importlib.util
import itertools
import sys
import threading
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from compiler.diagnostics import CellError
from compiler.emitting.runtime import SHIPPED
from compiler.model import Column, Project, YearsMonths, nest_paths
from compiler.reading import cells

if TYPE_CHECKING:
    from importlib.abc import Loader

_counter = itertools.count(1)


class _SourceFinder:  # a meta path finder and loader (not from importlib.abc, which
    # imports importlib.resources and tempfile: `eval` would start slower)
    """One throwaway package of generated sources, whose modules live in `modules`
    and are in `sys.modules` only while they are imported (`installed`): a process
    that loads tables again and again keeps only the packages it still uses.

    Each module gets its own builtins, whose `__import__` answers the package's
    relative imports (`from ._frame import decide_frame`, on the first call of
    `evaluate_frame`) from `modules`, without `sys.modules`. A runtime module
    (`_runtime`, `_frame`, `_explain`, `_feel`) is imported only when a module uses
    it, and once for every package of the same runtime sources (`shared`)."""

    def __init__(
        self, package: str, files: dict[str, str], shared: _SourceFinder | None = None
    ) -> None:
        self.package = package
        self.shared = shared  # the package whose runtime modules serve this one
        self.sources = {
            f"{package}.{name[:-3].replace('/', '.')}": text
            for name, text in files.items()
            if name.endswith(".py")
            and not name.startswith("tests/")
            and name != "__init__.py"
        }
        self.sources[package] = files.get("__init__.py", "")
        self.modules: dict[str, types.ModuleType] = {}
        self.builtins = {**builtins.__dict__, "__import__": self._import}
        self._depth = 0

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in self.sources:
            return None
        loader = cast("Loader", self)  # create_module and exec_module, as it wants
        return importlib.util.spec_from_loader(
            fullname, loader, is_package=fullname == self.package
        )

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        code = compile(
            self.sources[module.__name__], f"<generated {module.__name__}>", "exec"
        )
        module.__dict__["__builtins__"] = self.builtins
        self.modules[module.__name__] = module
        exec(code, module.__dict__)  # the generated code, never cell text

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """The package importable the usual way: the finder on `sys.meta_path`, its
        modules in `sys.modules`; both taken out again at the end (re-entrant)."""
        with _IMPORTING:
            if not self._depth:
                sys.meta_path.insert(0, self)
                sys.modules.update(self.modules)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if not self._depth:
                    sys.meta_path.remove(self)
                    prefix = f"{self.package}."
                    for name in [
                        n
                        for n in sys.modules
                        if n == self.package or n.startswith(prefix)
                    ]:
                        self.modules[name] = sys.modules.pop(name)

    def _import(
        self,
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] = (),
        level: int = 0,
    ) -> types.ModuleType:
        if not level or globals is None or globals.get("__package__") != self.package:
            return __import__(name, globals, locals, fromlist, level)
        if level == 1 and fromlist:
            if (
                self.shared is not None
            ):  # `from ._feel import ...`, `from . import _feel`
                for stem in (name,) if name else fromlist:
                    if (
                        stem in _RUNTIME_STEMS
                        and f"{self.package}.{stem}" not in self.modules
                    ):
                        self._share(stem)
            found = self.modules.get(f"{self.package}.{name}" if name else self.package)
            if found is not None and all(hasattr(found, n) for n in fromlist):
                return found
        with self.installed():
            return __import__(name, globals, locals, fromlist, level)

    def _share(self, stem: str) -> types.ModuleType:
        """The runtime module STEM of the shared package (imported there on first
        use), made this package's too."""
        assert self.shared is not None
        with self.shared.installed():
            module = importlib.import_module(f"{self.shared.package}.{stem}")
        self.modules[f"{self.package}.{stem}"] = module
        with self.installed():
            sys.modules[f"{self.package}.{stem}"] = module
            setattr(self.modules[self.package], stem, module)
        return module


_IMPORTING = threading.RLock()  # sys.modules holds one package's modules at a time
_RUNTIME = (*SHIPPED, "_feel.py")  # _feel: version 2, when used
_RUNTIME_STEMS = frozenset(name.removesuffix(".py") for name in _RUNTIME)


def load_table(files: dict[str, str], table: str) -> types.ModuleType:
    """Import the generated module of TABLE from FILES, as a fresh package."""
    return load_modules(files, (table,))[table]


def load_modules(
    files: dict[str, str], tables: Sequence[str]
) -> dict[str, types.ModuleType]:
    """Import the generated modules of TABLES from FILES, as one fresh package. The
    runtime modules are imported with them. Nothing of the package stays in
    `sys.modules` (see `_SourceFinder`): it lives as long as its modules are used."""
    package = f"_compile_rules_eval_{next(_counter)}"
    shipped = tuple(files.get(name, "") for name in _RUNTIME)
    shared = _RUNTIMES.get(shipped)
    finder = _SourceFinder(package, files, shared)
    with finder.installed():
        if shared is None:
            # Only `_runtime` now: the others are imported on their first use (as
            # the generated modules do), here and, through `shared`, in the
            # packages of the same runtime loaded later.
            if "_runtime.py" in files:
                importlib.import_module(f"{package}._runtime")
            _RUNTIMES[shipped] = finder
            while len(_RUNTIMES) > 4:
                del _RUNTIMES[next(iter(_RUNTIMES))]
        else:
            # The same runtime sources: their modules, imported once, serve every
            # package (typing's caches keep classes of a runtime alive for a while).
            root = importlib.import_module(package)
            for name in _RUNTIME:
                stem = name.removesuffix(".py")
                module = shared.modules.get(f"{shared.package}.{stem}")
                if module is not None:
                    finder.modules[f"{package}.{stem}"] = sys.modules[
                        f"{package}.{stem}"
                    ] = module
                    setattr(root, stem, module)
        return {t: importlib.import_module(f"{package}.{t}") for t in tables}


# runtime sources (SHIPPED) -> the package whose runtime modules serve them
_RUNTIMES: dict[tuple[str, ...], _SourceFinder] = {}


def sibling(module: types.ModuleType, name: str) -> types.ModuleType:
    """The module NAME (`_runtime`; '' for the package itself) of the package that
    MODULE, a generated table module, belongs to: loaded by `load_modules` or
    imported from a folder."""
    package = module.__package__ or ""
    fullname = f"{package}.{name}" if name else package
    loader = getattr(module, "__loader__", None)
    if isinstance(loader, _SourceFinder):
        return loader.modules[fullname]
    return importlib.import_module(fullname)


def result_json(result: Any) -> dict[str, Any]:
    # here: `explain` (which prints the package's own Explanation) does not need it
    from compiler.emitting.runtime._explain import to_json

    return {"outputs": to_json(result.outputs), "matched": list(result.matched)}


class EvalError(ValueError):
    """An input name, value or date the table cannot take; the message says which."""


@dataclass(frozen=True, slots=True)
class TextEvaluator:
    """TABLE's generated evaluator, given its inputs as text and read as cells are."""

    table: str
    columns: dict[str, Column]  # every input a caller passes, by header (a path's
    # header is its path, `claim.member.age`; its value goes into `claim`)
    versioned: bool  # whether the table (or one it requires) takes `as_of`
    module: types.ModuleType

    @classmethod
    def load(cls, project: Project, files: dict[str, str], table: str) -> TextEvaluator:
        """TABLE of PROJECT, whose generated sources are FILES."""
        return cls.of(
            table, project.chain_inputs(table), project.chain_versioned(table), files
        )

    @classmethod
    def of(
        cls,
        table: str,
        inputs: Sequence[Column],
        versioned: bool,
        files: dict[str, str],
    ) -> TextEvaluator:
        """TABLE, whose callers pass INPUTS (and `as_of` when VERSIONED), from the
        generated sources FILES."""
        columns = {c.header: c for c in inputs}
        return cls(table, columns, versioned, load_table(files, table))

    def arguments(
        self, values: Mapping[str, str | None], as_of: str | None
    ) -> dict[str, Any]:
        """The keyword arguments of `evaluate` for VALUES (input header -> text; a
        blank value is None) and AS_OF: the value of a path input, `claim.member.age`,
        inside its structured input's mapping. Raises EvalError for an unknown
        input, or a value or date that does not parse."""
        kwargs: dict[str, Any] = {}
        for name, text in values.items():
            if name not in self.columns:
                from compiler.reading.sheets import suggest  # loads the reader

                hint = suggest(name, self.columns)
                raise EvalError(
                    f"{self.table!r} has no input {name!r}"
                    + (f"; {hint}" if hint else f"; inputs: {', '.join(self.columns)}")
                )
            column = self.columns[name]
            if text is None or not text.strip():
                kwargs[column.name] = None
                continue
            try:
                kwargs[column.name] = self._parsed(column, text)
            except CellError as exc:
                raise EvalError(f"{name}={text!r}: {_explained(exc)}") from None
        paths = {c.name: c.path for c in self.columns.values() if c.path}
        if paths:
            kwargs = nest_paths(kwargs.items(), paths)
        if as_of:
            if not self.versioned:
                raise EvalError(
                    f"{self.table!r} has no effective-dated versions; drop --as-of"
                )
            try:
                kwargs["as_of"] = cells.parse_date_text(as_of.strip())
            except CellError as exc:
                raise EvalError(f"--as-of {as_of!r}: {_explained(exc)}") from None
        return kwargs

    def _parsed(self, column: Column, text: str) -> Any:
        """TEXT as a value of COLUMN, read as a cell is (CellError if it is not)."""
        if column.many:  # version 2: a list, `M54.5, 70450`; [] is empty
            listed = text.strip() != "[]"
            return cells.parse_literal_list(text, column.type) if listed else ()
        value = cells.parse_literal(text, column.type)
        if isinstance(value, YearsMonths):  # as the package's own
            return sibling(self.module, "_runtime").YearsMonths(value.total)
        return value

    def evaluate(
        self, values: Mapping[str, str | None], as_of: str | None
    ) -> dict[str, Any]:
        """The result as JSON values (`result_json`). Raises EvalError as `arguments`
        does, or for what the evaluator rejects (a value not listed, no version in
        force, ...)."""
        kwargs = self.arguments(values, as_of)
        try:
            return result_json(self.module.evaluate(**kwargs))
        except ValueError as exc:  # its InputError, NoVersionError, AmbiguousError
            raise self._error(exc, kwargs) from None

    def explain(self, values: Mapping[str, str | None], as_of: str | None) -> Any:
        """The generated `explain` on the same inputs: an Explanation (`str()` for
        people, `to_json()`). Raises EvalError as `evaluate` does."""
        kwargs = self.arguments(values, as_of)
        try:
            return self.module.explain(**kwargs)
        except ValueError as exc:
            raise self._error(exc, kwargs) from None

    def _error(self, exc: ValueError, kwargs: Mapping[str, Any]) -> EvalError:
        """The evaluator's error EXC as an EvalError that names a path input by its
        header (`member.age=130`, not the evaluator's `member__age=130`)."""
        message = str(exc)
        name = getattr(exc, "name", None)
        for column in self.columns.values():
            if column.path and column.name == name:
                message = message.replace(f"{name}=", f"{column.header}=", 1)
        return EvalError(message + self._did_you_mean(message, kwargs))

    def _did_you_mean(self, message: str, kwargs: Mapping[str, Any]) -> str:
        """`; did you mean 'Head'?` for the input MESSAGE names, when its value is
        close to one of the column's listed Values (as `run` says in its errors)."""
        for name, value in kwargs.items():
            column = self.columns.get(name)
            if column is None or not isinstance(value, str):
                continue
            if f"{name}={value!r}" not in message:
                continue
            from compiler.reading.sheets import suggest  # loads the reader

            hint = suggest(value, map(str, column.value_list))
            if hint:
                return f"; {hint}"
        return ""


def _explained(exc: CellError) -> str:
    return exc.message + (f" ({exc.hint})" if exc.hint else "")


@dataclass(frozen=True, slots=True)
class Case:
    """One row of a cases file."""

    row: int  # from 1, the first data row (the header is not a row), as `run` does
    values: dict[str, str | None]  # input name -> cell text (None: the row is short)
    as_of: str | None


def read_cases(path: Path, as_of: str | None) -> Iterator[Case]:
    """The rows of the CSV file PATH, one column per input; a column `as_of` gives a
    row its own date, and AS_OF is the date of the rows where it is blank. Read as
    the rows are evaluated, so a large file is never held in memory."""
    import csv  # here: `eval` without --cases does not need it

    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            values = {
                k.strip(): v
                for k, v in row.items()
                if k is not None and k.strip() != "as_of"
            }
            when = (row.get("as_of") or "").strip() or as_of
            yield Case(number, values, when)
