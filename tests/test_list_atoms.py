"""Version 2: `evaluate` computes a list column's quantified entries from one pass
over its elements (which basic tests each passes, `feel.atoms`), while `explain`
and `evaluate_frame` keep one scan of the list per entry (`feel.some`, ...). Both,
and the reference interpreter, must decide alike on any list; entries that differ
only in the order of their tests are one derived column. Also: the fused
`years and months duration(a, b).years` / `.months` and `(a - b).days` of dates equal
the field of the duration they skip building, and a date compared with a date input
shifted by whole days (`feel.sign_days`) equals the comparison with the shifted date.
"""

from __future__ import annotations

import datetime as dt
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.checking import interpret
from compiler.emitting.runtime import _feel
from compiler.model import Project

from .helpers import compile_books, compiled_module, errors, load_books
from .workbooks import decision_table

CODES = decision_table(
    "code_atoms",
    [
        ("codes", "input", "list of code", None),
        ("counts", "input", "list of integer", None),
        ("hit", "output", "string", None),
    ],
    [
        ("R1", "any(M54.*, M51.*)", "-", "a"),
        ("R2", "any(M51.*, M54.*)", "-", "b"),  # the same column as R1's
        ("R3", "every(M54.*)", "-", "c"),
        ("R4", "every(M54.*, M51.1)", "-", "d"),
        ("R5", "none(M54.5, M51.*)", "-", "e"),
        ("R6", "any(not(M54.*))", "-", "f"),
        ("R7", "none(not(M54.*, Z00))", "-", "g"),
        ("R8", "every(not(M51.*))", "-", "h"),
        ("R9", "any([A10..A20])", "any(< 3, > 100)", "i"),
        ("R10", "-", "every([1..10])", "j"),
        ("R11", "-", "none(7)", "k"),
        ("R12", "-", "every(not(< 0, 5))", "l"),
    ],
    hit_policy="RULE ORDER",
)
BOOKS = {"atoms.xlsx": {"Atoms": CODES}}

code_lists = st.one_of(
    st.none(),
    st.lists(
        st.sampled_from(
            ["M54.5", "M54.", "M51.1", "M51.16", "M5", "Z00", "A15", "A100", "A1"]
        ),
        max_size=4,
    ),
)
count_lists = st.one_of(
    st.none(), st.lists(st.integers(min_value=-2, max_value=110), max_size=4)
)


@pytest.fixture(scope="module")
def compiled(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Project, types.ModuleType]:
    root = tmp_path_factory.mktemp("atoms")
    project, diagnostics = load_books(root / "load", BOOKS)
    assert project is not None and not errors(diagnostics), diagnostics
    return project, compiled_module(compile_books(root / "c", BOOKS), "code_atoms")


def test_entries_that_differ_in_test_order_share_a_column(
    compiled: tuple[Project, types.ModuleType],
) -> None:
    _, module = compiled
    names = [c.name for c in module._COLUMNS]
    derived = [n for n in names if n.startswith("codes_")]
    # R1 and R2 share one; R3 ... R9 one each
    assert len(derived) == 8, derived
    # evaluate reads each list's atoms once: feel.atoms, not feel.some per entry
    assert "atoms" in module.evaluate.__code__.co_names
    assert "some" not in module.evaluate.__code__.co_names
    assert set(module._CODES_ATOM_PREFIXES[0][1]) == {"M54.", "M51."}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codes=code_lists, counts=count_lists)
def test_evaluate_explain_and_the_interpreter_agree(
    compiled: tuple[Project, types.ModuleType],
    codes: list[str] | None,
    counts: list[int] | None,
) -> None:
    project, module = compiled
    found = module.evaluate(codes=codes, counts=counts)
    assert module.explain(codes=codes, counts=counts).result == found
    inputs: dict[str, Any] = {"codes": codes, "counts": counts}
    _, matched = interpret.evaluate(project, "code_atoms", inputs)
    assert tuple(matched) == found.matched


def test_a_wrong_element_is_an_input_error(
    compiled: tuple[Project, types.ModuleType],
) -> None:
    _, module = compiled
    with pytest.raises(module.InputError, match="codes"):
        module.evaluate(codes=["M54.5", 7], counts=[1])
    with pytest.raises(module.InputError, match="counts"):
        module.evaluate(codes=["M54.5"], counts=[1, "2"])


dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


@given(start=dates, end=dates)
def test_fused_years_and_months_equal_the_duration_fields(
    start: dt.date, end: dt.date
) -> None:
    duration = _feel.years_and_months(start, end)
    for name in ("years", "months"):
        assert _feel.ym_field(start, end, name) == _feel.field(duration, name)
    assert _feel.days_between(end, start) == _feel.field(_feel.sub(end, start), "days")


@given(
    start=st.one_of(st.none(), dates, st.datetimes()),
    end=st.one_of(st.none(), dates, st.datetimes()),
)
def test_fused_fields_fall_back_to_the_reference(start: Any, end: Any) -> None:
    for name in ("years", "months"):
        expected = _feel.field(_feel.years_and_months(start, end), name)
        assert _feel.ym_field(start, end, name) == expected


@given(
    a=st.one_of(st.none(), dates),
    b=st.one_of(st.none(), dates),
    days=st.one_of(
        st.integers(min_value=-400, max_value=400),
        st.integers(min_value=-4_000_000, max_value=4_000_000),
    ),
)
def test_sign_days_equals_the_comparison_with_the_shifted_date(
    a: dt.date | None, b: dt.date | None, days: int
) -> None:
    shifted = _feel.add(b, dt.timedelta(days=days))
    assert _feel.sign_days(a, b, days) == _feel.sign(a, shifted)


def test_an_entry_naming_a_shifted_date_compiles_to_sign_days(
    tmp_path: Path,
) -> None:
    table = decision_table(
        "xray_window",
        [
            ("date_of_service", "input", "date", None),
            ("xray_date", "input", "date", None),
            ("recent", "output", "boolean", None),
        ],
        [
            ("R1", "-", "[date_of_service - 2 weeks..date_of_service]", True),
            ("R2", "-", "> date_of_service + 1 days", False),
        ],
        hit_policy="FIRST",
        metadata={"Complete": "no"},  # partial on purpose: the gaps are real
    )
    module = compiled_module(
        compile_books(tmp_path, {"x.xlsx": [table]}), "xray_window"
    )
    assert "sign_days" in module.evaluate.__code__.co_names  # not feel.sub
    service = dt.date(2025, 3, 1)
    for offset in range(-20, 5):
        xray = service + dt.timedelta(days=offset)
        inputs = {"date_of_service": service, "xray_date": xray}
        found = module.evaluate(**inputs)
        assert module.explain(**inputs).result == found
        expected = ("R1",) if -14 <= offset <= 0 else ("R2",) if offset > 1 else ()
        assert found.matched == expected
