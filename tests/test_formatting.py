"""Formatting large sources in pieces (`emitting.formatting`) gives the bytes of
formatting them whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.checking import analyse
from compiler.emitting import codegen, formatting
from compiler.pipeline import load_tables

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped() -> tuple[object, object]:
    project, _ = load_tables(ROOT / "tables")
    assert project is not None
    return project, analyse.examples(project)


def test_sources_cut_every_two_items_format_as_whole(
    shipped: tuple[object, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, examples = shipped
    whole = codegen.generate(project, examples=examples)  # type: ignore[arg-type]
    monkeypatch.setattr(formatting, "EVERY", 2)  # the tables and the test modules
    rendered = codegen.render_package(project, examples)  # type: ignore[arg-type]
    cut = [name for name, text in rendered.items() if formatting.SPLIT in text]
    # rules, hits and _EXPLAIN of each table, and the cases of each test module
    assert "lab_policy_for_test.py" in cut
    assert "tests/examples/test_lab_policy_for_test.py" in cut
    runs: list[list[str]] = []
    run_ruff = formatting._run_ruff

    def spy(root: Path) -> None:
        runs.append(sorted(p.name for p in root.rglob("*.piece*.py")))
        run_ruff(root)

    monkeypatch.setattr(formatting, "_run_ruff", spy)
    assert codegen.generate(project, examples=examples) == whole  # type: ignore[arg-type]
    assert len(runs) == 1 and len(runs[0]) > 100  # in pieces, none formatted again


def test_unformatted_sources_have_no_split_lines(
    shipped: tuple[object, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, examples = shipped
    monkeypatch.setattr(formatting, "EVERY", 2)  # the tables and the test modules
    files = codegen.generate(project, formatted=False, examples=examples)  # type: ignore[arg-type]
    assert not [name for name, text in files.items() if formatting.SPLIT in text]
    monkeypatch.setattr(formatting, "EVERY", 10**9)
    assert files == codegen.generate(project, formatted=False, examples=examples)  # type: ignore[arg-type]


def test_a_piece_ruff_formats_otherwise_is_refused() -> None:
    piece = formatting._Piece("_ = [\n    1,\n]\n", 1, 1)
    assert piece.formatted("_ = [\n    1,\n]\n", "[", "[") == "    1,\n"
    assert piece.formatted("_ = [1]\n", "[", "[") is None
