"""Black-box tests of the workbook format contract, /work/shared/workbook-format.md.

Each test builds its workbooks in code, compiles them the way an author would (the
Python API `compiler.compile_tables` / `write_generated`, or the `compile-rules` CLI),
and checks the generated evaluators against one passage of the contract, quoted in its
docstring. Where the tool disagrees with the contract the test is marked
`xfail(strict=True)` with the disagreement as its reason: fix the tool, not the test.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import compiler
from compiler.cli import (
    main as cli_main,  # `compile-rules`, run in-process for speed
)

from .workbooks import write_workbook

Rows = list[list[Any]]
Books = dict[str, dict[str, Rows]]  # workbook file name -> sheet title -> rows

CLI = Path(sys.executable).with_name("compile-rules")
_package_numbers = itertools.count()


# --- helpers --------------------------------------------------------------------------


def table(
    name: str,
    columns: str,
    *rules: list[Any],
    policy: str | None = None,
    values: list[Any] | None = None,
    default: list[Any] | None = None,
    meta: Sequence[Sequence[Any]] = (),
) -> Rows:
    """A decision table sheet. COLUMNS is "name:kind:type ..." (kind may be `from_t`,
    read as `from t`); RULES are rows starting with the rule id; VALUES and DEFAULT
    are the optional rows (one cell per column)."""
    cols = [c.split(":") for c in columns.split()]
    rows: Rows = [["Decision table", name]]
    if policy is not None:
        rows.append(["Hit policy", policy])
    rows += [list(m) for m in meta]
    rows.append([])
    rows.append(["Rule", *(c[0] for c in cols)])
    rows.append(["Kind", *(c[1].replace("from_", "from ") for c in cols)])
    rows.append(["Type", *(c[2] or None for c in cols)])
    if values is not None:
        rows.append(["Values", *values])
    if default is not None:
        rows.append(["Default", *default])
    rows += [list(rule) for rule in rules]
    return rows


def sheet_of_tests(
    name: str, header: list[str], kinds: list[str], *cases: list[Any]
) -> Rows:
    return [["Tests", name], [], ["Case", *header], ["Kind", *kinds], *map(list, cases)]


def write_books(root: Path, books: Books) -> Path:
    tables = root / "tables"
    for file, sheets in books.items():
        write_workbook(tables / file, sheets)
    return tables


def diagnose(tmp_path: Path, books: Books) -> compiler.Compilation:
    return compiler.compile_tables(write_books(tmp_path, books))


def text_of(diagnostic: compiler.Diagnostic) -> str:
    return diagnostic.format()


def errors(compilation: compiler.Compilation) -> list[compiler.Diagnostic]:
    return [d for d in compilation.diagnostics if d.severity == compiler.Severity.ERROR]


Where = tuple[str | tuple[str, ...], str | tuple[str, ...], str | None]


def location_pattern(file: Any, sheet: Any, cell: str | None) -> re.Pattern[str]:
    """`path:Sheet!C7` (the README's form; the contract writes `file!Sheet!C7`).
    FILE and SHEET may be tuples of alternatives; no CELL means any cell."""

    def alternatives(names: Any) -> str:
        names = names if isinstance(names, tuple) else (names,)
        return "(?:" + "|".join(map(re.escape, names)) + ")"

    where = alternatives(file) + r"[:!]" + alternatives(sheet)
    where += r"!" + (re.escape(cell) if cell else r"[A-Z]+\d+") + r"\b"
    return re.compile(r"(^|[/\\\s])" + where)


def find(
    compilation: compiler.Compilation,
    file: str,
    sheet: str,
    cell: str | None,
    severity: compiler.Severity = compiler.Severity.ERROR,
) -> compiler.Diagnostic:
    pattern = location_pattern(file, sheet, cell)
    found = [
        d
        for d in compilation.diagnostics
        if d.severity == severity and pattern.search(text_of(d).splitlines()[0])
    ]
    listing = "\n".join(text_of(d) for d in compilation.diagnostics)
    assert found, f"no {severity.name} at {pattern.pattern}; diagnostics:\n{listing}"
    return found[0]


class Built:
    """A compiled tables/ folder: `built["t"]` imports the generated module of `t`."""

    def __init__(self, compilation: compiler.Compilation, out: Path) -> None:
        self.compilation = compilation
        self.out = out

    def __getitem__(self, name: str) -> Any:
        return importlib.import_module(f"{self.out.name}.{name}")


def compile_into(root: Path, books: Books, *, cases: bool = True) -> Built:
    """BOOKS compiled (their Tests-sheet cases run, unless not CASES) and written."""
    compilation = compiler.compile_tables(write_books(root, books), cases=cases)
    listing = "\n".join(text_of(d) for d in compilation.diagnostics)
    assert compilation.ok, f"expected a clean compile:\n{listing}"
    out = root / f"gen_contract_{next(_package_numbers)}"
    compiler.write_generated(out, compilation.files)
    return Built(compilation, out)


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Built]:
    monkeypatch.syspath_prepend(str(tmp_path))
    return lambda books, **kwargs: compile_into(tmp_path, books, **kwargs)


def run_cli(*commands: list[str | Path]) -> list[subprocess.CompletedProcess]:
    """Run `compile-rules` once per COMMAND, all at once (each start costs ~1 s)."""
    procs = [
        (
            cmd,
            subprocess.Popen(
                [str(CLI), *map(str, cmd)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for cmd in commands
    ]
    done = []
    for cmd, proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr))
    return done


def set_cached_value(
    path: Path, sheet_number: int, ref: str, value: str, t: str = ""
) -> None:
    """Give the formula cell REF the cached value Excel would have saved with it."""
    part = f"xl/worksheets/sheet{sheet_number}.xml"
    tmp = path.with_suffix(".tmp")
    with (
        zipfile.ZipFile(path) as zin,
        zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                attr = f' t="{t}"' if t else ""
                xml, n = re.subn(
                    rf'<c r="{ref}"[^>]*><f>(.*?)</f><v\s*/>',
                    rf'<c r="{ref}"{attr}><f>\1</f><v>{value}</v>',
                    data.decode(),
                )
                assert n == 1, f"no formula cell {ref} in {part}"
                data = xml.encode()
            zout.writestr(item, data)
    tmp.replace(path)


def outputs(result: Any, name: str) -> Any:
    """One output of a single-hit result, or the tuple of it over a multi-hit result."""
    if type(result.outputs) is tuple:  # multi-hit: a plain tuple of Outputs
        return tuple(getattr(o, name) for o in result.outputs)
    return getattr(result.outputs, name)


# --- workbooks and sheets -------------------------------------------------------------

SIMPLE = table("simple", "x:input:string y:output:string", ["R1", "-", "ok"])


def test_sources_are_found_recursively_and_lock_files_are_skipped(build, tmp_path):
    """Contract: "Every `*.xlsx` file under `tables/` (recursively) is a source. Files
    whose name starts with `~$` or `.~lock` (editor lock files) are not." """
    tables = tmp_path / "tables"
    (tables / "deep" / "er").mkdir(parents=True)
    (tables / "~$simple.xlsx").write_bytes(b"\x00 an Excel owner file, not a zip")
    (tables / ".~lock.simple.xlsx").write_bytes(b"not a workbook")
    (tables / ".~lock.simple.xlsx#").write_bytes(b"not a workbook")
    built = build({"deep/er/nested.xlsx": {"S": SIMPLE}})
    assert built["simple"].evaluate(x="a").outputs.y == "ok"
    assert not [d for d in built.compilation.diagnostics if "~" in text_of(d)]


def test_sheet_kind_is_a1_trimmed_and_case_insensitive(build):
    """Contract: "A sheet's kind is the text of cell A1 (trimmed, case-insensitive):
    `Decision table`, `Tests`, or `Values`." """
    dt = table(
        "kinds",
        "m:input:modality r:output:string",
        ["R1", "CT", "ct"],
        ["R2", "MRI", "mri"],
    )
    dt[0][0] = "  decision TABLE "
    values = [["VALUES "], ["Name", "Values"], ["modality", "CT, MRI"]]
    tests = sheet_of_tests(
        "kinds", ["m", "r"], ["input", "expected"], ["T1", "CT", "ct"]
    )
    tests[0][0] = " tests"
    built = build({"k.xlsx": {"D": dt, "V": values, "T": tests}})
    kinds = built["kinds"]
    assert kinds.evaluate(m="MRI").outputs.r == "mri"
    with pytest.raises(ValueError):  # the Values sheet was read: PET is not a modality
        kinds.evaluate(m="PET")
    assert (built.out / "tests" / "test_kinds.py").exists()


def test_note_sheets_are_ignored_and_listed_at_info_level(build):
    """Contract: "A sheet with any other A1 is a note sheet: ignored, and listed at info
    level." """
    notes = [["Read me first"], ["Rule", "[[not a table"], ["Kind", "nonsense"]]
    typo = [["Decision tables", "Not A Name"], [], ["Rule", "x"]]
    built = build(
        {"n.xlsx": {"S": SIMPLE, "Read me": notes, "Typo": typo, "Blank": []}}
    )
    for sheet in ("Read me", "Typo", "Blank"):
        listed = [
            d
            for d in built.compilation.diagnostics
            if re.search(rf"n\.xlsx[:!]{sheet}\b", text_of(d))
        ]
        assert [d.severity for d in listed] == [compiler.Severity.INFO], sheet


def test_hidden_sheets_rows_and_columns_are_compiled(build, tmp_path):
    """Contract: "Hidden sheets are compiled like visible ones; hidden rows and columns
    too." """
    rows = table(
        "hidden",
        "x:input:integer y:input:integer z:output:string",
        ["R1", 1, 1, "a"],
        ["R2", 2, 2, "b"],
        policy="FIRST",
        default=[None, None, "none"],
    )
    path = write_workbook(tmp_path / "tables" / "h.xlsx", {"H": rows})
    book = load_workbook(path)
    sheet = book["H"]
    sheet.sheet_state = "hidden"
    sheet.row_dimensions[9].hidden = True  # R2
    sheet.column_dimensions["C"].hidden = True  # y
    book.create_sheet("Visible")["A1"] = "a note"
    book.save(path)
    hidden = build({})["hidden"]
    assert hidden.evaluate(x=2, y=2).matched == ("R2",)
    assert hidden.evaluate(x=2, y=1).matched == ()


def test_formulas_are_read_by_their_cached_value(build, tmp_path):
    """Contract: "Formulas are read by their cached value" """
    rows = table(
        "formulas",
        "n:input:integer s:input:string out:output:string",
        ["R1", "=10+8", '="C"&"T"', "a"],
        ["R2", "-", "-", '=UPPER("b")'],
        policy="FIRST",
    )
    path = write_workbook(tmp_path / "tables" / "f.xlsx", {"F": rows})
    set_cached_value(path, 1, "B7", "18")
    set_cached_value(path, 1, "C7", "CT", t="str")
    set_cached_value(path, 1, "D8", "B", t="str")
    formulas = build({})["formulas"]
    assert formulas.evaluate(n=18, s="CT").matched == ("R1",)
    assert formulas.evaluate(n=17, s="CT").outputs.out == "B"


# --- decision table sheets ------------------------------------------------------------


def test_metadata_rows_labels_are_case_insensitive(build):
    """Contract: "Metadata rows come first, one `label | value` pair per row, until a
    blank row. Labels are case-insensitive." (Title and Source: optional free text.)"""
    rows = table(
        "meta",
        "x:input:integer y:output:string",
        ["R1", "< 5", "small"],
        ["R2", "-", "large"],
        meta=[["HIT POLICY", "FIRST"], ["title", "A title"], ["SOURCE", "Guide, p. 3"]],
    )
    meta = build({"m.xlsx": {"M": rows}})["meta"]
    assert meta.evaluate(x=1).matched == ("R1",)  # FIRST, not UNIQUE: R1 and R2 overlap
    assert (meta.TITLE, meta.SOURCE) == ("A title", "Guide, p. 3")


def test_unknown_metadata_label_is_a_warning(build):
    """Contract: "Unknown labels are a warning." """
    rows = table(
        "unknown_label",
        "x:input:string y:output:string",
        ["R1", "-", "ok"],
        meta=[["Reviewer", "Dr. Who"]],
    )
    built = build({"u.xlsx": {"U": rows}})
    find(built.compilation, "u.xlsx", "U", "A2", compiler.Severity.WARNING)
    assert built["unknown_label"].evaluate().outputs.y == "ok"


def test_header_is_the_first_row_whose_a_cell_is_rule(build):
    """Contract: "The header row is the first row whose A cell is `Rule`." (here after
    two blank rows, with Title only)"""
    rows: Rows = [
        ["Decision table", "header"],
        ["Title", "blank rows before the header"],
        [],
        [],
        ["Rule", "x", "y"],
        ["Kind", "input", "output"],
        ["Type", "integer", "integer"],
        ["R1", "-", 7],
    ]
    assert build({"h.xlsx": {"H": rows}})["header"].evaluate(x=1).outputs.y == 7


def test_kind_type_values_default_rows_in_any_order(build):
    """Contract: "The rows labelled `Kind`, `Type`, `Values`, `Default` follow the
    header in any order" """
    rows: Rows = [
        ["Decision table", "any_order"],
        ["Hit policy", "FIRST"],
        [],
        ["Rule", "m", "r", "note"],
        ["Default", None, "none", None],
        ["Values", '"CT", "MRI"', None, None],
        ["Type", "string", "string", None],
        ["Kind", "input", "output", "annotation"],
        ["R1", "CT", "ct", "first note"],
        ["R2", "MRI", "mri", "second note"],
    ]
    any_order = build({"o.xlsx": {"O": rows}})["any_order"]
    assert any_order.evaluate(m="MRI").outputs.r == "mri"
    assert any_order.evaluate().outputs.r == "none"
    with pytest.raises(ValueError):
        any_order.evaluate(m="PET")


def test_annotation_columns_do_not_take_part_in_matching(build):
    """Contract: "Kind: `input`, `output`, `annotation`" -- an annotation is a note per
    rule."""
    rows = table(
        "annotated",
        "x:input:string y:output:string note:annotation:",
        ["R1", "a", "A", "Guide 3.1 -- not a unary test: [["],
        ["R2", "-", "other", None],
        policy="F",
    )
    annotated = build({"a.xlsx": {"A": rows}})["annotated"]
    assert annotated.evaluate(x="a").matched == ("R1",)
    assert "note" not in inspect.signature(annotated.evaluate).parameters
    assert annotated.RULES[0].annotations == ("Guide 3.1 -- not a unary test: [[",)


def test_rule_ids_and_the_blank_row_that_ends_the_table(build):
    """Contract: "Every following row with a non-blank A cell is a rule: A holds its id
    ... (`R1`, `CT-7`, ...)" and "(first fully blank row ends the table)" """
    rows = table(
        "ids",
        "x:input:integer y:output:string",
        ["CT-7", "< 5", "low"],
        ["R1", "-", "high"],
        [],
        ["R9", "< 100", "after the blank row"],
        policy="FIRST",
    )
    ids = build({"i.xlsx": {"I": rows}})["ids"]
    assert ids.evaluate(x=1).matched == ("CT-7",)
    assert ids.evaluate(x=50).matched == ("R1",)
    assert [r.id for r in ids.RULES] == ["CT-7", "R1"]


# --- types ----------------------------------------------------------------------------

TYPED_VALUES = {
    "string": ("CT", 5),
    "code": ("0042T", 42),
    "integer": (18, "18"),
    "number": (2.5, "2.5"),
    "boolean": (True, "true"),
    "date": (date(2025, 12, 18), "2025-12-18"),
}


def test_every_type_as_input_and_output(build):
    """Contract: "Type: `string`, `code`, `integer`, `number`, `boolean`, `date`." Each
    takes a value of its type and rejects another (InputError, a ValueError)."""
    entries = {
        "string": "CT",
        "code": "0042T",
        "integer": 18,
        "number": 2.5,
        "boolean": True,
        "date": date(2025, 12, 18),
    }
    sheets = {
        ty: table(
            f"typed_{ty}",
            f"x:input:{ty} y:output:{ty}",
            ["R1", entry, entry],
            default=[None, "null"],
        )
        for ty, entry in entries.items()
    }
    built = build({"t.xlsx": sheets})
    for ty, (good, bad) in TYPED_VALUES.items():
        module = built[f"typed_{ty}"]
        result = module.evaluate(x=good)
        assert (result.matched, result.outputs.y) == (("R1",), good), ty
        assert type(result.outputs.y) is type(good), ty
        with pytest.raises(ValueError):
            module.evaluate(x=bad)


def test_code_values_are_kept_as_text(build, tmp_path):
    """Contract: "`0042T` and `018.82` never become numbers, and a numeric Excel cell in
    a code column is read as its digits and flagged when its number format hides leading
    zeros." """
    rows = table(
        "cpt",
        "code:input:code out:output:string out_code:output:code",
        ["R1", "0042T", "text", "0042T"],
        ["R2", "018.82", "dotted", '"018.82"'],
        ["R3", 70450, "number cell", 70450],
        ["R4", 42, "zero padded", "null"],
        default=[None, "none", "null"],
    )
    path = write_workbook(tmp_path / "tables" / "c.xlsx", {"C": rows})
    book = load_workbook(path)
    book["C"]["B10"].number_format = "00000"
    book.save(path)
    built = build({})
    cpt = built["cpt"]
    assert cpt.evaluate(code="0042T").outputs == ("text", "0042T")
    assert cpt.evaluate(code="018.82").outputs == ("dotted", "018.82")
    assert cpt.evaluate(code="18.82").matched == ()
    assert cpt.evaluate(code="70450").outputs == ("number cell", "70450")
    flag = find(built.compilation, "c.xlsx", "C", "B10", compiler.Severity.WARNING)
    assert "42" in text_of(flag)
    with pytest.raises(ValueError):
        cpt.evaluate(code=70450)  # a code is text


# --- Values rows and Values sheets ----------------------------------------------------


def test_values_row_forms_restrict_inputs(build):
    """Contract: "Values: the allowed values, as a unary-test list (`"CT", "MRI"` or
    `CT, MRI`, `[0..130]`)." A value outside them is refused by `evaluate` (README:
    InputError)."""
    rows = table(
        "restricted",
        "quoted:input:string bare:input:string age:input:integer y:output:string",
        ["R1", "-", "-", "-", "ok"],
        values=['"CT", "MRI"', "CT, MRI", "[0..130]", None],
    )
    restricted = build({"v.xlsx": {"V": rows}})["restricted"]
    assert restricted.evaluate(quoted="MRI", bare="CT", age=130).matched == ("R1",)
    for bad in ({"quoted": "PET"}, {"bare": '"CT"'}, {"age": 131}, {"age": -1}):
        with pytest.raises(ValueError):
            restricted.evaluate(**bad)


def test_values_sheet_lists_in_type_and_values_cells(build):
    """Contract: "A `Type` or `Values` cell of a table may name a list from a Values
    sheet in the same workbook instead of spelling it out." """
    lists = [
        ["Values"],
        ["Name", "Values"],
        ["modality", '"CT", "MRI"'],
        ["age_range", "[0..130]"],
        ["gender_marker", '"Male", "Female", "Transgender male", "X", "Not specified"'],
    ]
    rows = table(
        "named_lists",
        "m:input:string age:input:integer g:input:gender_marker out:output:string",
        ["R1", "CT", "< 18", "X", "a"],
        ["R2", "-", "-", "-", "b"],
        policy="FIRST",
        values=["modality", "age_range", None, None],
    )
    named = build({"l.xlsx": {"Lists": lists, "S": rows}})["named_lists"]
    assert named.evaluate(m="CT", age=5, g="X").matched == ("R1",)
    assert named.evaluate(m="MRI", age=5, g="Transgender male").matched == ("R2",)
    for bad in ({"m": "PET"}, {"age": 200}, {"g": "male"}):
        with pytest.raises(ValueError):
            named.evaluate(**bad)


def test_default_is_the_output_when_no_rule_matches(build, tmp_path):
    """Contract: "Default: the output's value when no rule matches." (README: `matched`
    is empty)"""
    rows = table(
        "defaulted",
        "x:input:string y:output:boolean z:output:integer",
        ["R1", "CT", "true", 1],
        default=[None, "false", "null"],
    )
    defaulted = build({"d.xlsx": {"D": rows}})["defaulted"]
    result = defaulted.evaluate(x="MRI")
    assert (result.outputs.y, result.outputs.z, result.matched) == (False, None, ())


def test_a_table_without_default_may_leave_cases_unmatched_when_it_says_so(
    build, tmp_path
):
    """Contract: "Default ... <- optional row, outputs only"; "Default: the output's
    value when no rule matches." The project is stricter here, on purpose (the static
    analysis, issue 3): a single-hit table without a Default that leaves cases
    unmatched is an error (A303) naming an example, unless its metadata say
    `Complete: no`; then it compiles, warns (A304), and unmatched cases give null."""
    rows = table("partial", "x:input:string y:output:string", ["R1", "CT", "ct"])
    strict = diagnose(tmp_path / "strict", {"p.xlsx": {"P": rows}})
    [gap] = [d for d in strict.diagnostics if d.code == "A303"]
    assert not strict.ok and str(gap.location) == "tables/p.xlsx:P"
    assert (
        "x = " in gap.message and "Complete: no" in gap.hint and "Default" in gap.hint
    )
    partial = table(
        "partial",
        "x:input:string y:output:string",
        ["R1", "CT", "ct"],
        meta=[["Complete", "no"]],
    )
    built = build({"p.xlsx": {"P": partial}})
    # warnings only: the gap (A304), and the same when x is missing (A313)
    assert [d.code for d in built.compilation.diagnostics] == ["A304", "A313"]
    result = built["partial"].evaluate(x="MRI")
    assert (result.outputs.y, result.matched) == (None, ())
    assert built["partial"].evaluate().matched == ()


# --- effective-dated versions ---------------------------------------------------------


def version(effective_from: Any, effective_to: Any, answer: str) -> Rows:
    meta = [["Effective from", effective_from]] if effective_from is not None else []
    if effective_to is not None:
        meta.append(["Effective to", effective_to])
    return table(
        "dated", "x:input:string y:output:string", ["R1", "-", answer], meta=meta
    )


def test_the_version_in_force_on_as_of_decides(build, tmp_path):
    """Contract: "Several sheets may share one table name when their `Effective
    from`/`Effective to` ranges do not overlap: they are the table's versions, and the
    one in force on the evaluation date (`as_of`) decides." Dates are "an Excel date or
    ISO text"; `Effective to` is "inclusive"."""
    built = build(
        {
            "dated.xlsx": {
                "2024": version(None, datetime(2024, 12, 30), "ancient"),
                "2025 H1": version(date(2025, 1, 1), "2025-06-30", "old"),
                "2025 H2": version("2025-07-01", None, "new"),
            }
        }
    )
    dated = built["dated"]
    answers = {
        date(2000, 1, 1): "ancient",
        date(2024, 12, 30): "ancient",
        date(2025, 1, 1): "old",
        date(2025, 6, 30): "old",
        date(2025, 7, 1): "new",
        date(2099, 1, 1): "new",
    }
    for as_of, answer in answers.items():
        assert dated.evaluate(x="a", as_of=as_of).outputs.y == answer, as_of
    assert (
        dated.evaluate(x="a").outputs.y
        == dated.evaluate(x="a", as_of=date.today()).outputs.y
    )
    with pytest.raises(Exception, match="2024-12-31") as gap:
        dated.evaluate(x="a", as_of=date(2024, 12, 31))
    assert type(gap.value).__name__ == "NoVersionError"


# --- hit policies ---------------------------------------------------------------------

# R1 `>= 5`, R2 `-`, R3 `[3..4]`: n=6 matches R1 and R2, n=4 matches R2 and R3.
URGENCY = "urgent, routine, deferred"  # the priority: first highest
POLICIES = {
    # full form, one-letter form, output type, outputs of R1..R3, Values, expectations
    # (n -> (outputs, matched))
    "FIRST": (
        "F",
        "string",
        ("routine", "deferred", "urgent"),
        None,
        {6: ("routine", ("R1",)), 4: ("deferred", ("R2",)), 1: ("deferred", ("R2",))},
    ),
    "PRIORITY": (
        "P",
        "string",
        ("routine", "deferred", "urgent"),
        URGENCY,
        {6: ("routine", ("R1",)), 4: ("urgent", ("R3",)), 1: ("deferred", ("R2",))},
    ),
    "RULE ORDER": (
        "R",
        "string",
        ("routine", "deferred", "urgent"),
        None,
        {
            6: (("routine", "deferred"), ("R1", "R2")),
            4: (("deferred", "urgent"), ("R2", "R3")),
        },
    ),
    "OUTPUT ORDER": (
        "O",
        "string",
        ("routine", "deferred", "urgent"),
        URGENCY,
        {
            6: (("routine", "deferred"), ("R1", "R2")),
            4: (("urgent", "deferred"), ("R2", "R3")),
        },
    ),
    "COLLECT SUM": (
        "C+",
        "integer",
        (10, 20, 30),
        None,
        {6: (30, ("R1", "R2")), 4: (50, ("R2", "R3")), 1: (20, ("R2",))},
    ),
    "COLLECT MIN": (
        "C<",
        "integer",
        (10, 20, 30),
        None,
        {6: (10, ("R1", "R2")), 4: (20, ("R2", "R3"))},
    ),
    "COLLECT MAX": (
        "C>",
        "integer",
        (10, 20, 30),
        None,
        {6: (20, ("R1", "R2")), 4: (30, ("R2", "R3"))},
    ),
    "COLLECT COUNT": (
        "C#",
        "integer",
        (10, 20, 30),
        None,
        {6: (2, ("R1", "R2")), 4: (2, ("R2", "R3")), 1: (1, ("R2",))},
    ),
}


EXTRA_FORMS = ["COLLECT", "C", "UNIQUE", "U", "ANY", "A"]
FORMS = [
    form for full, spec in POLICIES.items() for form in (full, spec[0])
] + EXTRA_FORMS


def policy_name(form: str) -> str:
    return f"policy_{FORMS.index(form)}"


def policy_table(form: str, out_type: str, outs: tuple, values: str | None) -> Rows:
    return table(
        policy_name(form),
        f"n:input:integer v:output:{out_type}",
        ["R1", ">= 5", outs[0]],
        ["R2", "-", outs[1]],
        ["R3", "[3..4]", outs[2]],
        policy=form,
        values=None if values is None else [None, values],
    )


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Every hit policy in full and one-letter form, one table each."""
    root = tmp_path_factory.mktemp("policies")
    sheets: dict[str, Rows] = {}
    for full, (short, out_type, outs, values, _) in POLICIES.items():
        for form in (full, short):
            sheets[policy_name(form)] = policy_table(form, out_type, outs, values)
    for form in ("COLLECT", "C"):
        sheets[policy_name(form)] = policy_table(
            form, "string", ("routine", "deferred", "urgent"), None
        )
    for form in ("UNIQUE", "U"):
        sheets[policy_name(form)] = table(
            policy_name(form),
            "n:input:integer v:output:string",
            ["R1", "< 5", "small"],
            ["R2", ">= 5", "large"],
            policy=form,
            default=[None, "none"],
        )
    for form in ("ANY", "A"):
        sheets[policy_name(form)] = table(
            policy_name(form),
            "n:input:integer v:output:string",
            ["R1", ">= 5", "large"],
            ["R2", ">= 7", "large"],
            ["R3", "< 5", "small"],
            policy=form,
            default=[None, "none"],
        )
    sys.path.insert(0, str(root))
    try:
        yield compile_into(root, {"policies.xlsx": sheets})
    finally:
        sys.path.remove(str(root))


def policy_module(policies: Built, form: str) -> Any:
    return policies[policy_name(form)]


@pytest.mark.parametrize(
    ("form", "full"),
    [(form, full) for full, spec in POLICIES.items() for form in (full, spec[0])],
)
def test_hit_policy(policies, form, full):
    """Contract: "`UNIQUE`, `FIRST`, `PRIORITY`, `ANY`, `COLLECT`, `COLLECT SUM`,
    `COLLECT MIN`, `COLLECT MAX`, `COLLECT COUNT`, `RULE ORDER`, `OUTPUT ORDER`; the
    one-letter DMN forms `U F P A C C+ C< C> C# R O` are accepted too." PRIORITY and
    OUTPUT ORDER follow the output's Values order ("first highest"); `matched` is in
    rule order."""
    module = policy_module(policies, form)
    for n, (expected, matched) in POLICIES[full][4].items():
        result = module.evaluate(n=n)
        assert (outputs(result, "v"), result.matched) == (expected, matched), n


@pytest.mark.parametrize("form", ["COLLECT", "C"])
def test_hit_policy_collect(policies, form):
    """Contract: "`COLLECT`" (DMN: every match, in arbitrary order)."""
    result = policy_module(policies, form).evaluate(n=4)
    assert sorted(outputs(result, "v")) == ["deferred", "urgent"]
    assert sorted(result.matched) == ["R2", "R3"]


@pytest.mark.parametrize("form", ["UNIQUE", "U"])
def test_hit_policy_unique(policies, form):
    """`UNIQUE`: at most one rule matches; the single-hit result names it."""
    module = policy_module(policies, form)
    assert (module.evaluate(n=4).outputs.v, module.evaluate(n=4).matched) == (
        "small",
        ("R1",),
    )
    assert module.evaluate(n=5).matched == ("R2",)


@pytest.mark.parametrize("form", ["ANY", "A"])
def test_hit_policy_any_with_agreeing_overlap(policies, form):
    """`ANY`: overlapping rules that agree are allowed; their common output wins."""
    module = policy_module(policies, form)
    result = module.evaluate(n=8)
    assert result.outputs.v == "large"
    assert set(result.matched) == {"R1", "R2"}
    assert module.evaluate(n=1).matched == ("R3",)


def test_hit_policy_defaults_to_unique(build, tmp_path):
    """Contract: "Hit policy ... default UNIQUE when the row is absent" and "UNIQUE
    tables with overlapping rules ... are compile errors found by static analysis, with
    an example input that shows the overlap." """
    overlapping = table(
        "no_policy",
        "x:input:integer y:output:integer",
        ["R1", "[0..10]", 1],
        ["R2", "[5..20]", 2],
        default=[None, 0],
    )
    compilation = diagnose(tmp_path, {"u.xlsx": {"U": overlapping}})
    assert compilation.files is None
    problem = " ".join(text_of(d) for d in errors(compilation))
    assert "R1" in problem and "R2" in problem
    assert re.search(r"\bx = (5|6|7|8|9|10)\b", problem), problem


@pytest.mark.parametrize(
    ("policy", "first", "second", "example"),
    [
        ("UNIQUE", "CT, MRI", "MRI, PET", r"\bm = \"?MRI\b"),
        ("U", "CT, MRI", "MRI, PET", r"\bm = \"?MRI\b"),
        ("ANY", "CT, MRI", "MRI, PET", r"\bm = \"?MRI\b"),
        ("A", "CT, MRI", "MRI, PET", r"\bm = \"?MRI\b"),
    ],
)
def test_static_analysis_rejects_unique_overlaps_and_any_conflicts(
    tmp_path, policy, first, second, example
):
    """Contract: "UNIQUE tables with overlapping rules, and ANY tables whose overlapping
    rules disagree, are compile errors found by static analysis, with an example input
    that shows the overlap." """
    rows = table(
        "overlap",
        "m:input:string y:output:integer",
        ["R1", first, 1],
        ["R2", second, 2],
        policy=policy,
        default=[None, 0],
    )
    compilation = diagnose(tmp_path, {"o.xlsx": {"O": rows}})
    found = find(compilation, "o.xlsx", "O", None)
    assert re.search(example, text_of(found)), text_of(found)
    assert compilation.files is None


# --- cells: input entries (unary tests) -----------------------------------------------

D = date(2025, 12, 18)
UNARY: list[tuple[str, Any, list[tuple[Any, bool]]]] = [
    # type, cell, [(value, matches)]
    ("string", None, [("MRI", True), ("CT", True)]),
    ("string", "-", [("MRI", True), ("CT", True)]),
    ("string", "MRI", [("MRI", True), ("CT", False), ("mri", False)]),
    ("string", '"MRI"', [("MRI", True), ("CT", False)]),
    ("string", "\u201cMRI\u201d", [("MRI", True), ("CT", False)]),
    ("string", "CT, MRI", [("MRI", True), ("CT", True), ("PET", False)]),
    ("string", '"CT", "MRI"', [("MRI", True), ("PET", False)]),
    ("string", "\u201cCT\u201d, \u201cMRI\u201d", [("MRI", True), ("PET", False)]),
    ("string", "not(CT, MRI)", [("MRI", False), ("CT", False), ("PET", True)]),
    ("string", 'not("CT")', [("CT", False), ("PET", True)]),
    ("string", " MRI\u00a0\n", [("MRI", True), ("CT", False)]),
    ("string", '\u00a0"MRI" \n', [("MRI", True)]),
    ("string", "null", [(None, True), ("MRI", False)]),
    ("integer", "< 18", [(17, True), (18, False)]),
    ("integer", "<= 18", [(18, True), (19, False)]),
    ("integer", "> 65", [(65, False), (66, True)]),
    ("integer", ">= 65", [(64, False), (65, True)]),
    ("integer", "[18..64]", [(17, False), (18, True), (64, True), (65, False)]),
    ("integer", "(0..30)", [(0, False), (1, True), (29, True), (30, False)]),
    ("integer", "[0..30)", [(0, True), (29, True), (30, False)]),
    ("integer", "]0..30[", [(0, False), (1, True), (29, True), (30, False)]),
    ("integer", "]0..30]", [(0, False), (30, True), (31, False)]),
    ("integer", "[0..30[", [(0, True), (30, False)]),
    ("integer", "(0..30]", [(0, False), (30, True)]),
    ("integer", 18, [(18, True), (17, False)]),
    ("integer", "18", [(18, True), (17, False)]),  # a number typed as text
    ("integer", "17, 18", [(17, True), (18, True), (19, False)]),
    ("integer", "not(18)", [(18, False), (19, True)]),
    ("integer", "null", [(None, True), (0, False)]),
    ("integer", " >= 65\n", [(65, True), (64, False)]),
    ("number", "< 2.5", [(2.4, True), (2.5, False)]),
    ("number", "[1.5..2.5]", [(1.4, False), (1.5, True), (2.5, True), (2.6, False)]),
    ("number", 2.5, [(2.5, True), (2.0, False)]),
    ("number", "2.5", [(2.5, True), (2.0, False)]),
    ("boolean", "true", [(True, True), (False, False)]),
    ("boolean", "false", [(False, True), (True, False)]),
    ("boolean", True, [(True, True), (False, False)]),
    ("boolean", False, [(False, True), (True, False)]),
    ("date", "2025-12-18", [(D, True), (date(2025, 12, 19), False)]),
    ("date", 'date("2025-12-18")', [(D, True), (date(2025, 12, 17), False)]),
    ("date", D, [(D, True), (date(2025, 12, 19), False)]),
    ("date", "< 2025-12-18", [(date(2025, 12, 17), True), (D, False)]),
    ("date", '>= date("2025-12-18")', [(D, True), (date(2025, 12, 17), False)]),
    (
        "date",
        "[2025-01-01..2025-12-31]",
        [
            (date(2024, 12, 31), False),
            (date(2025, 1, 1), True),
            (date(2025, 12, 31), True),
            (date(2026, 1, 1), False),
        ],
    ),
    ("date", "null", [(None, True), (D, False)]),
    ("code", "0042T", [("0042T", True), ("42T", False)]),
    ("code", "018.82", [("018.82", True), ("18.82", False)]),
    (
        "code",
        "[70450..70498]",
        [("70450", True), ("70498", True), ("70449", False), ("70499", False)],
    ),
    ("code", "[A0001..A0099]", [("A0050", True), ("A0100", False), ("B0001", False)]),
    (
        "code",
        "M54.*",
        [("M54.5", True), ("M54.16", True), ("M540", False), ("M55.1", False)],
    ),
    ("code", "M54*", [("M54.5", True), ("M540", True), ("M55", False)]),
    ("code", "not(M54*)", [("M54.5", False), ("M55", True)]),
    ("code", "null", [(None, True), ("M54", False)]),
]


@pytest.fixture(scope="module")
def unary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """One table per UNARY case: rule R1 holds the cell, Default 'no'."""
    root = tmp_path_factory.mktemp("unary")
    sheets = {
        f"U{i}": table(
            f"unary_{i}",
            f"x:input:{ty} ok:output:string",
            ["R1", cell, "yes"],
            default=[None, "no"],
        )
        for i, (ty, cell, _) in enumerate(UNARY)
    }
    sys.path.insert(0, str(root))
    try:
        yield compile_into(root, {"unary.xlsx": sheets})
    finally:
        sys.path.remove(str(root))


@pytest.mark.parametrize(
    ("i", "cases"),
    [
        pytest.param(i, cases, id=f"{ty}:{cell!r}")
        for i, (ty, cell, cases) in enumerate(UNARY)
    ],
)
def test_input_entry(unary, i, cases):
    """Contract: "Cells: input entries (unary tests)": empty, `-`, bare, quoted and
    typographically quoted strings, lists, `not(...)`, comparisons, ranges ("square
    bracket closed, round or reversed bracket open"), booleans (Excel TRUE/FALSE cells
    count), dates (ISO text, `date("...")`, Excel date cells), `null`, code ranges and
    prefix patterns. "Surrounding white space, non-breaking spaces and a trailing
    newline are ignored. A number typed as text in a number column is a number." """
    module = unary[f"unary_{i}"]
    actual = [
        (value, module.evaluate(x=value).matched == ("R1",))
        for value in (v for v, _ in cases)
    ]
    assert actual == cases


def test_empty_and_dash_entries_accept_any_value(unary):
    """Contract: "empty, `-` | any value" (DMN: also a missing input)."""
    for i in (0, 1):
        assert unary[f"unary_{i}"].evaluate(x=None).matched == ("R1",)


# --- cells: output entries ------------------------------------------------------------


def test_output_entries_are_literals_of_their_type_or_null(build):
    """Contract: "A literal of the output's type (strings bare or quoted), or
    `null`." """
    columns = (
        "k:input:integer s:output:string c:output:code i:output:integer "
        "n:output:number b:output:boolean d:output:date"
    )
    rows = table(
        "literals",
        columns,
        ["R1", 1, "bare", "0042T", 7, 2.5, True, D],
        [
            "R2",
            2,
            '"quoted, with comma"',
            '"018.82"',
            "7",
            "-0.5",
            "false",
            "2025-12-18",
        ],
        [
            "R3",
            3,
            "\u201ctypographic\u201d",
            "M54.5",
            -3,
            3,
            "true",
            'date("2025-12-18")',
        ],
        ["R4", "-", "null", "null", "null", "null", "null", "null"],
        policy="FIRST",
    )
    literals = build({"l.xlsx": {"L": rows}})["literals"]
    assert tuple(literals.evaluate(k=1).outputs) == ("bare", "0042T", 7, 2.5, True, D)
    assert tuple(literals.evaluate(k=2).outputs) == (
        "quoted, with comma",
        "018.82",
        7,
        -0.5,
        False,
        D,
    )
    assert tuple(literals.evaluate(k=3).outputs) == (
        "typographic",
        "M54.5",
        -3,
        3,
        True,
        D,
    )
    assert tuple(literals.evaluate(k=4).outputs) == (None,) * 6


# --- Tests sheets ---------------------------------------------------------------------


def test_tests_sheets_become_pytest_cases(build, tmp_path):
    """Contract: "Input cells are values (not unary tests). An optional input column
    `as_of` (date) picks the table version in force. Expected cells are output literals;
    for multi-hit policies several values are written as a list (`"a", "b"`); an
    optional `expected rule` column names the rule ids that must match." and "Every test
    becomes a generated pytest case." Cases named BAD* are wrong on purpose and must
    fail: at compile (`E423`, one per case, which stops the compile) and, compiled
    without running the cases, as generated pytest cases."""
    band = table(
        "band",
        "age:input:integer band:output:string",
        ["R1", "< 18", "child"],
        ["R2", "-", "adult"],
        policy="FIRST",
        values=["[0..130]", None],
    )
    band_tests = sheet_of_tests(
        "band",
        ["age", "band", "expected rule", "Note"],
        ["input", "expected", "expected rule", "annotation"],
        ["T1", 5, "child", "R1", "a note"],
        ["T2", "40", '"adult"', "R2"],
        ["T3", None, "adult", "R2"],
        ["BAD1", 50, "child", None],
        ["BAD2", 50, "adult", "R1"],
    )
    orders = table(
        "orders",
        "n:input:integer v:output:string",
        ["R1", ">= 5", "routine"],
        ["R2", "-", "deferred"],
        policy="RULE ORDER",
    )
    orders_tests = sheet_of_tests(
        "orders",
        ["n", "v", "expected rule"],
        ["input", "expected", "expected rule"],
        ["T1", 6, '"routine", "deferred"', "R1, R2"],
        ["T2", 1, "deferred", "R2"],
        ["BAD3", 6, '"routine"', None],
    )
    dated_tests = sheet_of_tests(
        "dated",
        ["x", "as_of", "y"],
        ["input", "input", "expected"],
        ["T1", "a", date(2025, 3, 1), "old"],
        ["T2", "a", "2025-07-01", "new"],
        ["BAD4", "a", "2025-06-30", "new"],
    )
    plan = table(
        "plan",
        "band:from_band:string plan:output:string",
        ["R1", "child", "pediatric"],
        ["R2", "-", "general"],
        policy="F",
    )
    plan_tests = sheet_of_tests(
        "plan",
        ["age", "plan"],
        ["input", "expected"],
        ["T1", 3, "pediatric"],
        ["T2", 30, "general"],
        ["BAD5", 30, "pediatric"],
    )
    books = {
        "t.xlsx": {
            "Band": band,
            "Band tests": band_tests,
            "Orders": orders,
            "Orders tests": orders_tests,
            "H1": version(date(2025, 1, 1), "2025-06-30", "old"),
            "H2": version("2025-07-01", None, "new"),
            "Dated tests": dated_tests,
            "Plan": plan,
            "Plan tests": plan_tests,
        }
    }
    checked = compiler.compile_tables(write_books(tmp_path / "checked", books))
    failing = [d for d in checked.diagnostics if d.severity is compiler.Severity.ERROR]
    assert not checked.ok and {d.code for d in failing} == {"E423"}
    assert sorted(d.message.split("'")[1] for d in failing) == [
        "BAD1",
        "BAD2",
        "BAD3",
        "BAD4",
        "BAD5",
    ]
    built = build(books, cases=False)
    sheet_modules = sorted((built.out / "tests").glob("test_*.py"))  # not examples/
    assert [m.name for m in sheet_modules] == [
        "test_band.py",
        "test_dated.py",
        "test_orders.py",
        "test_plan.py",
    ]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            *sheet_modules,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    outcomes = re.findall(
        r"(test_\w+\.py)::test_\w+\[(\w+)\] (PASSED|FAILED)", done.stdout
    )
    assert len(outcomes) == 14, done.stdout[-3000:]  # 5 + 3 + 3 + 3 cases
    for module, case_id, outcome in outcomes:
        wanted = "FAILED" if case_id.startswith("BAD") else "PASSED"
        assert outcome == wanted, (module, case_id, done.stdout[-3000:])


# --- decision requirements: `from <table>` --------------------------------------------


def test_from_inputs_are_evaluated_first_in_dependency_order(build, tmp_path):
    """Contract: "`from <table_name>` (an input whose value is the same-named output of
    another table, evaluated first: a decision requirement)" and (README) "A table with
    `from <table>` inputs takes the inputs of the tables it requires and evaluates them
    first." Sheets and workbooks are in reverse dependency order here."""
    plan = table(
        "plan",
        "band:from_band:string risk:from_risk:string plan:output:string",
        ["R1", "child", "high", "pediatric specialist"],
        ["R2", "child", "-", "pediatric"],
        ["R3", "-", "-", "general"],
        policy="F",
    )
    risk = table(
        "risk",
        "score:input:number band:from_band:string risk:output:string",
        ["R1", "> 7.5", "child", "high"],
        ["R2", "-", "-", "low"],
        policy="F",
    )
    band = table(
        "band",
        "age:input:integer band:output:string",
        ["R1", "< 18", "child"],
        ["R2", "-", "adult"],
        policy="F",
    )
    built = build(
        {"a_plan.xlsx": {"Plan": plan, "Risk": risk}, "b_band.xlsx": {"Band": band}}
    )
    top = built["plan"]
    assert top.evaluate(age=5, score=8).outputs.plan == "pediatric specialist"
    assert top.evaluate(age=5, score=7.5).matched == ("R2",)
    assert top.evaluate(age=40, score=9).matched == ("R3",)


# --- the CLI: eval --json -------------------------------------------------------------


def test_eval_json_prints_outputs_and_matched(tmp_path):
    """README: "`outputs` is an object of output values for single-hit policies and for
    COLLECT with an aggregate, and a list of such objects for COLLECT without aggregate,
    RULE ORDER and OUTPUT ORDER; dates are ISO strings, codes are strings; `matched`
    lists the rules of the table itself that decided, in rule order ... When nothing
    matches, `matched` is empty and the outputs are the Defaults". Also `--as-of` for a
    versioned table and a `from` chain given its required inputs."""
    single = table(
        "single",
        "c:input:code d:output:date k:output:code",
        ["R1", "[70450..70498]", "2025-12-18", 70450],
        ["R2", "-", "null", "null"],
        policy="FIRST",
    )
    multi = table(
        "multi",
        "n:input:integer v:output:integer",
        ["R1", ">= 5", 1],
        ["R2", "-", 2],
        policy="RULE ORDER",
    )
    total = table(
        "total",
        "n:input:integer v:output:integer",
        ["R1", ">= 5", 1],
        ["R2", "-", 2],
        policy="C+",
    )
    defaulted = table(
        "defaulted",
        "x:input:string y:output:boolean",
        ["R1", "CT", "true"],
        default=[None, "false"],
    )
    band = table(
        "band",
        "age:input:integer band:output:string",
        ["R1", "< 18", "child"],
        ["R2", "-", "adult"],
        policy="F",
    )
    plan = table(
        "plan",
        "band:from_band:string plan:output:string",
        ["R1", "child", "pediatric"],
        ["R2", "-", "general"],
        policy="F",
    )
    sheets = {
        "S": single,
        "M": multi,
        "T": total,
        "D": defaulted,
        "Plan": plan,
        "B": band,
        "H1": version(date(2025, 1, 1), "2025-06-30", "old"),
        "H2": version("2025-07-01", None, "new"),
    }
    tables = write_books(tmp_path, {"e.xlsx": sheets})
    calls = {
        ("single", "c=70451"): {
            "outputs": {"d": "2025-12-18", "k": "70450"},
            "matched": ["R1"],
        },
        ("multi", "n=6"): {"outputs": [{"v": 1}, {"v": 2}], "matched": ["R1", "R2"]},
        ("total", "n=6"): {"outputs": {"v": 3}, "matched": ["R1", "R2"]},
        ("defaulted", "x=PET"): {"outputs": {"y": False}, "matched": []},
        ("plan", "age=5"): {"outputs": {"plan": "pediatric"}, "matched": ["R1"]},
        ("dated", "--as-of", "2025-06-30", "x=a"): {
            "outputs": {"y": "old"},
            "matched": ["R1"],
        },
    }
    for args, expected in calls.items():
        table_name, *rest = args
        done = CliRunner().invoke(
            cli_main,
            [
                "eval",
                table_name,
                "--json",
                "--tables",
                str(tables),
                "--out",
                str(tmp_path / "out"),
                *rest,
            ],
        )
        assert done.exit_code == 0, (args, done.output)
        assert json.loads(done.stdout) == expected, args


# --- errors ---------------------------------------------------------------------------

INT_TABLE = "x:input:integer y:output:string"


def one(name: str, *rules: list[Any], columns: str = INT_TABLE, **kw: Any) -> Books:
    return {
        f"{name}.xlsx": {"S": table(name, columns, *rules, default=[None, "no"], **kw)}
    }


def with_rows(rows: Rows, **replace: list[Any]) -> Rows:
    """ROWS with the rows labelled by the keys (Kind=...) replaced, or dropped ([])."""
    out = []
    for row in rows:
        label = row[0] if row else None
        if label in replace:
            if replace[label]:
                out.append(replace[label])
        else:
            out.append(row)
    return out


def base(name: str) -> Rows:
    return table(name, INT_TABLE, ["R1", "-", "yes"])


def versions_overlapping() -> Books:
    first = table(
        "e_versions",
        "x:input:string y:output:string",
        ["R1", "-", "a"],
        meta=[["Effective from", date(2025, 1, 1)], ["Effective to", "2025-06-30"]],
    )
    second = table(
        "e_versions",
        "x:input:string y:output:string",
        ["R1", "-", "b"],
        meta=[["Effective from", "2025-06-30"]],
    )
    return {"e_versions.xlsx": {"V1": first, "V2": second}}


def band_with_tests(
    name: str, header: list[str], kinds: list[str], *cases: list[Any]
) -> Books:
    band = table(
        name,
        "age:input:integer band:output:string",
        ["R1", "< 18", "child"],
        ["R2", "-", "adult"],
        policy="F",
        values=["[0..130]", "child, adult"],
    )
    return {
        f"{name}.xlsx": {"S": band, "T": sheet_of_tests(name, header, kinds, *cases)}
    }


def case(
    name: str, books: Books, where: Where, hint: bool = False, xfail: str = ""
) -> Any:
    """An error case: WHERE is (file, sheet, cell or None for any cell); HINT: the
    diagnostic must say what would be valid; XFAIL: how the tool disagrees."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(books, where, hint, id=name, marks=marks)


# Rows of `one(...)`: 1 Decision table, 2 blank, 3 Rule, 4 Kind, 5 Type, 6 Default,
# 7 R1;
# a Hit policy or a Values row moves the rules one row down.
ERROR_CASES = [
    case(
        "table_name_not_snake_case",
        {"e_name.xlsx": {"S": table("Age band", INT_TABLE, ["R1", "-", "a"])}},
        ("e_name.xlsx", "S", "B1"),
    ),
    case(
        "table_name_used_twice",
        {"e_dup_a.xlsx": {"S": base("e_dup")}, "e_dup_b.xlsx": {"S": base("e_dup")}},
        (("e_dup_a.xlsx", "e_dup_b.xlsx"), "S", "B1"),
    ),
    case(
        "unknown_hit_policy",
        one("e_policy", ["R1", "-", "a"], policy="SOMETIMES"),
        ("e_policy.xlsx", "S", "B2"),
        hint=True,
    ),
    case(
        "column_name_twice",
        {"e_col2.xlsx": {"S": with_rows(base("e_col2"), Rule=["Rule", "x", "x"])}},
        ("e_col2.xlsx", "S", "C3"),
    ),
    case(
        "column_name_not_an_identifier",
        {
            "e_colname.xlsx": {
                "S": with_rows(base("e_colname"), Rule=["Rule", "Age years", "y"])
            }
        },
        ("e_colname.xlsx", "S", "B3"),
        hint=True,
    ),
    case(
        "kind_row_missing",
        {"e_nokind.xlsx": {"S": with_rows(base("e_nokind"), Kind=[])}},
        ("e_nokind.xlsx", "S", None),
    ),
    case(
        "type_row_missing",
        {"e_notype.xlsx": {"S": with_rows(base("e_notype"), Type=[])}},
        ("e_notype.xlsx", "S", None),
    ),
    case(
        "unknown_kind",
        {
            "e_kind.xlsx": {
                "S": with_rows(base("e_kind"), Kind=["Kind", "inptu", "output"])
            }
        },
        ("e_kind.xlsx", "S", "B4"),
        hint=True,
    ),
    case(
        "unknown_type",
        {
            "e_type.xlsx": {
                "S": with_rows(base("e_type"), Type=["Type", "text", "string"])
            }
        },
        ("e_type.xlsx", "S", "B5"),
        hint=True,
    ),
    case(
        "default_on_an_input",
        {
            "e_default.xlsx": {
                "S": table("e_default", INT_TABLE, ["R1", "-", "a"], default=[3, "b"])
            }
        },
        ("e_default.xlsx", "S", "B6"),
    ),
    case(
        "rule_id_twice",
        one("e_ruleid", ["R1", "< 5", "a"], ["R1", "-", "b"], policy="FIRST"),
        ("e_ruleid.xlsx", "S", "A9"),
    ),
    case(
        "rule_value_outside_values",
        one(
            "e_outside",
            ["R1", "MRl", "a"],
            columns="m:input:string y:output:string",
            values=["CT, MRI", None],
        ),
        ("e_outside.xlsx", "S", "B8"),
        hint=True,
    ),
    case(
        "output_not_of_its_type",
        {
            "e_out.xlsx": {
                "S": table(
                    "e_out", "x:input:string y:output:integer", ["R1", "-", "abc"]
                )
            }
        },
        ("e_out.xlsx", "S", "C6"),
        hint=True,
    ),
    case(
        "invalid_comparison",
        one("e_cmp", ["R1", ">> 5", "a"]),
        ("e_cmp.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "unclosed_range",
        one("e_range", ["R1", "[1..5", "a"]),
        ("e_range.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "not_a_boolean",
        one("e_bool", ["R1", "maybe", "a"], columns="b:input:boolean y:output:string"),
        ("e_bool.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "not_a_date",
        one("e_date", ["R1", "yesterday", "a"], columns="d:input:date y:output:string"),
        ("e_date.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "not_a_calendar_date",
        one(
            "e_date2", ["R1", "2025-02-30", "a"], columns="d:input:date y:output:string"
        ),
        ("e_date2.xlsx", "S", "B7"),
    ),
    case(
        "unbalanced_quotes",
        one("e_quote", ["R1", '"MRI', "a"], columns="m:input:string y:output:string"),
        ("e_quote.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "comparison_on_a_string",
        one("e_strcmp", ["R1", '< "M"', "a"], columns="m:input:string y:output:string"),
        ("e_strcmp.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "range_on_a_string",
        one(
            "e_strrange",
            ["R1", "[a..b]", "a"],
            columns="m:input:string y:output:string",
        ),
        ("e_strrange.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "code_range_ends_of_different_length",
        one(
            "e_coderange",
            ["R1", "[7045..70498]", "a"],
            columns="c:input:code y:output:string",
        ),
        ("e_coderange.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "fraction_in_an_integer_column",
        one("e_frac", ["R1", "2.5", "a"]),
        ("e_frac.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "formula_without_cached_value",
        one("e_formula", ["R1", "=1+1", "a"]),
        ("e_formula.xlsx", "S", "B7"),
        hint=True,
    ),
    case(
        "effective_from_not_a_date",
        {
            "e_eff.xlsx": {
                "S": table(
                    "e_eff",
                    INT_TABLE,
                    ["R1", "-", "a"],
                    meta=[["Effective from", "soon"]],
                )
            }
        },
        ("e_eff.xlsx", "S", "B2"),
        hint=True,
    ),
    case(
        "versions_overlap",
        versions_overlapping(),
        ("e_versions.xlsx", "V2", "B2"),
    ),
    case(
        "from_an_unknown_table",
        {
            "e_from.xlsx": {
                "S": table(
                    "e_from", "band:from_bnd:string y:output:string", ["R1", "-", "a"]
                )
            }
        },
        ("e_from.xlsx", "S", "B4"),
    ),
    case(
        "tables_requiring_each_other",
        {
            "e_cycle.xlsx": {
                "A": table(
                    "e_cycle_a",
                    "e_cycle_b:from_e_cycle_b:string e_cycle_a:output:string",
                    ["R1", "-", "p"],
                ),
                "B": table(
                    "e_cycle_b",
                    "e_cycle_a:from_e_cycle_a:string e_cycle_b:output:string",
                    ["R1", "-", "q"],
                ),
            }
        },
        ("e_cycle.xlsx", ("A", "B"), None),
    ),
    case(
        "unique_overlap",
        one("e_unique", ["R1", "[0..10]", "a"], ["R2", "[5..20]", "b"]),
        ("e_unique.xlsx", "S", None),
    ),
    case(
        "any_conflict",
        one("e_any", ["R1", "[0..10]", "a"], ["R2", "[5..20]", "b"], policy="ANY"),
        ("e_any.xlsx", "S", None),
    ),
    case(
        "tests_sheet_names_an_unknown_table",
        {
            "e_tt.xlsx": {
                "S": base("e_tt"),
                "T": sheet_of_tests(
                    "e_tx", ["x", "y"], ["input", "expected"], ["T1", 1, "yes"]
                ),
            }
        },
        ("e_tt.xlsx", "T", "B1"),
    ),
    case(
        "test_input_is_a_unary_test_not_a_value",
        band_with_tests(
            "e_tin", ["age", "band"], ["input", "expected"], ["T1", "< 18", "child"]
        ),
        ("e_tin.xlsx", "T", "B5"),
    ),
    case(
        "test_input_outside_values",
        band_with_tests(
            "e_tval", ["age", "band"], ["input", "expected"], ["T1", 200, "adult"]
        ),
        ("e_tval.xlsx", "T", "B5"),
    ),
    case(
        "test_expected_outside_values",
        band_with_tests(
            "e_texp", ["age", "band"], ["input", "expected"], ["T1", 5, "kid"]
        ),
        ("e_texp.xlsx", "T", "C5"),
    ),
    case(
        "test_expected_rule_unknown",
        band_with_tests(
            "e_trule",
            ["age", "band", "expected rule"],
            ["input", "expected", "expected rule"],
            ["T1", 5, "child", "R7"],
        ),
        ("e_trule.xlsx", "T", "D5"),
    ),
]


@pytest.mark.parametrize(("books", "where", "needs_hint"), ERROR_CASES)
def test_error_names_file_sheet_and_cell(tmp_path, books, where, needs_hint):
    """Contract: "Anything else is an error that names the workbook, sheet and cell
    (`imaging.xlsx!CT contrast!C14`) and says what would be valid." -- and the other
    errors the contract names: identifiers, unique names and ids, required Kind/Type
    rows, values outside Values, formulas without a cached value, overlapping versions,
    UNIQUE/ANY overlaps. An error means no files (`Compilation.files is None`)."""
    compilation = diagnose(tmp_path, books)
    found = find(compilation, *where)
    assert compilation.files is None
    if needs_hint:  # "says what would be valid"
        assert found.hint, text_of(found)


STATIC_ANALYSIS = {"unique_overlap", "any_conflict"}  # run once the tables are valid


def test_cli_errors_exit_3_write_nothing_and_name_each_cell(tmp_path):
    """README: "3 | invalid tables or an unreadable workbook ... (nothing is written)";
    "No user error prints a traceback." Every error case above in one tables/ folder,
    plus a file that is not a workbook, through `compile`; the UNIQUE/ANY cases in a
    folder of their own (the static analysis runs on valid tables)."""
    invalid, analysed = tmp_path / "invalid", tmp_path / "analysed"
    expected: dict[Path, list[re.Pattern[str]]] = {invalid: [], analysed: []}
    for param in ERROR_CASES:
        books, where, _ = param.values
        root = analysed if param.id in STATIC_ANALYSIS else invalid
        write_books(root, books)
        if not param.marks:
            expected[root].append(location_pattern(*where))
    (invalid / "tables" / "unreadable.xlsx").write_bytes(
        b"name,value\nnot,a workbook\n"
    )
    runs = [(invalid, "compile"), (analysed, "compile")]
    results = run_cli(
        *(
            [command, "--tables", root / "tables", "--out", root / command]
            for root, command in runs
        )
    )
    for (root, command), done in zip(runs, results, strict=True):
        lines = (done.stdout + done.stderr).splitlines()
        assert done.returncode == 3, (command, lines)
        assert not [line for line in lines if "Traceback" in line]
        assert not (root / command).exists()
        if root is invalid:
            assert any(re.search(r"unreadable\.xlsx\b.*\berror\b", x) for x in lines)
        missing = [
            p.pattern
            for p in expected[root]
            if not any(p.search(x) and "error" in x for x in lines)
        ]
        assert not missing, (command, missing, lines)
