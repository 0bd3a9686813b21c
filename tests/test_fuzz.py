"""Fuzzing: any input gives a value or a diagnostic, never another exception.

Targets: the cell grammar (every parser, every type, arbitrary text and arbitrary
Excel cell values), the workbook reader on mutated and truncated bytes of a valid
workbook (the archive, and the XML inside it), and the compiler as a whole on random
sheets (read, build, validate, analyse, generate, and the generated code compiles).

The suite runs a few hundred examples of each; `python bench/fuzz.py` runs them for
as long as asked, with Hypothesis or, when installed, atheris (see its docstring).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import types
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from compiler.checking import analyse, validate
from compiler.diagnostics import CellError, Diagnostic, Location, has_errors
from compiler.emitting import codegen
from compiler.emitting.literals import py_literal
from compiler.model import Compare, DataType, Equals, Interval, Prefix, UnaryTests
from compiler.reading import cells, sheets
from compiler.reading.workbook import RawSheet, RawWorkbook, read_workbook

from .hostile import examples, inline_cell, sheet_xml, text_row, xlsx

FUZZ = settings(
    max_examples=examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- the cell grammar ----------------------------------------------------------------------

TOKENS = (
    "<", "<=", ">", ">=", "=", "[", "]", "(", ")", "..", ".", ",", "-", "+", "*",
    "not(", "not ", "null", "true", "FALSE", "date(", '"', "'", "\\", " ", "\u00a0",
    "\u201c", "\u201d", "\u200b", "\n", "2025-12-18", "2025-02-30", "12/31/2025",
    "0", "18", "-5", "1e999", "1e-999", "9" * 30, "29.9", ".5", "5.", "1_0", "0x1",
    "١٢", "inf", "nan", "M54", "0042T", "70450", "CT", "MRI", "e", "E",
)  # fmt: skip
RAW_TEXT = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=8).map("".join),
    st.text(max_size=20),
)
RAW_VALUE: st.SearchStrategy[Any] = st.one_of(
    RAW_TEXT,
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
TYPES = st.sampled_from(list(DataType))
CELL = st.one_of(st.none(), RAW_VALUE)


def as_code(value: object) -> object:
    """VALUE written by the code generator, then evaluated back."""
    names = {"date": dt.date, "datetime": dt.datetime, "time": dt.time}
    return eval(
        py_literal(value), {"__builtins__": {}, "timedelta": dt.timedelta, **names}
    )


def check_value(value: object, type_: DataType) -> None:
    """A parsed value is of its column's type, finite, and survives code generation."""
    if value is None:
        return
    expected: tuple[type, ...] = {
        DataType.STRING: (str,),
        DataType.CODE: (str,),
        DataType.INTEGER: (int,),
        DataType.NUMBER: (float,),
        DataType.BOOLEAN: (bool,),
        DataType.DATE: (dt.date,),
        DataType.DURATION: (dt.timedelta,),  # version 2: the time types
        DataType.TIME: (dt.time,),
        DataType.DATETIME: (dt.datetime,),
    }[type_]
    assert type(value) in expected, (value, type_)
    if isinstance(value, float):
        assert math.isfinite(value)
    back = as_code(value)
    assert back == value and type(back) is type(value)


def check_tests(tests: UnaryTests, type_: DataType) -> None:
    for test in tests.tests:
        if isinstance(test, Equals):
            check_value(test.value, type_)
        elif isinstance(test, Compare):
            check_value(test.value, type_)
        elif isinstance(test, Interval):
            check_value(test.low, type_)
            check_value(test.high, type_)
        else:
            assert isinstance(test, Prefix) and type_ is DataType.CODE
        for probe in (None, 0, 1.5, "CT", True, dt.date(2025, 1, 1)):
            cells.test_matches(test, probe)


def check_cell(raw: Any, type_: DataType) -> None:
    """Every parser returns a sound value for RAW or raises CellError."""
    for parse in (cells.parse_unary_tests, cells.parse_values):
        try:
            check_tests(parse(raw, type_), type_)
        except CellError:
            pass
    try:
        check_value(cells.parse_literal(raw, type_), type_)
    except CellError:
        pass
    try:
        for value in cells.parse_literal_list(raw, type_):
            check_value(value, type_)
    except CellError:
        pass
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        for fmt in ("", "General", "0000", "0.00", "@", '"x"0'):
            cells.code_text(raw, fmt)


@given(raw=RAW_VALUE, type_=TYPES)
@FUZZ
def test_cell_parsers(raw: Any, type_: DataType) -> None:
    check_cell(raw, type_)


def test_cell_parsers_regressions() -> None:
    """Inputs the fuzzer found: infinities reached the code as `inf` (a NameError on
    import) and the analysis (OverflowError); 5,000 digits overflowed int()."""
    for raw in ("1e999", "-1e999", "9" * 5000, 10**400, "< 1e999", "[0..1e999]"):
        for type_ in DataType:
            check_cell(raw, type_)


# -- the workbook reader -------------------------------------------------------------------


def base_workbook() -> bytes:
    """A valid workbook using what the reader handles: shared strings, numbers, a
    formula with a cached value, a merged range, a date, an error cell."""
    strings = ["Decision table", "t", "Rule", "a", "b", "Kind", "input", "output"]
    shared = "".join(f"<si><t>{s}</t></si>" for s in strings)
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3" t="s"><v>3</v></c>'
        '<c r="C3" t="s"><v>4</v></c></row>'
        '<row r="4"><c r="A4" t="s"><v>5</v></c><c r="B4" t="s"><v>6</v></c>'
        '<c r="C4" t="s"><v>7</v></c></row>'
        f"{text_row(5, 'Type', 'integer', 'date')}"
        f'<row r="6">{inline_cell("A6", "R1")}<c r="B6"><f>1+1</f><v>2</v></c>'
        '<c r="C6" s="1"><v>45000</v></c><c r="D6" t="e"><v>#N/A</v></c></row>'
    )
    sheet = sheet_xml(rows).replace(
        "</sheetData>", '</sheetData><mergeCells><mergeCell ref="E1:F2"/></mergeCells>'
    )
    sst = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{shared}</sst>"
    )
    styles = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
        'borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" '
        'fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" '
        'borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>'
    )
    return xlsx(
        sheet,
        extra=[
            ("xl/sharedStrings.xml", sst.encode()),
            ("xl/styles.xml", styles.encode()),
        ],
    )


BASE = base_workbook()
XML_TOKENS = (
    "<", ">", "/>", "</c>", "&", "&amp;", "&#0;", "&#x110000;", "]]>", "<![CDATA[",
    "<!DOCTYPE x>", "<!--", '"', "'", "=", ' r="A0"', ' r="XFD1048577"', ' r="ZZZZ1"',
    ' t="s"', ' t="b"', ' t="d"', ' t="e"', ' t="n"', ' t="str"', ' s="99"', "<v>",
    "</v>", "<v>99999999</v>", "<v>1e999</v>", "<v>-</v>", "<f>", "\x00", "\xff",
    '<mergeCell ref="A1:A1"/>', '<row r="0">', '<row r="-1">',
)  # fmt: skip


_VALUES = re.compile(r'="([^"]*)"|>([^<]+)<')
VALUE_TOKENS = (
    "", "0", "-1", "1048577", "A0", "XFD1048577", "ZZZZ1", "A1:XFD1048576", "A:A",
    "s", "b", "d", "e", "n", "str", "inlineStr", "99", "1e999", "nan", "2025-13-45",
    "#DIV/0!", "rId9", "../../etc/passwd", "/xl/worksheets/sheet1.xml", "hidden",
    "veryHidden", "=1+1", "true", "1", "General", "0000", "yyyy-mm-dd", "9" * 40,
)  # fmt: skip


def _escape(text: str) -> str:
    return (
        "".join(
            ch
            for ch in text
            if ch in "\t\n\r" or " " <= ch < "\ud800" or "\ue000" <= ch < "\ufffe"
        )
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
    )


@st.composite
def mutated_archives(draw: st.DrawFn) -> bytes:
    """BASE with its bytes mutated, or one of its XML parts mutated and zipped again."""
    if draw(st.integers(0, 3)) == 0:  # the archive's bytes
        data = bytearray(BASE)
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            if kind == "truncate":
                del data[at:]
            elif kind == "flip" and data:
                data[at] ^= draw(st.integers(1, 255))
            elif kind == "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=16))
            else:
                del data[at : at + draw(st.integers(1, 64))]
        return bytes(data)
    with zipfile.ZipFile(io.BytesIO(BASE)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    name = draw(st.sampled_from([sheet, sheet, sheet, "xl/sharedStrings.xml", *parts]))
    text = parts[name].decode()
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.integers(0, 3)) == 0:  # anywhere: mostly breaks the XML
            at = draw(st.integers(0, len(text)))
            cut = draw(st.integers(0, 8))
            piece = draw(st.one_of(st.sampled_from(XML_TOKENS), st.text(max_size=4)))
            text = text[:at] + piece + text[at + cut :]
            continue
        # an attribute value or a text node: stays well-formed, says odd things
        prolog = text.find("?>")
        spans = [
            m.span(1 if m.group(1) is not None else 2)
            for m in _VALUES.finditer(text)
            if m.start() > prolog and "xmlns" not in text[m.start() - 12 : m.start()]
        ]
        if spans:
            start, end = draw(st.sampled_from(spans))
            value = draw(st.one_of(st.sampled_from(VALUE_TOKENS), RAW_TEXT))
            text = text[:start] + _escape(value) + text[end:]
    parts[name] = text.encode("utf-8", "surrogatepass")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for part, content in parts.items():
            target.writestr(part, content)
    return buffer.getvalue()


def check_workbook(data: bytes, folder: Path) -> None:
    """The reader gives sheets or a diagnostic; the sheets then build and validate."""
    path = folder / "fuzz.xlsx"
    path.write_bytes(data)
    result = read_workbook(path, "tables/fuzz.xlsx")
    if isinstance(result, Diagnostic):
        assert result.code == "E001" and result.message
        event(f"refused: {result.message.split(':')[0][:40]}")
        return
    assert isinstance(result, RawWorkbook)
    project, found = sheets.build_project([result])
    event("read, built" + ("" if has_errors(found) else ", validated"))
    if not has_errors(found):
        validate.validate(project)


def test_the_base_workbook_is_read() -> None:
    """The mutations start from a workbook the reader accepts, formula and all."""
    result = read_workbook(_write_base(), "base")
    assert isinstance(result, RawWorkbook)
    sheet = result.sheets[0]
    assert sheet.value(1, 1) == "Decision table" and sheet.formulas == {(6, 2): True}
    assert sheet.value(6, 3) == dt.datetime(2023, 3, 15) and sheet.merged == ("E1:F2",)


def _write_base() -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "base.xlsx"
    path.write_bytes(BASE)
    return path


@given(data=mutated_archives())
@FUZZ
def test_workbook_reader(data: bytes, tmp_path_factory: Any) -> None:
    check_workbook(data, tmp_path_factory.mktemp("fuzz"))


# -- the whole compiler ---------------------------------------------------------------------

KINDS = st.sampled_from(
    ["input"] * 12 + ["output"] * 6 + ["annotation", "from t0", "from t1", "inptu"]
)
TYPE_NAMES = st.sampled_from(
    ["string", "code", "integer", "number", "boolean", "date"] * 6 + ["kinds", "str"]
)
POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "C+", "C<", "C>", "C#",
            "RULE ORDER", "OUTPUT ORDER", "FIRST", "FIRST", "COLLECT", "X")  # fmt: skip
WORDS = ("CT", "MRI", "a", "b", '"x, y"', "M54", "M54.*", "0042T", "70450")
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.sampled_from(WORDS),
    "code": st.sampled_from(WORDS + ("[70450..70498]", "M5*")),
    "integer": st.one_of(st.integers(-3, 140), st.sampled_from(["18", "-0", "1e2"])),
    "number": st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from(["29.9", ".5", "1e-300"])
    ),
    "boolean": st.one_of(st.booleans(), st.sampled_from(["true", "FALSE"])),
    "date": st.one_of(
        st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)),
        st.sampled_from(["2025-12-18", 'date("2024-02-29")']),
    ),
}


@st.composite
def literals(draw: st.DrawFn, type_name: str) -> Any:
    """An output cell or a Default: a value, null, or once in a while anything."""
    choice = draw(st.integers(0, 39))
    if choice == 0:
        return draw(CELL)
    if choice == 1:
        return "null"
    return draw(VALUES.get(type_name, VALUES["string"]))


@st.composite
def value_lists(draw: st.DrawFn, type_name: str) -> Any:
    """A Values cell: a list of values, or a range for ordered types."""
    values = VALUES.get(type_name, VALUES["string"])
    if type_name in ("integer", "number", "date", "code") and draw(st.booleans()):
        low, high = sorted([draw(values), draw(values)], key=str)
        return f"[{low}..{high}]"
    items = draw(st.lists(values, min_size=1, max_size=4))
    return ", ".join(str(i) for i in items)


@st.composite
def entries(draw: st.DrawFn, type_name: str) -> Any:
    """A cell for a column of TYPE_NAME: mostly well-formed, sometimes anything."""
    values = VALUES.get(type_name, VALUES["string"])
    choice = draw(st.integers(0, 9))
    if choice == 0 and draw(st.integers(0, 3)) == 0:
        return draw(CELL)
    if choice == 1:
        return "-"
    if choice == 2:
        return "null"
    if choice in (3, 4) and type_name in ("integer", "number", "date"):
        op = draw(st.sampled_from(["<", "<=", ">", ">="]))
        return f"{op} {draw(values)}"
    if choice == 5 and type_name in ("integer", "number", "code"):
        low, high = sorted([draw(values), draw(values)], key=str)
        return f"[{low}..{high}]"
    if choice == 6:
        items = draw(st.lists(values, min_size=1, max_size=3))
        text = ", ".join(str(i) for i in items)
        return f"not({text})" if draw(st.booleans()) else text
    return draw(values)


@st.composite
def random_tables(draw: st.DrawFn) -> RawWorkbook:
    """One or two decision tables with random columns and cells, a Values list and a
    Tests sheet, laid out as the format page shows (so the reader gets far)."""
    sheets_: list[RawSheet] = []
    names = draw(st.lists(st.sampled_from(["t0", "t1"]), min_size=1, max_size=2))
    column_types: dict[str, list[str]] = {}
    for number, name in enumerate(names):
        width = draw(st.integers(1, 4))
        kinds = [*draw(st.lists(KINDS, min_size=width, max_size=width)), "output"]
        types_ = draw(st.lists(TYPE_NAMES, min_size=width + 1, max_size=width + 1))
        column_types[name] = types_
        rows: list[list[Any]] = [["Decision table", name]]
        rows.append(["Hit policy", draw(st.sampled_from(POLICIES))])
        if draw(st.booleans()):
            rows.append(["Complete", "no"])
        if draw(st.booleans()):
            rows.append(["Effective from", draw(literals("date"))])
        rows.append([])
        rows.append(["Rule", *(f"c{i}" for i in range(width)), "out"])
        rows.append(["Kind", *kinds])
        rows.append(["Type", *types_])
        if draw(st.booleans()):
            rows.append(
                [
                    "Values",
                    *(draw(st.one_of(st.none(), value_lists(t))) for t in types_),
                ]
            )
        if draw(st.booleans()):
            rows.append(["Default", *[None] * width, draw(literals(types_[-1]))])
        for r in range(draw(st.integers(0, 6))):
            cells_ = [
                draw(literals(t) if k == "output" else entries(t))
                for k, t in zip(kinds, types_, strict=True)
            ]
            rows.append([f"R{r}", *cells_])
        sheets_.append(_sheet(f"S{number}", rows))
    sheets_.append(
        _sheet("Lists", [["Values"], ["Name", "Values"], ["kinds", draw(CELL)]])
    )
    tested = draw(st.sampled_from(names))
    tests: list[list[Any]] = [
        ["Tests", tested],
        [],
        ["Case", "c0", "out", "expected rule", "as_of"],
    ]
    tests.append(["Kind", "input", "expected", "expected rule", "input"])
    first, last = column_types[tested][0], column_types[tested][-1]
    for r in range(draw(st.integers(0, 3))):
        rule = draw(st.sampled_from([None, "R0", "R1, R2"]))
        when = draw(st.one_of(st.none(), st.dates(dt.date(2020, 1, 1))))
        tests.append([f"T{r}", draw(literals(first)), draw(literals(last)), rule, when])
    sheets_.append(_sheet("Tests", tests))
    return RawWorkbook("tables/fuzz.xlsx", tuple(sheets_))


def _sheet(title: str, rows: list[list[Any]]) -> RawSheet:
    cells_ = {
        (r, c): value
        for r, row in enumerate(rows, start=1)
        for c, value in enumerate(row, start=1)
        if value is not None
        and not (isinstance(value, str) and not value.strip(" \t\r\n"))
    }
    return RawSheet(title, Location("tables/fuzz.xlsx", title), cells_, {}, (), {}, {})


def check_compiler(book: RawWorkbook) -> None:
    """Build, validate, analyse and generate (unformatted, to stay fast); the code
    must compile and import."""
    project, found = sheets.build_project([book])
    diagnostics = list(found)
    if has_errors(diagnostics):
        event("stopped after: build")
        return
    diagnostics += validate.validate(project)
    if has_errors(diagnostics):
        event("stopped after: validate")
        return
    diagnostics += analyse.analyse(project)
    if has_errors(diagnostics):
        event("stopped after: analyse")
        return
    event("generated")
    files = codegen.generate(project, formatted=False)
    for name, source in files.items():
        if name.endswith(".py"):
            compile(source, name, "exec")
    from compiler.emitting.loader import load_table

    for decision in project.decisions:
        module: types.ModuleType = load_table(files, decision.name)
        assert callable(module.evaluate)


@given(book=random_tables())
@settings(FUZZ, max_examples=examples(150))
def test_compiler(book: RawWorkbook) -> None:
    check_compiler(book)
