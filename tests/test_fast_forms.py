"""Version 2: the fast forms of `evaluate` (issue 15) decide as the reference.

- A list whose quantified entries are all `any` of their atoms (or the negation) is
  folded (`compiler.emitting.folding`): `evaluate` looks up the bits some element
  passes, once, instead of computing every entry; `explain` and the reference
  interpreter compute each entry.
- Of two date inputs, `years and months duration(a, b).years`, `a - b`,
  `(a - b).days` and an entry comparing them have inline forms (`inline.fast_value`),
  and a single-hit table whose rules compute their outputs alike builds its Result
  in `evaluate` (`computed.finish_found`). Each falls back to the reference function
  on a value that is not a date; a wrong value is an InputError as before.

Both tables are checked on any inputs against `explain` (the `_compute_` functions:
the reference Python of the expressions) and the interpreter.
"""

from __future__ import annotations

import datetime as dt
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import tables as T
from bench.version2 import compile_sheets
from compiler.checking import interpret
from compiler.emitting.loader import load_table
from compiler.model import Project
from compiler.pipeline import load_tables

from .helpers import compile_books, compiled_module, errors, load_books
from .test_expressions import with_expressions
from .workbooks import decision_table

FOLDED = decision_table(
    "folded_codes",
    [
        ("codes", "input", "list of code", None),
        ("hit", "output", "string", None),
    ],
    [
        ("R1", "any(M54.*, M51.1)", "a"),
        ("R2", "none(M5.*, Z00)", "b"),
        ("R3", "every(not(A1.*))", "c"),
        ("R4", "any([A10..A20], M51.16)", "d"),
        ("R5", "none(Z00, M54.5)", "e"),
        ("R6", "-", "f"),
    ],
    hit_policy="RULE ORDER",
)
BOOKS = {"folded.xlsx": {"Folded": FOLDED}}

codes = st.sampled_from(
    ["M54.5", "M54.", "M51.1", "M51.16", "M5", "Z00", "A15", "A100", "A1", "A20"]
)
code_lists = st.one_of(st.none(), st.lists(codes, max_size=4))
# values that are not lists of codes: an InputError
wrong_lists = st.one_of(
    st.just("M54.5"),
    st.integers(),
    st.lists(st.one_of(codes, st.integers(), st.none()), min_size=1, max_size=3),
)


@pytest.fixture(scope="module")
def folded(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Project, types.ModuleType]:
    root = tmp_path_factory.mktemp("folded")
    project, diagnostics = load_books(root / "load", BOOKS)
    assert project is not None and not errors(diagnostics), diagnostics
    return project, compiled_module(compile_books(root / "c", BOOKS), "folded_codes")


def test_a_list_of_any_entries_is_folded(
    folded: tuple[Project, types.ModuleType],
) -> None:
    _, module = folded
    assert isinstance(module._CODES_FOLD, module.Lookup)
    names = module.evaluate.__code__.co_names
    assert "some_bits" in names  # two prefix lengths, values, a range: the general pass
    assert not any(n.startswith("_CODES_ANY") for n in names)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=code_lists)
def test_the_folded_list_decides_as_explain_and_the_interpreter(
    folded: tuple[Project, types.ModuleType], items: list[str] | None
) -> None:
    project, module = folded
    found = module.evaluate(codes=items)
    assert module.explain(codes=items).result == found
    _, matched = interpret.evaluate(project, "folded_codes", {"codes": items})
    assert tuple(matched) == found.matched


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=wrong_lists)
def test_a_wrong_list_is_an_input_error(
    folded: tuple[Project, types.ModuleType], items: Any
) -> None:
    _, module = folded
    if isinstance(items, list) and all(type(v) is str for v in items):
        return  # a list of codes after all
    with pytest.raises(module.InputError, match="codes"):
        module.evaluate(codes=items)


# -- the claim table of bench/version2.py: every fast form at once ----------------------


@pytest.fixture(scope="module")
def claims(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Project, types.ModuleType]:
    root = tmp_path_factory.mktemp("claims")
    spec = T.claim_table(60)
    files = compile_sheets(root, {spec.name: T.claim_sheet_rows(spec)})
    project, _ = load_tables(root / "tables")
    assert project is not None
    return project, load_table(files, spec.name)


def test_the_claim_table_takes_the_fast_forms(
    claims: tuple[Project, types.ModuleType],
) -> None:
    _, module = claims
    names = module.evaluate.__code__.co_names
    assert "prefix_bit" in names  # one prefix length: the pass inline
    for slow in ("ym_field", "days_between", "sub", "sign"):
        assert slow in names  # only as the fall-back of a fast form
    assert "_finish" not in names  # the Result built in place
    assert isinstance(module._DIAGNOSIS_CODES_FOLD, module.Lookup)


def _outcome(
    call: Any, inputs: dict[str, Any], catch: type[BaseException] = Exception
) -> Any:
    """CALL's Result on INPUTS (an Explanation's), or the type of what it raised
    (of CATCH): `evaluate` and `explain` must end alike."""
    try:
        found = call(**inputs)
    except catch as error:
        return type(error)
    return getattr(found, "result", found)


dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
near = st.builds(
    lambda d, days: d + dt.timedelta(days=days),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.integers(min_value=-800, max_value=800),
)
some_date = st.one_of(st.none(), dates, near)
wrong_date = st.one_of(
    st.datetimes(), st.integers(), st.just("2025-01-01"), st.just(dt.time(1, 2))
)
claim_codes = st.one_of(
    st.none(),
    st.lists(
        st.builds(
            lambda c, rest: f"{c}{rest}",
            st.sampled_from(T.DIAGNOSES),
            st.sampled_from(["", ".", ".1", ".96", "9"]),
        ),
        max_size=3,
    ),
)


def _claim(
    service: Any, born: Any, ct: Any, xray: Any, codes: Any, expires: Any
) -> dict[str, Any]:
    return {
        "date_of_service": service,
        "date_of_birth": born,
        "last_ct": ct,
        "xray_date": xray,
        "diagnosis_codes": codes,
        "authorization_expires": expires,
    }


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    service=st.one_of(dates, near),
    born=some_date,
    ct=some_date,
    xray=some_date,
    codes=claim_codes,
    expires=some_date,
)
def test_the_claim_table_decides_as_explain_and_the_interpreter(
    claims: tuple[Project, types.ModuleType],
    service: dt.date,
    born: dt.date | None,
    ct: dt.date | None,
    xray: dt.date | None,
    codes: list[str] | None,
    expires: dt.date | None,
) -> None:
    project, module = claims
    inputs = _claim(service, born, ct, xray, codes, expires)
    found = module.evaluate(**inputs)
    assert module.explain(**inputs).result == found
    outputs, matched = interpret.evaluate(project, module.TABLE, inputs)
    assert tuple(matched) == found.matched
    assert outputs == found.outputs._asdict()


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    at=st.integers(min_value=0, max_value=5),
    wrong=st.one_of(wrong_date, st.none()),
    service=near,
)
def test_a_wrong_value_is_an_input_error_as_in_explain(
    claims: tuple[Project, types.ModuleType], at: int, wrong: Any, service: dt.date
) -> None:
    _, module = claims
    values: list[Any] = [service, service, service, service, ["M54.5"], service]
    values[at] = ["M54.5", wrong] if at == 4 else wrong
    inputs = _claim(*values)
    found = _outcome(module.evaluate, inputs, module.InputError)
    assert found == _outcome(module.explain, inputs, module.InputError)


YEARS = "years and months duration(born, service).years"
DAYS = "(service - born).days"
SPANS = with_expressions(
    decision_table(
        "spans",
        [
            ("service", "input", "date", None),
            ("born", "input", "date", None),
            ("span", "computed", "duration", None),
            ("kind", "output", "string", None),
            ("years", "computed output", "integer", None),
            ("days", "computed output", "integer", None),
        ],
        [
            ("R1", "-", "-", "< 0 days", "before", YEARS, DAYS),
            ("R2", "-", "-", "-", "after", YEARS, DAYS),
        ],
        hit_policy="FIRST",
    ),
    {3: "service - born"},
)
SPAN_BOOKS = {"spans.xlsx": {"Spans": SPANS}}


@pytest.fixture(scope="module")
def spans(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Project, types.ModuleType]:
    root = tmp_path_factory.mktemp("spans")
    project, diagnostics = load_books(root / "load", SPAN_BOOKS)
    assert project is not None and not errors(diagnostics), diagnostics
    return project, compiled_module(compile_books(root / "c", SPAN_BOOKS), "spans")


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(service=st.one_of(some_date, wrong_date), born=st.one_of(some_date, wrong_date))
def test_the_inline_age_duration_and_days_equal_the_reference(
    spans: tuple[Project, types.ModuleType], service: Any, born: Any
) -> None:
    """`.years`, `a - b` and `.days` of two dates, inline in `evaluate`, against
    `explain` (their reference functions) and the interpreter, on any values."""
    project, module = spans
    inputs = {"service": service, "born": born}
    found = _outcome(module.evaluate, inputs)
    assert found == _outcome(module.explain, inputs)
    if type(service) is dt.date and type(born) is dt.date:
        outputs, matched = interpret.evaluate(project, "spans", inputs)
        assert outputs == found.outputs._asdict() and tuple(matched) == found.matched
        assert found.outputs.days == (service - born).days


def test_the_spans_take_the_inline_forms(
    spans: tuple[Project, types.ModuleType],
) -> None:
    names = spans[1].evaluate.__code__.co_names
    assert {"year", "toordinal", "_NEW"} <= set(names)


WINDOW = decision_table(
    "xray_window",
    [
        ("date_of_service", "input", "date", None),
        ("xray_date", "input", "date", None),
        ("recent", "output", "string", None),
    ],
    [
        ("R1", "-", "[date_of_service - 2 weeks..date_of_service]", "recent"),
        ("R2", "-", "> date_of_service + 3 days", "after"),
        ("R3", "-", "null", "none"),
    ],
    hit_policy="FIRST",
    metadata={"Complete": "no"},  # partial on purpose: the gaps are real
)
WINDOW_BOOKS = {"window.xlsx": {"Window": WINDOW}}
extreme = st.one_of(
    dates,
    st.sampled_from(
        [dt.date.min + dt.timedelta(days=d) for d in range(20)]
        + [dt.date.max - dt.timedelta(days=d) for d in range(6)]
    ),
)


@pytest.fixture(scope="module")
def window(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Project, types.ModuleType]:
    root = tmp_path_factory.mktemp("window")
    project, diagnostics = load_books(root / "load", WINDOW_BOOKS)
    assert project is not None and not errors(diagnostics), diagnostics
    return project, compiled_module(
        compile_books(root / "c", WINDOW_BOOKS), "xray_window"
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    service=st.one_of(extreme, wrong_date),
    xray=st.one_of(st.none(), extreme, near, wrong_date),
)
def test_the_inline_shifted_comparison_equals_the_reference(
    window: tuple[Project, types.ModuleType], service: Any, xray: Any
) -> None:
    """An entry naming a date input shifted by days, inline (ordinals, within the
    dates' range), against `explain` (`feel.sub` and `feel.sign`), also at the ends
    of the dates' range, where the shifted date does not exist (null)."""
    project, module = window
    assert "toordinal" in module.evaluate.__code__.co_names  # the inline form
    inputs = {"date_of_service": service, "xray_date": xray}
    found = _outcome(module.evaluate, inputs)
    assert found == _outcome(module.explain, inputs)
    if type(service) is dt.date and (xray is None or type(xray) is dt.date):
        _, matched = interpret.evaluate(project, "xray_window", inputs)
        assert tuple(matched) == found.matched


def test_a_folded_list_without_a_tree_is_one_mask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a decision tree (too many entries), a folded list is one AND term:
    `_<LIST>_FOLD_MASKS`, by the bits some element passes."""
    from compiler.emitting import strategy

    monkeypatch.setattr(strategy, "TREE_ENTRIES", 0)
    module = compiled_module(compile_books(tmp_path, BOOKS), "folded_codes")
    assert "_TREE" not in vars(module)
    assert "_CODES_FOLD_MASKS" in module.evaluate.__code__.co_names
    for items in (None, [], ["M54.5"], ["Z00", "A15"], ["M51.16", "A100"], ["A1"]):
        assert module.evaluate(codes=items) == module.explain(codes=items).result
    with pytest.raises(module.InputError, match="codes"):
        module.evaluate(codes=["M54.5", 7])
