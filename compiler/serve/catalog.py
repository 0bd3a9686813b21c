"""The tables a decision service serves, compiled and imported, and kept current.

A `Catalog` is one compilation of the tables folder: the generated modules, imported
from memory as `eval` imports them (so the service runs exactly the code `compile`
writes), and the OpenAPI document made from the same tables. It never changes; a
`Service` holds the one being served and, with `reload`, swaps in a new one when a
workbook is saved and the tables compile again (through `watch`'s session, which
reads again only the changed workbooks). When a save has errors the last good
catalog stays in service and the errors are kept for the readiness endpoint.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.authoring import watch
from compiler.diagnostics import Diagnostic, Severity
from compiler.emitting.loader import load_modules, sibling
from compiler.model import DataType, Project
from compiler.report import as_json
from compiler.serve import openapi
from compiler.serve.decisions import ServedTable

LOG = logging.getLogger("compile_rules.serve")


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may hold."""

    max_body: int = 1 << 20  # bytes of a request body
    max_batch: int = 1000  # cases of one batch request


@dataclass(frozen=True, slots=True)
class Catalog:
    """One compilation of the tables, as served."""

    project: Project
    tables: dict[str, ServedTable]
    openapi: dict[str, Any]
    listing: dict[str, Any]  # the body of GET /tables
    compiled_at: str  # ISO time, UTC

    @classmethod
    def load(cls, project: Project, files: dict[str, str], limits: Limits) -> Catalog:
        names = [d.name for d in project.decisions]
        modules = load_modules(files, names)
        tables: dict[str, ServedTable] = {}
        for name in names:
            chain = project.chain_inputs(name)
            structured: dict[str, list[tuple[tuple[str, ...], DataType]]] = {}
            for column in chain:
                if column.path:  # version 2: read from the object `claim`
                    root = structured.setdefault(column.path[0], [])
                    root.append((column.path[1:], column.type))
            tables[name] = ServedTable(
                name,
                modules[name],
                sibling(modules[name], "_runtime"),
                {c.name: c.type for c in chain if not c.path},
                project.chain_versioned(name),
                {k: tuple(v) for k, v in structured.items()},
            )
        return cls(
            project,
            tables,
            openapi.document(project, limits),
            openapi.table_list(project),
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )


@dataclass(frozen=True, slots=True)
class Compiled:
    """How the last compilation went (the one at start, or after a save)."""

    ok: bool
    at: str  # ISO time, UTC
    diagnostics: tuple[Diagnostic, ...]  # its errors and warnings

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "at": self.at,
            "errors": [
                as_json(d) for d in self.diagnostics if d.severity is Severity.ERROR
            ],
            "warnings": [
                as_json(d) for d in self.diagnostics if d.severity is Severity.WARNING
            ],
        }


@dataclass
class Service:
    """The catalog in service, and how the last compilation went."""

    tables: Path
    limits: Limits = field(default_factory=Limits)
    quiet: bool = True
    catalog: Catalog | None = None
    last: Compiled | None = None
    session: watch.Session = field(init=False)
    _stop: threading.Event = field(
        default_factory=threading.Event, init=False, repr=False
    )
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.session = watch.Session(
            self.tables,
            Path(),
            quiet=self.quiet,
            echo=lambda line: LOG.info(line),
            write=False,
        )

    def compile(self, changed: Iterable[Path] = ()) -> bool:
        """Compile the tables again (reading again only CHANGED workbooks and those
        whose file changed); serve them if they compile. Returns whether they did."""
        run = self.session.run(changed)
        compilation = run.compilation
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        shown = tuple(d for d in compilation.diagnostics if d.severity > Severity.INFO)
        if compilation.files is None or compilation.project is None:
            self.last = Compiled(False, at, shown)
            return False
        self.catalog = Catalog.load(compilation.project, compilation.files, self.limits)
        self.last = Compiled(True, at, shown)
        return True

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """The readiness endpoint's status and body."""
        last = None if self.last is None else self.last.to_json()
        if self.catalog is None:
            return 503, {"status": "not_ready", "tables": [], "last_compile": last}
        return 200, {
            "status": "ready" if self.last is None or self.last.ok else "stale",
            "tables": list(self.catalog.tables),
            "compiled_at": self.catalog.compiled_at,
            "last_compile": last,
        }

    def start_watching(self, *, poll: bool | None = None) -> None:
        """Recompile on every save, in a thread, until `stop_watching`."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._watch, args=(poll,), name="compile-rules-reload", daemon=True
        )
        self._thread.start()

    def stop_watching(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _watch(self, poll: bool | None) -> None:
        for changed in watch.file_changes(
            self.tables, stop_event=self._stop, force_polling=poll
        ):
            try:
                self.compile(changed)
            except Exception:  # the watcher keeps going; the old tables stay served
                LOG.exception("recompiling after a save failed")
