"""No cell text can become code: it reaches the generated package only as the literal of
a parsed, typed value, or as a validated identifier.

Hypothesis puts arbitrary Unicode (quotes, triple quotes, backslashes, newlines and
carriage returns, template syntax, bidirectional overrides, zero-width and control
characters) into every free-text place of a workbook: string and code outputs,
Defaults, Values entries and the name of a Values list, rule ids, annotations and an
annotation column's name, the title and source, test case ids and notes, sheet names
and the workbook's file name. Each generated module must compile, may use no name,
import, call or attribute that the same tables with plain text do not use, must show
no invisible or reordering character, and every string must come back from the
generated evaluator exactly, or as the cell grammar normalises it (`hostile.inner`
inside quotes, `hostile.free` for free text).

Two routes: in memory (RawSheets straight into the pipeline, so that any character
at all reaches the compiler, carriage returns and lone surrogates included), and
through a real .xlsx file written by openpyxl (which refuses C0 controls, and whose
XML turns CR and CR LF into LF: see `hostile.xml_safe`, `hostile.xml_newlines`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from compiler.diagnostics import Location
from compiler.emitting.loader import load_table, sibling
from compiler.pipeline import Compilation, compile_tables
from compiler.reading.workbook import RawSheet, RawWorkbook

from .hostile import (
    examples,
    free,
    hostile_text,
    inner,
    package_inventory,
    printable_source,
    quoted,
    xml_newlines,
    xml_safe,
)
from .workbooks import Row

SLOW = settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
LABELS = {"rule", "kind", "type", "values", "default", "case", "name"}


@dataclass(frozen=True)
class Fixture:
    """The free text of one workbook: a COLLECT table `t`, its Tests and a Values list.
    Rule i matches input value i and gives output i and code i."""

    file: str
    titles: tuple[str, str, str]  # the sheets: table, tests, values
    title: str
    source: str
    list_name: str
    note_header: str
    default: str
    values: tuple[str, ...]
    outputs: tuple[str, ...]
    codes: tuple[str, ...]
    rule_ids: tuple[str, ...]
    notes: tuple[str, ...]
    case_ids: tuple[str, ...]
    case_notes: tuple[str, ...]

    def sheets(self) -> dict[str, list[Row]]:
        n = len(self.values)
        table: list[Row] = [
            ["Decision table", "t"],
            ["Hit policy", "COLLECT"],
            ["Title", self.title],
            ["Source", self.source],
            ["Complete", "no"],
            [],
            ["Rule", "a", "o", "c", self.note_header],
            ["Kind", "input", "output", "output", "annotation"],
            ["Type", "string", "string", "code"],
            ["Values", self.list_name],
            ["Default", None, quoted(self.default), quoted(self.default)],
        ]
        table += [
            [
                self.rule_ids[i],
                quoted(self.values[i]),
                quoted(self.outputs[i]),
                quoted(self.codes[i]),
                self.notes[i],
            ]
            for i in range(n)
        ]
        tests: list[Row] = [
            ["Tests", "t"],
            [],
            ["Case", "a", "o", "c", "expected rule", "why"],
            ["Kind", "input", "expected", "expected", "expected rule", "annotation"],
        ]
        tests += [
            [
                self.case_ids[i],
                quoted(self.values[i]),
                quoted(self.outputs[i]),
                quoted(self.codes[i]),
                quoted(free(self.rule_ids[i])),
                self.case_notes[i],
            ]
            for i in range(n)
        ]
        values: list[Row] = [
            ["Values"],
            ["Name", "Values"],
            [self.list_name, ", ".join(quoted(v) for v in self.values)],
        ]
        return dict(zip(self.titles, (table, tests, values), strict=True))

    def mapped(self, change: Callable[[str], str]) -> Fixture:
        """This fixture with every text passed through CHANGE (sheet names and the
        file name are not cell text, and stay)."""
        fields: dict[str, Any] = {}
        for name in ("title", "source", "list_name", "note_header", "default"):
            fields[name] = change(getattr(self, name))
        for name in ("values", "outputs", "codes", "rule_ids", "notes", "case_ids"):
            fields[name] = tuple(change(v) for v in getattr(self, name))
        fields["case_notes"] = tuple(change(v) for v in self.case_notes)
        return replace(self, **fields)

    def plain(self) -> Fixture:
        """The same shape with harmless text: the code it gives is the reference."""
        n = len(self.values)
        return Fixture(
            file="plain.xlsx",
            titles=("T", "Tests", "Lists"),
            title="Title",
            source="Source",
            list_name="kinds",
            note_header="note",
            default="none",
            values=tuple(f"v{i}" for i in range(n)),
            outputs=tuple(f"o{i}" for i in range(n)),
            codes=tuple(f"C{i}" for i in range(n)),
            rule_ids=tuple(f"R{i}" for i in range(n)),
            notes=tuple(f"note {i}" for i in range(n)),
            case_ids=tuple(f"T{i}" for i in range(n)),
            case_notes=tuple(f"why {i}" for i in range(n)),
        )


def _distinct(texts: list[str], key: Callable[[str], str]) -> bool:
    keys = [key(t) for t in texts]
    return len(set(keys)) == len(keys)


def _id_ok(text: str) -> bool:
    shown = free(text)
    return bool(shown) and shown.lower() not in LABELS


@st.composite
def fixtures(
    draw: st.DrawFn,
    *,
    xml: bool,
    sheet_title: st.SearchStrategy[str],
    file_name: st.SearchStrategy[str],
) -> Fixture:
    n = draw(st.integers(1, 3))
    text = hostile_text(xml=xml)

    def texts(
        ok: Callable[[str], bool] = lambda _: True,
        key: Callable[[str], str] | None = None,
    ) -> tuple[str, ...]:
        items = st.lists(text.filter(ok), min_size=n, max_size=n)
        if key is not None:
            items = items.filter(lambda xs: _distinct(xs, key))
        return tuple(draw(items))

    titles = draw(st.lists(sheet_title, min_size=3, max_size=3, unique_by=str.casefold))
    return Fixture(
        file=draw(file_name),
        titles=(titles[0], titles[1], titles[2]),
        title=draw(text),
        source=draw(text),
        list_name=draw(text.filter(lambda t: bool(free(t)))),
        note_header=draw(
            text.filter(lambda t: bool(free(t)) and free(t) not in ("a", "o", "c"))
        ),
        default=draw(text),
        values=texts(key=inner),
        outputs=texts(),
        codes=texts(),
        rule_ids=texts(_id_ok, key=free),
        notes=texts(),
        case_ids=texts(_id_ok, key=free),
        case_notes=texts(),
    )


# -- compiling ---------------------------------------------------------------------------


def compile_in_memory(fixture: Fixture, root: Path) -> Compilation:
    """Compile FIXTURE's sheets handed to the pipeline as RawSheets, as the reader
    would return them (strings of only space, tab, CR and LF are empty cells)."""
    path = f"tables/{fixture.file}"
    sheets = []
    for title, rows in fixture.sheets().items():
        cells = {
            (r, c): value
            for r, row in enumerate(rows, start=1)
            for c, value in enumerate(row, start=1)
            if value is not None
            and not (isinstance(value, str) and not value.strip(" \t\r\n"))
        }
        location = Location(path, title)
        sheets.append(RawSheet(title, location, cells, {}, (), {}, {}))
    tables = root / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    (tables / "book.xlsx").touch()
    return compile_tables(
        tables, read=lambda file, shown: RawWorkbook(path, tuple(sheets))
    )


def compile_file(fixture: Fixture, root: Path) -> Compilation:
    """Compile FIXTURE written as a real .xlsx file by openpyxl."""
    tables = root / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, rows in fixture.sheets().items():
        ws = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    cell = ws.cell(row=r, column=c, value=value)
                    cell.data_type = "s"  # text, even when it starts with "="
    book.save(tables / fixture.file)
    return compile_tables(tables)


# -- checking ------------------------------------------------------------------------------


def check(
    compilation: Compilation, fixture: Fixture, reference: set[str], shown: Fixture
) -> None:
    """COMPILATION of FIXTURE is safe and exact. SHOWN is FIXTURE as the compiler
    sees it (after what the file format does to text); REFERENCE is the code
    inventory of the same tables with plain text."""
    report = "\n".join(d.format() for d in compilation.diagnostics)
    assert compilation.files is not None, report
    files = compilation.files
    for name, source in files.items():
        if not name.endswith(".py"):
            continue
        compile(source, name, "exec")
        assert not printable_source(source), (name, printable_source(source))
    extra = package_inventory(files) - reference
    assert not extra, f"the hostile tables generate code the plain ones do not: {extra}"
    workbook = f"tables/{fixture.file}"
    module = load_table(files, "t")
    package = sibling(module, "")
    assert package.WORKBOOKS == (workbook,)
    assert (module.WORKBOOK, module.TITLE, module.SOURCE) == (
        workbook,
        free(shown.title),
        free(shown.source),
    )
    first = 12
    assert [tuple(r) for r in module.RULES] == [
        (
            free(shown.rule_ids[i]),
            f"{workbook}:{fixture.titles[0]}!A{first + i}:E{first + i}",
            (free(shown.notes[i]),),
        )
        for i in range(len(shown.values))
    ]
    for i, value in enumerate(shown.values):
        result = module.evaluate(a=inner(value))
        assert [tuple(o) for o in result.outputs] == [
            (inner(shown.outputs[i]), inner(shown.codes[i]))
        ]
        assert result.matched == (free(shown.rule_ids[i]),)
    none = module.evaluate(a=None)
    assert [tuple(o) for o in none.outputs] == [(inner(shown.default),) * 2]
    check_tests_module(files["tests/test_t.py"], shown, workbook, fixture.titles[1])


def check_tests_module(source: str, shown: Fixture, workbook: str, sheet: str) -> None:
    """The generated test cases carry the ids, inputs and expectations exactly."""
    tree = ast.parse(source)
    assert ast.get_docstring(tree, clean=False) == (
        f"The cases of the Tests sheet {f'{workbook}:{sheet}'!r} for the table `t`."
    )
    assigned = {
        t.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert ast.literal_eval(assigned["SHEET"]) == f"{workbook}:{sheet}"
    cases = assigned["CASES"]
    assert isinstance(cases, ast.List)
    found = []
    for call in cases.elts:
        assert isinstance(call, ast.Call) and ast.unparse(call.func) == "pytest.param"
        args = [ast.literal_eval(a) for a in call.args]
        keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        found.append((keywords["id"], *args))
    assert found == [
        (
            free(shown.case_ids[i]),
            {"a": inner(shown.values[i])},
            None,
            {"o": (inner(shown.outputs[i]),), "c": (inner(shown.codes[i]),)},
            (free(shown.rule_ids[i]),),
            {"o": f"C{5 + i}", "c": f"D{5 + i}", "expected rule": f"E{5 + i}"},
        )
        for i in range(len(shown.values))
    ]


_REFERENCES: dict[int, set[str]] = {}


def reference(fixture: Fixture, root: Path) -> set[str]:
    """The code inventory of FIXTURE's shape with plain text (cached per shape)."""
    n = len(fixture.values)
    if n not in _REFERENCES:
        compilation = compile_in_memory(fixture.plain(), root / f"plain{n}")
        assert compilation.files is not None
        _REFERENCES[n] = package_inventory(compilation.files)
    return _REFERENCES[n]


# -- the properties ------------------------------------------------------------------------

NASTY = Fixture(
    file='we"""+print(1)+"""b\\x.xlsx',
    titles=('s"""x', "T'''\u202e", "{{ v }}"),
    title='"""\nimport os\n"""',
    source="\\N{BULLET} {% raw %}\r\n\u2066x\u2069",
    list_name="\u200bkinds\u00a0",
    note_header="note \u201cq\u201d",
    default="\\",
    values=('"', "'''", '\u201c"\\"\u201d'),
    outputs=("\r\n\x00\x1b[31m", "\u2028\u2029\x85", "{{ 7*7 }}"),
    codes=('\\"', "0042", "M54.*"),
    rule_ids=('R"""1', "R\\2", "R\u202e3"),
    notes=("# comment\n)", '"""', "\ufeff"),
    case_ids=("T\n1", "T'2", 'T"3'),
    case_notes=("", " ", "\t"),
)


@given(
    fixture=fixtures(
        xml=False,
        sheet_title=hostile_text(max_pieces=3).filter(bool),
        file_name=hostile_text().map(lambda s: f"{s}.xlsx"),
    )
)
@example(fixture=NASTY)
@SLOW
def test_hostile_text_in_memory(fixture: Fixture, tmp_path_factory: Any) -> None:
    root = tmp_path_factory.mktemp("inj")
    check(compile_in_memory(fixture, root), fixture, reference(fixture, root), fixture)


def _sheet_title_ok(title: str) -> bool:
    return (
        0 < len(title) <= 31
        and not any(ch in "[]:*?/\\" for ch in title)
        and all(xml_safe(ch) for ch in title)
    )


def _file_name(text: str) -> str:
    cleaned = "".join(ch for ch in text if ch not in "/\x00" and xml_safe(ch)).lstrip(
        ".~$"
    )
    while len(cleaned.encode()) > 200:
        cleaned = cleaned[:-1]
    return f"{cleaned}.xlsx"


def _through_xml(text: str) -> str:
    return xml_newlines(text)


XML_NASTY = replace(
    NASTY.mapped(lambda t: "".join(ch for ch in t if xml_safe(ch))),
    file=_file_name(NASTY.file),
)


@given(
    fixture=fixtures(
        xml=True,
        sheet_title=hostile_text(xml=True, max_pieces=3).filter(_sheet_title_ok),
        file_name=hostile_text(xml=True).map(_file_name),
    )
)
@example(fixture=XML_NASTY)
@SLOW
def test_hostile_text_through_a_workbook_file(
    fixture: Fixture, tmp_path_factory: Any
) -> None:
    root = tmp_path_factory.mktemp("inj")
    shown = fixture.mapped(_through_xml)
    check(compile_file(fixture, root), fixture, reference(fixture, root), shown)


def test_the_nasty_example_is_really_nasty() -> None:
    """Guard the explicit example: it holds the pieces a naive generator trips on."""
    text = repr(NASTY)
    for piece in (
        '"""',
        "'''",
        "\\n",
        "\\r",
        "{{",
        "{%",
        "\\u202e",
        "\\u2066",
        "\\ufeff",
    ):
        assert piece in text
