"""The pre-commit hook works from a fresh repository that uses it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workbooks import decision_table, write_workbook

ROOT = Path(__file__).resolve().parents[1]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_hook_passes_when_current_and_fails_on_drift(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    if not (ROOT / ".git").exists():
        pytest.skip("the project is not a git checkout")
    rev = _git(ROOT, "rev-parse", "HEAD")
    repo = tmp_path / "policies"
    repo.mkdir()
    _git(repo, "init", "-q")
    table = decision_table(
        "band",
        hit_policy="FIRST",
        columns=[("age", "input", "integer", None), ("band", "output", "string", None)],
        rules=[("R1", "< 18", "child"), ("R2", "-", "adult")],
    )
    write_workbook(repo / "tables" / "band.xlsx", {"Band": table})
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {rev}\n    hooks:\n"
        "      - id: compile-rules-check\n",
        encoding="utf-8",
    )
    compiled = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", "-q"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stderr
    _git(repo, "add", "-A")
    run = [sys.executable, "-m", "pre_commit", "run", "--all-files"]
    current = subprocess.run(run, cwd=repo, capture_output=True, text=True, check=False)
    assert current.returncode == 0, current.stdout + current.stderr
    assert "Passed" in current.stdout

    with (repo / "generated" / "band.py").open("a", encoding="utf-8") as handle:
        handle.write("# hand edit\n")
    _git(repo, "add", "-A")
    drift = subprocess.run(run, cwd=repo, capture_output=True, text=True, check=False)
    assert drift.returncode == 1
    assert "generated/band.py: error E502: stale" in drift.stdout
