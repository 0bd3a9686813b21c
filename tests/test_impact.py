"""`compile-rules impact`: a shipped table changed (the pediatric age limit of
imaging_guideline_set, which imaging_guideline_document requires, from 18 to 16),
decided over claims by both versions: exactly the rows two `run`s decide
differently, with both answers and counts per (old rule, new rule); from --old DIR
and from --git REV; errors of either version; usage errors."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
TABLE = "imaging_guideline_document"
KEYS = ["claim", "age_years", "condition_in_pediatric_guidelines", "body_area"]


def change_the_age_limit(tables: Path) -> None:
    """imaging_guideline_set's rules say < 16 and >= 16 where they said 18 (its
    Tests sheet, written for 18, is dropped)."""
    path = tables / "imaging_preface.xlsx"
    book = openpyxl.load_workbook(path)
    for row in book["Guideline set"].iter_rows():
        for cell in row:
            if cell.value in ("< 18", ">= 18"):
                cell.value = str(cell.value).replace("18", "16")
    book.remove(book["Guideline set tests"])
    book.save(path)


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("impact")
    old, new = root / "old", root / "new"
    shutil.copytree(ROOT / "tables", old)
    shutil.copytree(ROOT / "tables", new)
    change_the_age_limit(new)
    return old, new


def claims(path: Path, rows: int = 4000) -> Path:
    areas = ["Head", "Breast", "Chest", "Spine", "Hed"]  # Hed: outside the Values
    pq.write_table(
        pa.table(
            {
                "claim": [f"C{i:05d}" for i in range(rows)],
                "age_years": [None if i % 97 == 0 else i % 25 for i in range(rows)],
                "condition_in_pediatric_guidelines": [i % 3 != 0 for i in range(rows)],
                "body_area": [areas[i % 5] if i % 11 else "Head" for i in range(rows)],
            }
        ),
        path,
    )
    return path


def invoke(*args: str, code: int) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


def decided_by(tables: Path, source: Path, target: Path) -> dict[str, Any]:
    """`run` of the table with TABLES over SOURCE: each claim's outputs and rule."""
    invoke(
        "run",
        "--tables",
        str(tables),
        TABLE,
        "--input",
        str(source),
        "--output",
        str(target),
        code=4,
    )
    return {r["claim"]: r for r in pq.read_table(target).to_pylist()}


def test_impact_lists_exactly_the_rows_two_runs_decide_differently(
    sides: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = sides
    source = claims(tmp_path / "claims.parquet")
    before = decided_by(old, source, tmp_path / "old.parquet")
    after = decided_by(new, source, tmp_path / "new.parquet")
    assert before.keys() == after.keys()  # both reject the same rows (Hed)
    answer = ("guideline_document", "matched")
    expected = {
        c: (before[c], after[c])
        for c in before
        if tuple(before[c][k] for k in answer) != tuple(after[c][k] for k in answer)
    }
    assert expected  # the change matters: 16- and 17-year-olds
    target = tmp_path / "changed.parquet"
    result = invoke(
        "impact",
        "--tables",
        str(new),
        TABLE,
        "--old",
        str(old),
        "--input",
        str(source),
        "--output",
        str(target),
        code=1,
    )
    changed = {r["claim"]: r for r in pq.read_table(target).to_pylist()}
    assert changed.keys() == expected.keys()
    for claim, (was, now) in expected.items():
        row = changed[claim]
        assert {k: row[k] for k in KEYS} == {k: now[k] for k in KEYS}
        assert row["old_guideline_document"] == was["guideline_document"]
        assert row["new_guideline_document"] == now["guideline_document"]
        assert (row["old_matched"], row["new_matched"]) == (
            was["matched"],
            now["matched"],
        )
    pairs = Counter((w["matched"], n["matched"]) for w, n in expected.values())
    for (was_rule, now_rule), count in pairs.items():
        assert f"{was_rule} -> {now_rule}: {count:,}\n" in result.stdout
    rows = pq.read_metadata(source).num_rows
    assert (
        f"{rows:,} row(s) read, {len(before):,} decided by both versions, "
        f"{len(expected):,} of them differently" in result.stderr
    )
    errors = (tmp_path / "changed.errors.csv").read_text()
    assert errors == (tmp_path / "new.errors.csv").read_text()  # the same rejections


def test_impact_against_a_git_revision_as_csv(
    sides: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = sides
    repository = tmp_path / "repo"
    shutil.copytree(old, repository / "tables")
    git = ["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "tables"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "old"], check=True)
    shutil.copy2(new / "imaging_preface.xlsx", repository / "tables")
    monkeypatch.chdir(repository)
    source = claims(tmp_path / "claims.parquet")
    by_folder = tmp_path / "by-folder.csv"
    invoke(
        *("impact", "--tables", str(new), TABLE, "--old", str(old)),
        *("--input", str(source), "--output", str(by_folder)),
        code=1,
    )
    by_git = tmp_path / "by-git.csv"
    invoke(
        *("impact", "--tables", "tables", TABLE, "--git", "HEAD"),
        *("--input", str(source), "--output", str(by_git)),
        code=1,
    )
    assert by_git.read_text() == by_folder.read_text()
    assert by_git.read_text().startswith(
        '"claim","age_years","condition_in_pediatric_guidelines","body_area",'
        '"old_guideline_document","old_matched","new_guideline_document",'
        '"new_matched"\n'
    )
    same = tmp_path / "same.csv"  # a version against itself: nothing changed
    invoke(
        *("impact", "--tables", str(old), TABLE, "--old", str(old)),
        *("--input", str(source), "--output", str(same)),
        code=4,  # nothing changed; the rows outside the Values were rejected
    )
    assert same.read_text().count("\n") == 1  # the header only


def test_impact_usage_errors(sides: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = sides
    source = claims(tmp_path / "c.parquet", rows=10)
    base = ["impact", "--tables", str(new), TABLE, "--input", str(source)]
    target = ["--output", str(tmp_path / "o.parquet")]
    result = invoke(*base, *target, code=2)
    assert "give the old tables: --git REV or --old DIR" in result.output
    result = invoke(*base, *target, "--old", str(old), "--git", "HEAD", code=2)
    assert "give the old tables: --git REV or --old DIR" in result.output
    result = invoke(*base, *target, "--git", "no-such-revision", code=2)
    assert "no-such-revision" in result.output
    clash = tmp_path / "clash.csv"
    clash.write_text("age_years,old_matched\n12,R1\n")
    result = invoke(*base[:-1], str(clash), *target, "--old", str(old), code=2)
    assert "already has a column 'old_matched', which impact writes" in result.output


def same_impact_on(engine: list[str], tmp_path: Path) -> None:
    """impact with ENGINE's options writes the pandas engine's rows and errors."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(ROOT / "tables", old)
    shutil.copytree(ROOT / "tables", new)
    change_the_age_limit(new)
    source = claims(tmp_path / "claims.parquet")
    outputs = []
    for name, options in (("local", []), ("engine", engine)):
        outputs.append(tmp_path / f"{name}.parquet")
        invoke(
            *("impact", "--tables", str(new), TABLE, "--old", str(old)),
            *("--input", str(source), "--output", str(outputs[-1]), *options),
            code=1,
        )
    local, other = outputs
    assert other.is_dir() and pq.read_table(other).equals(pq.read_table(local))
    assert (tmp_path / "engine.errors.csv").read_text() == (
        tmp_path / "local.errors.csv"
    ).read_text()
