"""Stage 4: static analysis of the validated tables: does every table answer every case,
and never answer one case two ways?

The domain of a table is the product of its input columns' domains (their Values, or
the whole type, and null for an input that can be missing: not a `required input`, nor
a `from` input whose source always gives a value; see `compiler/checking/atoms.py`
and `nulls`). The analysis is a few passes over the project, run in order by
`analyse` (`ANALYSES`):

- `regions`: per table version, the columns cut into atoms, each rule a box of atoms,
  and the sweep that partitions the domain into boxes where the set of matching rules
  is constant (`study(table)`: the table's `Facts`).
- `findings`: the passes reading those facts: leaves holding two rules are overlaps
  (UNIQUE; ANY when their outputs differ); gaps are merged into compact boxes; a rule
  that never decides a leaf is unreachable under FIRST or PRIORITY. Version dates are
  checked on the model directly.
- `chains`: the passes on `from` inputs, against what their source tables can give.

Diagnostic codes (all found here, none blocks except where marked error):

    A301 error    UNIQUE: two rules can match the same input
    A302 error    ANY: two rules can match the same input with different outputs
    A303 error    gap: inputs no rule matches, in a single-hit table without Default
    A304 warning  the same gap, in a table declared `Complete: no`
    A305 warning  FIRST: earlier rules cover the rule entirely
    A306 warning  PRIORITY: the rule's output never wins
    A307 warning  the rule matches no allowed input at all
    A308 warning  no version of a decision is in force between two versions
    A309 warning  a `from` input can receive a value outside its Values
    A310 warning  a rule tests a `from` input for values its source never gives
    A311 warning  no input found that makes a rule apply through its `from` chain
    A312 info     examples are not generated for a table (its chain is aggregated)
    A313 warning  a gap that exists only when an input is missing
    A314 warning  an overlap (UNIQUE, or ANY disagreeing) only when an input is missing
    A315 info     no example found for a rule through its computed inputs (`computed`;
                  reported by the compile, `pipeline.compile_tables`)

The package also provides the data for generated tests (`cases`): `examples` (one
input per rule, and both sides of every range edge and version date, with outputs from
the reference interpreter) and `uncovered_rules` (rules no authored test exercises).
Inputs that make a rule decide, through `from` chains, are found by `inputs`, which
A311 shares; in tables with computed inputs they are searched by `computed`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from compiler.checking.analyse.cases import Example, examples, uncovered_rules
from compiler.checking.analyse.chains import check_chain_examples, check_chains
from compiler.checking.analyse.findings import (
    check_gaps,
    check_overlaps,
    check_reach,
    check_version_dates,
)
from compiler.checking.analyse.nulls import settle_sources
from compiler.checking.analyse.regions import Facts, Region, describe, study
from compiler.diagnostics import Diagnostic
from compiler.model import Project

ANALYSES: tuple[Callable[[Project], Iterator[Diagnostic]], ...] = (
    check_overlaps,
    check_gaps,
    check_reach,
    check_version_dates,
    check_chains,
    check_chain_examples,
)


def analyse(project: Project) -> tuple[Diagnostic, ...]:
    """Every pass of `ANALYSES` in turn: their diagnostics, in that order (on the
    project with its `from` inputs settled, see `nulls`)."""
    project = settle_sources(project)
    return tuple(d for analysis in ANALYSES for d in analysis(project))


__all__ = [
    "ANALYSES",
    "Example",
    "Facts",
    "Region",
    "analyse",
    "check_chain_examples",
    "check_chains",
    "check_gaps",
    "check_overlaps",
    "check_reach",
    "check_version_dates",
    "describe",
    "examples",
    "settle_sources",
    "study",
    "uncovered_rules",
]
