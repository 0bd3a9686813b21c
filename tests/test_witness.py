"""Findings on tables with computed inputs are settled by a search for inputs
(`compiler.checking.analyse.witness`): a gap or an overlap that inputs reach is
certain and shows them; one that no inputs reach, when the search covers every
case, is not reported; the others stay hedged."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.checking import interpret
from compiler.checking.analyse import analyse
from compiler.model import Project

from .helpers import compile_books, load_books
from .test_version2 import BOOKS as VERSION2
from .workbooks import Text, decision_table

LUMBAR = decision_table(
    "lumbar",
    [
        ("codes", "input", "list of code", None),
        ("weeks", "input", "integer", None),
        ("mri", "output", "boolean", None),
    ],
    [
        ["R1", "any(M54.*, M51.1*)", ">= 6", "true"],
        ["R2", "any(M54.*, M51.1*)", "< 6", "false"],
        ["R3", "none(M54.*, M51.1*)", "-", "false"],
    ],
    hit_policy="FIRST",
)


def states_table(*more: list[object], hit_policy: str | None = None) -> list:
    """`= home_state` beside `"NY"` in one column: the state compared with another
    input and tested on its own."""
    return decision_table(
        "cmp",
        [
            ("state", "input", "string", None),
            ("home_state", "input", "string", None),
            ("where", "output", "string", None),
        ],
        [
            ["R1", Text("= home_state"), "-", '"home"'],
            ["R2", '"NY"', "-", '"new york"'],
            *more,
        ],
        hit_policy=hit_policy,
    )


def _findings(tmp_path: Path, books: dict) -> list:
    project, _ = load_books(tmp_path, books)
    assert project is not None
    return [d for d in analyse(project) if d.code.startswith("A3")]


def test_a_gap_no_list_can_reach_is_not_reported(tmp_path: Path) -> None:
    """`any(...)` false with `none(...)` of the same tests false: no list gives
    that, so there is no A303; the gaps that exist (a missing list, a missing
    number of weeks) are reported with the inputs that show them, unhedged."""
    found = _findings(tmp_path, {"l.xlsx": [LUMBAR]})
    assert [d.code for d in found if d.code == "A303"] == []
    assert found and all("spurious" not in d.message for d in found)
    # the derived columns are said as the entries are written, of the list
    assert all(
        "codes_any_" not in d.message and "codes_none_" not in d.message for d in found
    )
    assert any("codes passes any(M54.*, M51.1*)" in d.message for d in found)
    assert any("'codes' is missing" in d.message for d in found)
    examples = [d.message.partition("(for example ")[2] for d in found]
    assert any(e.startswith("codes = null, weeks = ") for e in examples), examples
    assert any(e.startswith("codes = [M5") and "weeks = null" in e for e in examples)


def test_an_overlap_inputs_reach_is_certain_and_shows_them(tmp_path: Path) -> None:
    found = {d.code: d for d in _findings(tmp_path, {"cmp.xlsx": [states_table()]})}
    overlap = found["A301"]
    assert overlap.severity.name == "ERROR"
    assert overlap.message.endswith("for example state = NY, home_state = NY")
    gap = found["A303"]
    assert gap.severity.name == "ERROR" and "spurious" not in gap.message


def test_a_finding_the_search_cannot_settle_stays_hedged(tmp_path: Path) -> None:
    """Dates compared with dates: the search is not exhaustive, so a finding it
    finds no inputs for is still reported, saying it may be spurious."""
    found = _findings(tmp_path, VERSION2)
    xray = [d for d in found if d.location.sheet == "X-ray"]
    assert any("this may be spurious" in d.message for d in xray)
    assert all(d.severity.name == "WARNING" for d in xray)


def test_compile_reports_the_settled_findings(tmp_path: Path) -> None:
    compilation = compile_books(tmp_path, {"l.xlsx": [LUMBAR]})
    codes = sorted(d.code for d in compilation.diagnostics if d.code.startswith("A3"))
    assert "A303" not in codes and "A313" in codes


# -- against brute force -----------------------------------------------------------

PATTERNS = ["M54.*", "M51.1*", "Z00.0", "[72141..72158]"]
# one code of each atom of the patterns (they are disjoint), and one of none
UNIVERSE = ["M54.5", "M51.16", "Z00.0", "72148", "A00"]
WEEKS = [None, 0, 5, 6, 10]
ENTRY = st.one_of(
    st.just("-"),
    st.builds(
        lambda q, tests: f"{q}({', '.join(tests)})",
        st.sampled_from(["any", "every", "none"]),
        st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2, unique=True),
    ),
)
RULES = st.lists(
    st.tuples(ENTRY, st.sampled_from(["-", "< 6", ">= 6"])), min_size=1, max_size=4
)


def _gaps(project: Project) -> tuple[bool, bool]:
    """(a case of given inputs no rule applies to, such a case with one missing),
    over every list of the universe's codes, null, and the weeks."""
    lists = [None] + [
        combo
        for n in range(len(UNIVERSE) + 1)
        for combo in itertools.combinations(UNIVERSE, n)
    ]
    complete = missing = False
    for codes, weeks in itertools.product(lists, WEEKS):
        _, matched = interpret.evaluate(project, "t", {"codes": codes, "weeks": weeks})
        if not matched:
            if codes is None or weeks is None:
                missing = True
            else:
                complete = True
    return complete, missing


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rules=RULES)
def test_gap_findings_agree_with_every_list(tmp_path_factory, rules) -> None:  # type: ignore[no-untyped-def]
    """A303 exactly when a case of given inputs has no rule; some gap finding
    exactly when any case has none; never hedged (the lists are searched whole)."""
    sheet = decision_table(
        "t",
        [
            ("codes", "input", "list of code", None),
            ("weeks", "input", "integer", None),
            ("ok", "output", "boolean", None),
        ],
        [[f"R{i + 1}", codes, weeks, "true"] for i, (codes, weeks) in enumerate(rules)],
        hit_policy="FIRST",
    )
    project, _ = load_books(tmp_path_factory.mktemp("w"), {"t.xlsx": [sheet]})
    assert project is not None
    found = [d for d in analyse(project) if d.code in ("A303", "A313")]
    complete, missing = _gaps(project)
    codes = {d.code for d in found}
    assert ("A303" in codes) is complete, [d.message for d in found]
    assert bool(codes) is (complete or missing), [d.message for d in found]
    assert all("spurious" not in d.message for d in found)


def test_a_rule_that_never_applies_is_certain_on_a_table_with_assumptions(
    tmp_path: Path,
) -> None:
    """The sweep's cases include every case that occurs, so `A305` holds without a
    hedge even where the gaps and overlaps of the table need one."""
    sheet = states_table(
        ["R3", Text("= home_state"), "-", '"again"'], hit_policy="FIRST"
    )
    found = [d for d in _findings(tmp_path, {"cmp.xlsx": [sheet]}) if d.code == "A305"]
    assert len(found) == 1 and found[0].message.startswith("rule R3 never applies")
    assert "spurious" not in found[0].message
