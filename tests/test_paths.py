"""Version 2: path inputs, a column whose header is a path into a structured input
(`claim.member.age`); `evaluate` takes the structured input as a mapping."""

from __future__ import annotations

from pathlib import Path

import pandas
import pytest

from .helpers import compile_books, errors, evaluator, only
from .workbooks import decision_table


def _book(*columns: tuple[str, str, str, None], rules: list[list[object]]) -> dict:
    sheet = decision_table("band", list(columns), rules, hit_policy="FIRST")
    return {"band.xlsx": [sheet]}


BOOK = _book(
    ("claim.member.age", "input", "integer", None),
    ("claim.state", "input", "string", None),
    ("kind", "computed", "string", None),
    ("band", "output", "string", None),
    rules=[
        [
            "Expression",
            None,
            None,
            'if claim.member.age < 18 then "child" else "adult"',
            None,
        ],
        ["R1", "< 18", '"NY"', "-", '"minor in NY"'],
        ["R2", "-", "-", '"adult"', '"adult"'],
        ["R3", "-", "-", "-", '"other"'],
    ],
)


def test_evaluate_reads_the_paths_of_a_mapping(tmp_path: Path) -> None:
    module = evaluator(tmp_path, BOOK, "band")
    claim = {"member": {"age": 12}, "state": "NY"}
    assert module.evaluate(claim=claim).outputs.band == "minor in NY"
    assert module.evaluate(claim={"member": {"age": 40}}).outputs.band == "adult"
    # a missing field, or None along the way, is null (FEEL's paths): R1 does not
    # match, and the computed kind is "adult" (FEEL's `if` takes else on null)
    assert module.evaluate(claim={"member": None}).outputs.band == "adult"
    assert module.evaluate(claim={}).outputs.band == "adult"
    assert module.evaluate().outputs.band == "adult"
    assert module.explain(claim=claim).result.outputs.band == "minor in NY"


def test_a_leaf_or_a_step_of_the_wrong_type_is_an_input_error(tmp_path: Path) -> None:
    module = evaluator(tmp_path, BOOK, "band")
    with pytest.raises(module.InputError, match="claim__member__age='12'"):
        module.evaluate(claim={"member": {"age": "12"}})
    with pytest.raises(module.InputError, match="claim.member=3"):
        module.evaluate(claim={"member": 3})


def test_evaluate_frame_takes_a_column_per_path(tmp_path: Path) -> None:
    module = evaluator(tmp_path, BOOK, "band")
    frame = pandas.DataFrame(
        {
            "claim.member.age": pandas.Series([12, 40, None], dtype=object),
            "claim.state": ["NY", "CA", None],
        }
    )
    assert list(module.evaluate_frame(frame)["band"]) == [
        "minor in NY",
        "adult",
        "adult",
    ]


def test_a_path_names_an_input_column_of_identifiers(tmp_path: Path) -> None:
    book = _book(
        ("claim.Member", "input", "integer", None),
        ("claim.x", "output", "string", None),
        rules=[["R1", "-", '"a"']],
    )
    found = errors(compile_books(tmp_path, book).diagnostics)
    assert {d.code for d in found} == {"E111"}
    assert len(found) == 2
    clash = _book(
        ("claim", "input", "integer", None),
        ("claim.age", "input", "integer", None),
        ("band", "output", "string", None),
        rules=[["R1", "-", "-", '"a"']],
    )
    found = only(compile_books(tmp_path / "2", clash).diagnostics, "E111")
    assert "also the structured input" in (found.hint or "")


def test_an_annotation_header_with_dots_stays_free_text(tmp_path: Path) -> None:
    """Annotation headers are any text (version 1): a dot there is no path."""
    book = _book(
        ("age", "input", "integer", None),
        ("band", "output", "string", None),
        ("See p. 12 (note).", "annotation", "string", None),
        rules=[["R1", "-", '"a"', "why"]],
    )
    assert not errors(compile_books(tmp_path, book).diagnostics)
