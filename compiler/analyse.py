"""Stage 4: static analysis of the validated tables (completeness, overlaps, reach).

Each analysis is a plain function from the project to diagnostics; `ANALYSES` lists
them in the order they run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .diagnostics import Diagnostic
from .model import Project

ANALYSES: tuple[Callable[[Project], Iterator[Diagnostic]], ...] = ()


def analyse(project: Project) -> tuple[Diagnostic, ...]:
    return tuple(d for analysis in ANALYSES for d in analysis(project))
