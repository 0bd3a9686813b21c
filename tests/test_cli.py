"""The `compile-rules` command: compile, check, eval, explain; their output and exit codes
(0 ok, 1 drift, 2 usage, 3 invalid tables), and no traceback for any user error.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from compiler.cli import main

from .helpers import write_tables
from .workbooks import Row, decision_table, write_workbook


def table(
    name: str, policy: str, columns: list[Any], rules: list[Any], **kwargs: Any
) -> list[Row]:
    return decision_table(name, columns, rules, hit_policy=policy, **kwargs)


AGE = ("age", "input", "integer", "[0..130]")

BOOK: dict[str, list[Row]] = {
    "Bands": table(
        "age_band",
        "FIRST",
        [AGE, ("band", "output", "string", None), ("since", "output", "date", None)],
        [("R1", "< 18", "child", "2025-01-01"), ("R2", "[18..64]", "adult", "null")],
        defaults={"band": "other"},
    ),
    "Flags": table(
        "flags",
        "COLLECT",
        [
            AGE,
            ("modality", "input", "string", "CT, MRI"),
            ("flag", "output", "string", None),
        ],
        [("R1", "< 18", "-", "minor"), ("R2", "-", "CT", "radiation")],
    ),
    "Count": table(
        "flag_count",
        "C#",
        [AGE, ("n", "output", "integer", None)],
        [("R1", "< 18", 1), ("R2", "< 65", 1)],
    ),
    "Order": table(
        "ordered",
        "OUTPUT ORDER",
        [AGE, ("level", "output", "string", "high, low")],
        [("R1", "-", "low"), ("R2", "< 18", "high")],
    ),
    "Rules": table(
        "rule_order",
        "R",
        [AGE, ("level", "output", "string", None)],
        [("R1", "-", "any"), ("R2", "< 18", "minor")],
    ),
    "2025": table(
        "coverage",
        "FIRST",
        [AGE, ("covered", "output", "boolean", None)],
        [("R1", "-", False)],
        metadata={"Effective from": "2025-01-01", "Effective to": "2025-12-31"},
    ),
    "2026": table(
        "coverage",
        "FIRST",
        [AGE, ("covered", "output", "boolean", None)],
        [("R1", "-", True)],
        metadata={"Effective from": "2026-01-01"},
    ),
}


class Project:
    """A tables folder and an output folder under tmp_path, and a way to run commands."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tables = write_tables(root, {"rules.xlsx": BOOK})
        self.out = root / "generated"

    def run(self, *args: str, code: int | None = 0) -> Result:
        result = CliRunner().invoke(
            main,
            [
                *args[:1],
                "--tables",
                str(self.tables),
                "--out",
                str(self.out),
                *args[1:],
            ],
        )
        assert "Traceback" not in result.output
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if code is not None:
            assert result.exit_code == code, result.output
        return result

    def files(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.out).as_posix(): p.read_bytes()
            for p in sorted(self.out.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }

    def eval_json(self, *args: str, code: int = 0) -> Any:
        result = self.run("eval", *args, "--json", code=code)
        return json.loads(result.stdout)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


# -- compile and check -------------------------------------------------------------------


def test_compile_writes_then_is_current(project: Project) -> None:
    first = project.run("compile")
    assert "wrote" in first.stderr
    written = project.files()
    assert {"__init__.py", "_runtime.py", "age_band.py", "coverage.py"} <= set(written)
    second = project.run("compile")
    assert "already current" in second.stderr
    assert "wrote" not in second.stderr
    assert project.files() == written


def test_compile_diff_prints_and_writes_nothing(project: Project) -> None:
    result = project.run("compile", "--diff")
    assert "+++ b/age_band.py" in result.stdout
    assert "+def evaluate(" in result.stdout
    assert not project.out.exists()
    project.run("compile")
    assert project.run("compile", "--diff").stdout == ""


def test_check_is_quiet_when_current(project: Project) -> None:
    project.run("compile")
    result = project.run("check", code=0)
    assert "current" in result.stderr


def test_check_before_any_compile(project: Project) -> None:
    result = project.run("check", code=1)
    assert "missing" in result.stderr
    assert not project.out.exists()


@pytest.mark.parametrize("drift", ["edited", "missing", "new table", "orphaned"])
def test_check_reports_drift(project: Project, drift: str) -> None:
    project.run("compile")
    if drift == "edited":
        path = project.out / "age_band.py"
        path.write_text(path.read_text() + "# a hand edit\n")
        named = "age_band.py"
    elif drift == "missing":
        (project.out / "flags.py").unlink()
        named = "flags.py"
    elif drift == "new table":
        write_tables(project.root, {"more.xlsx": {"Extra": extra_table()}})
        named = "extra.py"
    else:
        source = (project.out / "flags.py").read_text()
        (project.out / "removed_table.py").write_text(source)
        named = "removed_table.py"
    before = project.files()
    result = project.run("check", code=1)
    assert named in result.stderr
    assert project.files() == before  # check never writes


def drifted(project: Project) -> None:
    """One file of each kind of drift: stale, missing and orphaned."""
    project.run("compile")
    path = project.out / "age_band.py"
    path.write_text(path.read_text() + "# a hand edit\n")
    (project.out / "flags.py").rename(project.out / "removed_table.py")


DRIFTED = {("E502", "age_band.py"), ("E501", "flags.py"), ("E503", "removed_table.py")}


def test_check_drift_is_an_error_record_in_every_format(project: Project) -> None:
    drifted(project)
    shown = {(code, (project.out / name).as_posix()) for code, name in DRIFTED}
    github = project.run("check", "--format", "github", code=1)
    found = {
        (line.split("title=")[1].split("::")[0], line.split("file=")[1].split(",")[0])
        for line in github.stdout.splitlines()
        if line.startswith("::error ")
    }
    assert found == shown, github.stdout
    as_json = project.run("check", "--format", "json", code=1)
    records = [
        json.loads(line) for line in as_json.stderr.splitlines() if line.startswith("{")
    ]
    assert {(r["code"], r["path"]) for r in records} == shown
    assert {r["severity"] for r in records} == {"error"}
    assert "stale:" not in "\n".join(
        line for line in as_json.stderr.splitlines() if not line.startswith("{")
    )
    junit = project.root / "junit.xml"
    project.run("check", "--junit", str(junit), code=1)
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "3"
    failed = {
        (f.get("type"), case.get("name"))
        for case in suite.iter("testcase")
        for f in case.iter("failure")
    }
    assert failed == shown
    text = project.run("check", code=1)
    for code, name in shown:
        assert f"{name}: error {code}" in text.stderr
    assert text.stdout == ""  # the diff only with --diff


def test_check_diff_prints_what_compile_would_change(project: Project) -> None:
    drifted(project)
    before = project.files()
    result = project.run("check", "--diff", code=1)
    assert "+++ b/age_band.py" in result.stdout and "-# a hand edit" in result.stdout
    assert "+++ b/flags.py" in result.stdout
    assert "--- a/removed_table.py" in result.stdout
    assert project.files() == before  # never writes
    project.run("compile")
    current = project.run("check", "--diff", code=0)
    assert current.stdout == ""


@pytest.mark.parametrize("command", ["compile", "check", "lint", "analyse"])
def test_infos_are_quiet_unless_verbose(project: Project, command: str) -> None:
    """A note sheet (I001) is said only with -v: not in text, not as a GitHub notice,
    not in JSON."""
    write_tables(project.root, {"notes.xlsx": {"About": [["Read me"]]}})
    project.run("compile")
    for fmt in ("text", "json", "github"):
        quiet = project.run(command, "--format", fmt)
        assert "I001" not in quiet.output and "::notice" not in quiet.stdout
        loud = project.run(command, "--format", fmt, "-v")
        assert "I001" in loud.output, (command, fmt)
    assert "::notice" in project.run(command, "--format", "github", "-v").stdout
    assert "I001" not in project.run(command, "-v", "-q").output


def extra_table() -> list[Row]:
    return table(
        "extra", "FIRST", [AGE, ("x", "output", "integer", None)], [("R1", "-", 1)]
    )


def test_compile_removes_the_outputs_of_a_removed_table(project: Project) -> None:
    write_tables(project.root, {"more.xlsx": {"Extra": extra_table()}})
    project.run("compile")
    assert (project.out / "extra.py").exists()
    (project.tables / "more.xlsx").unlink()
    result = project.run("compile")
    assert "removed" in result.stderr and "extra.py" in result.stderr
    assert not (project.out / "extra.py").exists()
    assert (project.out / "flags.py").exists()
    project.run("check", code=0)


def test_files_not_written_by_the_compiler_are_left_alone(project: Project) -> None:
    project.out.mkdir()
    (project.out / "notes.py").write_text("# my own helper\n")
    project.run("compile")
    assert (project.out / "notes.py").read_text() == "# my own helper\n"
    project.run("check", code=0)


def test_invalid_tables_exit_3_and_write_nothing(project: Project) -> None:
    bad = table(
        "broken", "FIRST", [AGE, ("x", "output", "integer", None)], [("R1", "<< 3", 1)]
    )
    write_tables(project.root, {"bad.xlsx": {"Bad": bad}})
    for command in ("compile", "check"):
        result = project.run(command, code=3)
        assert "tables/bad.xlsx:Bad!B8" in result.stderr
        assert "nothing was written" in result.stderr
    assert not project.out.exists()


@pytest.mark.parametrize(
    "content", [b"", b"just text, renamed to .xlsx\n", b"PK\x03\x04 not really a zip"]
)
def test_unreadable_workbook_exits_3(project: Project, content: bytes) -> None:
    (project.tables / "broken.xlsx").write_bytes(content)
    for command in ("compile", "check"):
        result = project.run(command, code=3)
        assert "tables/broken.xlsx" in result.stderr and "E001" in result.stderr
    assert project.run("eval", "age_band", "age=3", code=3).stdout == ""


def test_missing_tables_folder_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["compile", "--tables", str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 3
    assert "Traceback" not in result.output


# -- eval ------------------------------------------------------------------------------------


def test_eval_single_hit_json(project: Project) -> None:
    assert project.eval_json("age_band", "age=10") == {
        "outputs": {"band": "child", "since": "2025-01-01"},
        "matched": ["R1"],
    }
    assert project.eval_json("age_band", "age=30") == {
        "outputs": {"band": "adult", "since": None},
        "matched": ["R2"],
    }


def test_eval_no_match_gives_defaults(project: Project) -> None:
    assert project.eval_json("age_band", "age=80") == {
        "outputs": {"band": "other", "since": None},
        "matched": [],
    }
    assert project.eval_json("age_band") == {
        "outputs": {"band": "other", "since": None},
        "matched": [],
    }
    assert project.eval_json("flags", "age=40") == {"outputs": [], "matched": []}


def test_eval_multi_hit_json_is_a_list(project: Project) -> None:
    assert project.eval_json("flags", "age=10", "modality=CT") == {
        "outputs": [{"flag": "minor"}, {"flag": "radiation"}],
        "matched": ["R1", "R2"],
    }
    assert project.eval_json("rule_order", "age=10") == {
        "outputs": [{"level": "any"}, {"level": "minor"}],
        "matched": ["R1", "R2"],
    }
    assert project.eval_json("ordered", "age=10") == {
        "outputs": [{"level": "high"}, {"level": "low"}],
        "matched": ["R1", "R2"],
    }


def test_eval_aggregation_json_is_an_object(project: Project) -> None:
    assert project.eval_json("flag_count", "age=10") == {
        "outputs": {"n": 2},
        "matched": ["R1", "R2"],
    }


def test_eval_human_output(project: Project) -> None:
    single = project.run("eval", "age_band", "age=10").stdout
    assert single.splitlines() == [
        "band = 'child', since = '2025-01-01'",
        "matched: R1",
    ]
    multi = project.run("eval", "flags", "age=10", "modality=CT").stdout
    assert multi.splitlines() == [
        "flag = 'minor'",
        "flag = 'radiation'",
        "matched: R1, R2",
    ]
    none = project.run("eval", "flags", "age=50").stdout
    assert "matched: (none)" in none


def test_eval_as_of(project: Project) -> None:
    assert project.eval_json("coverage", "age=3", "--as-of", "2025-12-31") == {
        "outputs": {"covered": False},
        "matched": ["R1"],
    }
    assert project.eval_json("coverage", "age=3", "--as-of", "2026-01-01")[
        "outputs"
    ] == {"covered": True}
    expected = dt.date.today() >= dt.date(2026, 1, 1)
    assert project.eval_json("coverage", "age=3")["outputs"] == {"covered": expected}


def test_eval_cases_csv(project: Project) -> None:
    cases = project.root / "cases.csv"
    cases.write_text("age,modality\n10,CT\n40,\n70,MRI\n", encoding="utf-8")
    result = project.run("eval", "flags", "--cases", str(cases))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {
            "outputs": [{"flag": "minor"}, {"flag": "radiation"}],
            "matched": ["R1", "R2"],
        },
        {"outputs": [], "matched": []},
        {"outputs": [], "matched": []},
    ]


def test_eval_cases_csv_with_as_of_and_a_bad_row(project: Project) -> None:
    """A bad row is numbered and exits as `run` does: data rows from 1, exit 4."""
    cases = project.root / "cases.csv"
    cases.write_text("age,as_of\n3,2025-06-01\n3,2026-06-01\n999,2026-06-01\n")
    result = project.run("eval", "coverage", "--cases", str(cases), code=4)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("outputs") for line in lines[:2]] == [
        {"covered": False},
        {"covered": True},
    ]
    assert lines[2]["row"] == 3 and "age" in lines[2]["error"]
    assert "1 row(s) could not be evaluated" in result.stderr


def test_eval_cases_and_run_number_a_bad_row_alike(project: Project) -> None:
    cases = project.root / "cases.csv"
    cases.write_text("age,modality\n3,CT\n4,MRT\n", encoding="utf-8")
    evaluated = project.run("eval", "flags", "--cases", str(cases), code=4)
    bad = json.loads(evaluated.stdout.splitlines()[1])
    output = project.root / "out.csv"
    project.run("run", "flags", "--input", str(cases), "--output", str(output), code=4)
    errors = (project.root / "out.errors.csv").read_text(encoding="utf-8")
    assert bad["row"] == 2
    assert errors.splitlines()[1].startswith("2,modality,MRT,")
    assert "did you mean 'MRI'?" in errors and "did you mean 'MRI'?" in bad["error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("age_bnd", "age=3"), "did you mean 'age_band'"),  # unknown table
        (("age_band", "agee=3"), "did you mean 'age'"),  # unknown input
        (("age_band", "age=three"), "not a whole number"),  # bad value
        (("age_band", "age=200"), "age=200"),  # outside the Values
        (("age_band", "age"), "NAME=VALUE"),
        (("flags", "modality=PET"), "modality"),
        (("flags", "modality=MRT"), "modality='MRT' is not allowed"),
        (("flags", "modality=MRT"), "did you mean 'MRI'?"),  # as `run` says
        (("coverage", "age=3", "--as-of", "12/31/2025"), "2025-12-31"),
        (("coverage", "age=3", "--as-of", "2024-01-01"), "no version"),
        (("age_band", "age=3", "--as-of", "2025-01-01"), "no effective-dated versions"),
    ],
)
def test_eval_usage_errors_exit_2(
    project: Project, args: tuple[str, ...], message: str
) -> None:
    result = project.run("eval", *args, code=2)
    assert message in result.stderr
    assert result.stdout == ""


# -- explain ----------------------------------------------------------------------------


def test_explain_prints_why(project: Project) -> None:
    text = project.run("explain", "age_band", "age=30").stdout
    assert text.splitlines()[0] == 'age_band: band = "adult", since = null'
    assert "  decided by R2 (tables/rules.xlsx:Bands!A10:D10)" in text
    assert "    age = 30 is in [18..64] (tables/rules.xlsx:Bands!B10)" in text
    assert "    R1: age = 30 is not < 18 (tables/rules.xlsx:Bands!B9)" in text


def test_explain_json_and_versions(project: Project) -> None:
    first = json.loads(project.run("explain", "age_band", "age=3", "--json").stdout)
    assert [r["status"] for r in first["rules"]] == ["decided", "rejected"]
    assert first["rules"][1]["rejected_by"]["text"] == (
        "age = 3 is not in [18..64] (tables/rules.xlsx:Bands!B10)"
    )
    versioned = project.run("explain", "coverage", "age=3", "--as-of", "2026-02-01")
    assert "in force from 2026-01-01" in versioned.stdout
    data = json.loads(
        project.run(
            "explain", "coverage", "age=3", "--as-of", "2025-02-01", "--json"
        ).stdout
    )
    assert data["version"]["effective_to"] == "2025-12-31"
    assert data["as_of"] == "2025-02-01"
    assert data["outputs"] == {"covered": False} and data["matched"] == ["R1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("age_band", "age=200"), "age=200 is not allowed"),
        (("age_band", "agee=3"), "did you mean 'age'?"),
        (("coverage", "age=3", "--as-of", "2024-01-01"), "no version"),
        (("nope",), "no table named 'nope'"),
    ],
)
def test_explain_usage_errors_exit_2(
    project: Project, args: tuple[str, ...], message: str
) -> None:
    result = project.run("explain", *args, code=2)
    assert message in result.stderr
    assert result.stdout == ""


# -- the module entry point --------------------------------------------------------------


def test_python_m_compiler_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "compiler", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    for command in ("compile", "check", "eval"):
        assert command in done.stdout
    assert "compile-rules" in done.stdout


def test_the_python_api_compiles_and_writes_like_the_cli(tmp_path: Path) -> None:
    """`compiler.compile_tables` + `compiler.write_generated` give what `compile` gives."""
    import compiler

    tables = tmp_path / "tables"
    write_workbook(tables / "band.xlsx", {"Band": _api_band()})
    compilation = compiler.compile_tables(tables)
    assert compilation.ok and compilation.files is not None
    first = compiler.write_generated(tmp_path / "api", compilation.files)
    assert "band.py" in first.new and not first.changed
    again = compiler.write_generated(tmp_path / "api", compilation.files)
    assert not again.stale  # nothing written the second time
    result = CliRunner().invoke(
        main, ["compile", "--tables", str(tables), "--out", str(tmp_path / "cli")]
    )
    assert result.exit_code == 0, result.output
    for name in compilation.files:
        assert (tmp_path / "api" / name).read_bytes() == (
            tmp_path / "cli" / name
        ).read_bytes()


def _api_band() -> list[list[object]]:
    return decision_table(
        "band",
        hit_policy="FIRST",
        columns=[("age", "input", "integer", None), ("band", "output", "string", None)],
        rules=[("R1", "< 18", "child"), ("R2", "-", "adult")],
    )
