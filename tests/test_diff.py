"""`compile-rules diff` (rule changes and the inputs whose decision changed) and
`compile-rules show` (a workbook as text, for git's textconv)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.authoring.diff import (
    Side,
    decision_regions,
    diff_projects,
    load_side,
    representative_values,
)
from compiler.cli import main
from compiler.diagnostics import Location
from compiler.model import Column, ColumnKind, DataType
from compiler.pipeline import load_tables

from .workbooks import decision_table, tests_sheet, write_workbook

ROOT = Path(__file__).resolve().parents[1]
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is missing")


def band(
    limit: int = 18,
    *,
    extra: list[tuple[object, ...]] | None = None,
    note: str = "",
    policy: str = "FIRST",
) -> list[list[object]]:
    rules: list[tuple[object, ...]] = [
        ("R1", f"< {limit}", "-", "child", note),
        ("R2", f">= {limit}", "CT", "adult CT", ""),
        ("R3", "-", "-", "adult", ""),
        *(extra or []),
    ]
    return decision_table(
        "age_band",
        hit_policy=policy,
        columns=[
            ("age", "input", "integer", "[0..130]"),
            ("modality", "input", "string", '"CT", "MRI"'),
            ("band", "output", "string", None),
            ("Note", "annotation", None, None),
        ],
        rules=rules,
    )


def book(path: Path, sheet: list[list[object]]) -> Path:
    tests = tests_sheet("age_band", [("age", "input"), ("band", "expected")], [])
    return write_workbook(path, {"Band": sheet, "Band tests": tests})


def side(tmp_path: Path, name: str, sheet: list[list[object]]) -> Side:
    folder = tmp_path / name / "tables"
    book(folder / "b.xlsx", sheet)
    project, diagnostics = load_tables(folder)
    return Side(name, project, diagnostics)


def test_threshold_change_gives_one_region_with_an_example(tmp_path: Path) -> None:
    result = diff_projects(
        side(tmp_path, "old", band(18)), side(tmp_path, "new", band(16))
    )
    assert not result.added and not result.removed
    [table] = result.tables
    assert table.name == "age_band"
    assert table.changes == (
        "rule R1 changed: age: < 18 → < 16",
        "rule R2 changed: age: >= 18 → >= 16",
    )
    conditions = {r.conditions: r for r in table.regions}
    assert set(conditions) == {
        (("age", "in 16, 17"), ("modality", '= "CT"')),
        (("age", "in 16, 17"), ("modality", 'in null, "MRI"')),
    }
    region = conditions[(("age", "in 16, 17"), ("modality", '= "CT"'))]
    assert region.old.startswith('band = "child"') and "(R1)" in region.old
    assert region.new.startswith('band = "adult CT"') and "(R2)" in region.new
    assert dict(region.example) == {"age": 16, "modality": "CT"}
    text = result.format()
    assert "e.g. compile-rules eval age_band age=16 modality=CT" in text


def test_structural_changes(tmp_path: Path) -> None:
    old = side(tmp_path, "old", band(18))
    moved = band(18, extra=[("R4", "> 120", "MRI", "very old", "new")])
    moved[7], moved[8] = moved[8], moved[7]  # R2 before R1
    new = side(tmp_path, "new", moved)
    [table] = diff_projects(old, new).tables
    assert 'rule R4 added: age = > 120, modality = "MRI", band = "very old"' in (
        table.changes
    )
    assert "rule order changed: R2, R1, R3" in table.changes
    assert not table.regions  # R4 comes after the catch-all R3; R1/R2 do not overlap


def test_note_only_change_decides_nothing_differently(tmp_path: Path) -> None:
    result = diff_projects(
        side(tmp_path, "old", band(18)), side(tmp_path, "new", band(18, note="why"))
    )
    [table] = result.tables
    assert table.changes == ("rule R1 changed: Note: (empty) → why",)
    assert table.points == 0 and not table.regions
    assert "decisions: no input decides differently" in result.format()


def test_a_long_note_edited_in_the_middle_shows_the_edit(tmp_path: Path) -> None:
    start, end = "Preface-3: " + "a long citation " * 6, " and so on" * 5
    result = diff_projects(
        side(tmp_path, "old", band(18, note=start + "Reading: one way" + end)),
        side(tmp_path, "new", band(18, note=start + "inferred: another" + end)),
    )
    [change] = result.tables[0].changes
    before, after = change.removeprefix("rule R1 changed: Note: ").split(" → ")
    assert "Reading: one way" in before and "inferred: another" in after
    assert before.startswith("…") and len(before) <= 80 and len(after) <= 80


def test_identical_sides(tmp_path: Path) -> None:
    result = diff_projects(side(tmp_path, "old", band()), side(tmp_path, "new", band()))
    assert result.empty
    assert "no differences in the tables" in result.format()


def test_tables_added_and_removed(tmp_path: Path) -> None:
    other = decision_table(
        "flag",
        columns=[("a", "input", "boolean", None), ("b", "output", "boolean", None)],
        rules=[("R1", "-", True)],
    )
    old_folder = tmp_path / "old" / "tables"
    book(old_folder / "b.xlsx", band())
    write_workbook(old_folder / "f.xlsx", [other])
    new_folder = tmp_path / "new" / "tables"
    write_workbook(new_folder / "f.xlsx", [other])
    result = diff_projects(load_side(str(old_folder)), load_side(str(new_folder)))
    assert result.removed == ("age_band",) and not result.added


def test_chained_and_versioned_tables(tmp_path: Path) -> None:
    def lab(policy_2026: str) -> dict[str, list[list[object]]]:
        columns = [
            ("test", "input", "string", None),
            ("policy", "output", "string", None),
        ]
        return {
            "Old": decision_table(
                "lab",
                columns=columns,
                rules=[("R1", "-", "v1")],
                metadata={"Effective to": dt.date(2025, 12, 31)},
            ),
            "New": decision_table(
                "lab",
                columns=columns,
                rules=[("R1", "-", policy_2026)],
                metadata={"Effective from": dt.date(2026, 1, 1)},
            ),
            "Use": decision_table(
                "route",
                columns=[
                    ("policy", "from lab", "string", None),
                    ("ok", "output", "boolean", None),
                ],
                rules=[("R1", '"v2"', True), ("R2", "-", False)],
                hit_policy="FIRST",
            ),
        }

    before = tmp_path / "a" / "tables"
    after = tmp_path / "b" / "tables"
    write_workbook(before / "l.xlsx", lab("v2"))
    write_workbook(after / "l.xlsx", lab("v3"))
    result = diff_projects(load_side(str(before)), load_side(str(after)))
    by_name = {t.name: t for t in result.tables}
    assert by_name["lab"].changes == (
        'version 2026-01-01 to …: rule R1 changed: policy: "v2" → "v3"',
    )
    [region] = by_name["lab"].regions
    assert dict(region.conditions)["as_of"] == ">= 2026-01-01"
    assert by_name["route"].changes == (
        "(no change in this table; it requires lab, which changed)",
    )
    [region] = by_name["route"].regions
    assert "ok = true" in region.old and "ok = false" in region.new
    assert "--as-of 2026-01-01" in result.format()


def test_representative_values_cover_both_sides_of_each_edge() -> None:
    column = Column(
        "age",
        ColumnKind.INPUT,
        DataType.INTEGER,
        Location("t"),
        values=None,
    )
    from compiler.model import HitPolicy, Rule, Table
    from compiler.reading.cells import parse_unary_tests

    rules = tuple(
        Rule(
            f"R{i}",
            (parse_unary_tests(t, DataType.INTEGER),),
            ("x",),
            (),
            Location("t"),
            (),
            (),
        )
        for i, t in enumerate(["< 18", "[18..64]", "> 64"])
    )
    table = Table("t", HitPolicy.FIRST, None, (column,), (), (), rules, Location("t"))
    assert representative_values(column, [table]) == [None, 17, 18, 19, 63, 64, 65]


def test_large_grids_are_sampled(tmp_path: Path) -> None:
    old = side(tmp_path, "old", band(18))
    new = side(tmp_path, "new", band(16))
    assert old.project is not None and new.project is not None
    regions, points, total = decision_regions(
        old.project, new.project, "age_band", max_points=5
    )
    assert points <= 5 < total


# -- the command ----------------------------------------------------------------------


def test_cli_diff_workbooks_and_exit_codes(tmp_path: Path) -> None:
    old = book(tmp_path / "old.xlsx", band(18))
    new = book(tmp_path / "new.xlsx", band(16))
    runner = CliRunner()
    changed = runner.invoke(main, ["diff", str(old), str(new)])
    assert changed.exit_code == 1, changed.output
    assert changed.stdout.startswith(f"--- {old}\n+++ {new}\n")
    assert "table age_band changed:" in changed.stdout
    same = runner.invoke(main, ["diff", str(old), str(old)])
    assert same.exit_code == 0 and "no differences" in same.stdout
    usage = runner.invoke(main, ["diff", str(old)])
    assert usage.exit_code == 2
    missing = runner.invoke(main, ["diff", str(old), str(tmp_path / "nope.xlsx")])
    assert missing.exit_code == 2


def test_cli_diff_refuses_invalid_tables(tmp_path: Path) -> None:
    old = book(tmp_path / "old.xlsx", band(18))
    broken = band(18)
    broken[8][1] = "<< 3"
    new = book(tmp_path / "new.xlsx", broken)
    result = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert result.exit_code == 3
    assert "the tables have errors" in result.stderr


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@needs_git
def test_cli_diff_git_revisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "policies"
    (repo / "tables").mkdir(parents=True)
    _git(repo, "init", "-q")
    book(repo / "tables" / "b.xlsx", band(18))
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    book(repo / "tables" / "b.xlsx", band(16))
    monkeypatch.chdir(repo)
    runner = CliRunner()
    worktree = runner.invoke(main, ["diff", "--git", "HEAD"])
    assert worktree.exit_code == 1, worktree.output
    assert worktree.stdout.startswith("--- HEAD:tables\n+++ tables\n")
    assert "rule R1 changed: age: < 18 → < 16" in worktree.stdout
    _git(repo, "commit", "-q", "-am", "two")
    revisions = runner.invoke(main, ["diff", "--git", "HEAD~1", "--git", "HEAD"])
    assert revisions.exit_code == 1 and "< 18 → < 16" in revisions.stdout
    spec = runner.invoke(main, ["diff", "HEAD~1:tables/b.xlsx", "tables/b.xlsx"])
    assert spec.exit_code == 1 and "< 18 → < 16" in spec.stdout
    monkeypatch.chdir(repo / "tables")  # REV:path is relative to the working directory
    inside = runner.invoke(main, ["diff", "HEAD~1:b.xlsx", "HEAD:b.xlsx"])
    assert inside.exit_code == 1, inside.output
    bad = runner.invoke(main, ["diff", "--git", "nosuchrev"])
    assert bad.exit_code == 2
    assert "'nosuchrev' is not a commit of this repository" in bad.output
    assert "fatal" not in bad.output  # no raw git output
    absent = runner.invoke(main, ["diff", "HEAD:nosuchfolder", "HEAD:b.xlsx"])
    assert absent.exit_code == 2
    assert "no .xlsx workbook under 'nosuchfolder' at revision 'HEAD'" in absent.output


@needs_git
def test_cli_diff_git_outside_a_repository_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tables").mkdir()
    book(tmp_path / "tables" / "b.xlsx", band(18))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = CliRunner().invoke(main, ["diff", "--git", "HEAD"])
    assert result.exit_code == 2
    assert "is not inside a git repository" in result.output
    assert "fatal" not in result.output


# -- show and git textconv --------------------------------------------------------------


def test_show_prints_every_sheet(tmp_path: Path) -> None:
    path = book(tmp_path / "b.xlsx", band(18, note="line one\nline | two"))
    result = CliRunner().invoke(main, ["show", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "== Band =="
    assert "R1 | < 18 | - | child | line one\\nline \\| two" in lines
    assert "== Band tests ==" in lines
    broken = tmp_path / "x.xlsx"
    broken.write_bytes(b"nope")
    failed = CliRunner().invoke(main, ["show", str(broken)])
    assert failed.exit_code == 3


@needs_git
def test_git_diff_shows_workbooks_as_text(tmp_path: Path) -> None:
    """The README's textconv set-up, in a scratch repository."""
    repo = tmp_path / "policies"
    (repo / "tables").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / ".gitattributes").write_text("*.xlsx diff=xlsx\n")
    command = f"{Path(sys.executable).as_posix()} -m compiler show"
    _git(repo, "config", "diff.xlsx.textconv", command)
    _git(repo, "config", "diff.xlsx.cachetextconv", "true")
    book(repo / "tables" / "b.xlsx", band(18))
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    book(repo / "tables" / "b.xlsx", band(16))
    shown = _git(repo, "diff", "--", "tables/b.xlsx")
    assert "-R1 | < 18 | - | child" in shown
    assert "+R1 | < 16 | - | child" in shown
    assert "Binary files" not in shown


def test_shipped_tables_against_themselves() -> None:
    result = CliRunner().invoke(
        main, ["diff", str(ROOT / "tables"), str(ROOT / "tables")]
    )
    assert result.exit_code == 0, result.output


def test_a_change_to_a_shipped_table(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    new = tmp_path / "new" / "tables"
    shutil.copytree(ROOT / "tables", new)
    path = new / "imaging_preface.xlsx"
    book = load_workbook(path)
    sheet = book["Guideline set"]
    sheet["B10"], sheet["B11"], sheet["B12"] = "< 16", "< 16", ">= 16"
    book.save(path)
    result = diff_projects(load_side(str(ROOT / "tables")), load_side(str(new)))
    by_name = {t.name: t for t in result.tables}
    # the tables fed by it change too: the guideline document, and through it
    # whether the document requires a current-episode x-ray
    assert set(by_name) == {
        "imaging_guideline_set",
        "imaging_guideline_document",
        "current_episode_xray_requirement",
    }
    regions = by_name["imaging_guideline_set"].regions
    # both inputs are required: no region where one is missing
    assert [dict(r.conditions) for r in regions] == [
        {"age_years": "in 16, 17", "condition_in_pediatric_guidelines": "= true"},
    ]
    assert '"Pediatric"' in regions[0].old and '"General"' in regions[0].new


def test_equality_edits_are_found(tmp_path: Path) -> None:
    def table(value: int) -> list[list[object]]:
        return decision_table(
            "t",
            hit_policy="FIRST",
            columns=[("n", "input", "integer", None), ("r", "output", "string", None)],
            rules=[("R1", value, "a"), ("R2", "-", "b")],
        )

    old = tmp_path / "old" / "tables"
    new = tmp_path / "new" / "tables"
    write_workbook(old / "t.xlsx", [table(18)])
    write_workbook(new / "t.xlsx", [table(19)])
    [diff] = diff_projects(load_side(str(old)), load_side(str(new))).tables
    found = {
        (dict(r.conditions)["n"], r.old.split()[2], r.new.split()[2])
        for r in diff.regions
    }
    assert found == {("= 18", '"a"', '"b"'), ("= 19", '"b"', '"a"')}
