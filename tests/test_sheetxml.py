"""The scan's reading of plain sheets (`compiler/reading/sheetxml.py`) gives what
openpyxl's reading of the cells gives, cell for cell and type for type, or the same
diagnostic: for every shipped workbook, the workbooks the tests build, and random
sheets of every shape a cell can take (plain or not)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.diagnostics import Diagnostic
from compiler.reading import sheetxml, workbook
from tests import hostile
from tests.workbooks import decision_table, tests_sheet, write_workbook

ROOT = Path(__file__).resolve().parents[1]


def _typed(value: Any) -> tuple[str, str]:
    return type(value).__name__, repr(value)


def _reading(book: workbook.RawWorkbook | Diagnostic) -> object:
    """Everything the reader returns, with the type of every value (1 == True)."""
    if isinstance(book, Diagnostic):
        return repr(book)
    return [
        (
            s.title,
            s.location,
            sorted((k, _typed(v)) for k, v in s.cells.items()),
            sorted(s.number_formats.items()),
            s.merged,
            sorted(s.formulas.items()),
            sorted(s.errors.items()),
            s.hidden,
        )
        for s in book.sheets
    ]


def _read(data: bytes, plain: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        if not plain:
            patch.setattr(sheetxml, "bind_rows", lambda parser, found: None)
        return _reading(
            workbook.read_handle(io.BytesIO(data), Path("t.xlsx"), "t.xlsx")
        )


def _plain_parts(data: bytes) -> int:
    problem, plain = workbook._precheck(io.BytesIO(data))
    return len(plain)


def same_reading(data: bytes, monkeypatch: pytest.MonkeyPatch) -> object:
    fast = _read(data, True, monkeypatch)
    assert fast == _read(data, False, monkeypatch)
    return fast


@pytest.mark.parametrize(
    "path", sorted((ROOT / "tables").glob("**/*.xlsx")), ids=lambda p: p.name
)
def test_the_shipped_workbooks(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    assert _plain_parts(data) > 0  # the fast path is taken
    same_reading(data, monkeypatch)


BUILT = {
    "valid": hostile.valid_workbook,
    "duplicate cell": hostile.duplicate_cell,
    "boolean 2": lambda: hostile.boolean_cell("2"),
    "boolean 1": lambda: hostile.boolean_cell("1"),
    "boolean true": lambda: hostile.boolean_cell("true"),
    "cached error": hostile.cached_error,
    "case sheets": hostile.case_sheets,
    "far cell": hostile.far_cell,
    "huge dimension": hostile.huge_dimension,
    "not xml": hostile.not_xml_sheet,
    "missing part": hostile.missing_sheet_part,
    "long name": hostile.long_name,
    "merged": lambda: hostile.range_bomb("mergeCell", "A1:B2"),
    "hyperlink": lambda: hostile.range_bomb("hyperlink", "A1:B2"),
    "big table": lambda: hostile.big_table(50),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_the_hostile_builders(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    same_reading(BUILT[name](), monkeypatch)


def test_workbooks_built_with_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tests/workbooks.py` writes with openpyxl: values of every type it stores."""
    rules = [
        ("R1", "< 18", True, dt.date(2024, 1, 31), 1.5, "a  b"),
        ("R2", ">= 18", False, dt.datetime(2024, 1, 31, 12, 30), -3, "=1+1"),
        ("R3", "-", None, dt.time(7, 45), 10**20, "#N/A"),
    ]
    sheet = decision_table(
        "t",
        [
            ("age", "input", "integer", None),
            ("flag", "input", "boolean", None),
            ("when", "input", "date", None),
            ("n", "output", "number", None),
            ("s", "output", "string", None),
        ],
        rules,
    )
    cases = tests_sheet(
        "t",
        [("age", "input"), ("s", "expected")],
        [(17, "x"), (dt.date(2020, 2, 29), "y")],
    )
    path = write_workbook(tmp_path / "t.xlsx", {"t": sheet, "t tests": cases})
    data = path.read_bytes()
    assert _plain_parts(data) == 1  # the formula keeps the first sheet openpyxl's
    same_reading(data, monkeypatch)


STYLES = (  # as openpyxl writes them; cell styles 1-4: a date, hh:mm, 0.00, [h]:mm:ss
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd" />'
    '<numFmt numFmtId="165" formatCode="hh:mm" /></numFmts><fonts count="1"><font>'
    '<name val="Calibri" /><sz val="11" /></font></fonts><fills count="2"><fill>'
    '<patternFill /></fill><fill><patternFill patternType="gray125" /></fill></fills>'
    '<borders count="1"><border><left /><right /><top /><bottom /><diagonal /></border>'
    '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0" /></cellStyleXfs><cellXfs count="5">'
    + "".join(
        f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0" xfId="0" />'
        for n in (0, 164, 165, 2, 46)
    )
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0" /></cellStyles></styleSheet>'
)
STRINGS = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'count="3" uniqueCount="3"><si><t>shared</t></si><si><t xml:space="preserve"> '
    "pad </t></si><si><r><t>ri</t></r><r><rPr><b/></rPr><t>ch</t></r></si></sst>"
)
RELS = hostile.WORKBOOK_RELS.replace(
    "</Relationships>",
    '<Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/styles" Target="styles.xml"/>'
    '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
)

_numbers = st.sampled_from(
    ["0", "1", "-7", "2.5", "1E3", "1e-2", "45000", "45000.75", "-1", "60", "1e400",
     "abc", "", " 3", "2958466", "0.0"]
)  # fmt: skip
_texts = st.sampled_from(
    ["x", "", " ", "a &amp; b", "&lt;R1&gt;", "line\nbreak", "  pad  ", "#N/A", "TRUE",
     "é ü", "<![CDATA[<raw>]]>", "&#9;tab"]
)  # fmt: skip


@st.composite
def _cell(draw: st.DrawFn, ref: str) -> str:
    r = draw(st.sampled_from([f' r="{ref}"', f' r="{ref}"', "", ' r="b2"', ' r="A0"']))
    s = draw(st.sampled_from(["", "", ' s="1"', ' s="2"', ' s="3"', ' s="4"', ' s="0"',
                              ' s="9"', ' s="x"']))  # fmt: skip
    shape = draw(
        st.sampled_from(
            ["n", "n", "s", "b", "str", "e", "d", "inline", "inline", "rich", "f",
             "empty", "bare", "t", "odd", "x:attr", "x14:attr"]
        )
    )  # fmt: skip
    if shape == "n":
        return f"<c{r}{s}><v>{draw(_numbers)}</v></c>"
    if shape == "s":
        return f'<c{r}{s} t="s"><v>{draw(st.sampled_from(["0", "1", "2", "3", "x"]))}</v></c>'
    if shape == "b":
        return f'<c{r} t="b"><v>{draw(st.sampled_from(["0", "1", "2", "true", ""]))}</v></c>'
    if shape == "str":
        return f'<c{r}{s} t="str"><v>{draw(_texts)}</v></c>'
    if shape == "e":
        return (
            f'<c{r} t="e"><v>{draw(st.sampled_from(["#N/A", "#DIV/0!", "x"]))}</v></c>'
        )
    if shape == "d":
        return f'<c{r} t="d"><v>{draw(st.sampled_from(["2024-01-31", "2024-01-31T10:00:00", "x"]))}</v></c>'
    if shape == "inline":
        t = draw(st.sampled_from(["<t>{}</t>", '<t xml:space="preserve">{}</t>', "<t/>", "",
                                  "<t>{}</t><t>{}</t>"]))  # fmt: skip
        text = draw(_texts)
        return f'<c{r}{s} t="inlineStr"><is>{t.format(text, text)}</is></c>'
    if shape == "rich":
        return f'<c{r} t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r></is></c>'
    if shape == "f":
        return f"<c{r}><f>1+1</f><v>2</v></c>"
    if shape == "empty":
        return f"<c{r}{s}><v></v></c>"
    if shape == "bare":
        return f"<c{r}{s}/>"
    if shape == "t":
        return f'<c{r} t="inlineStr"><v>ignored</v><is><t>{draw(_texts)}</t></is></c>'
    if shape == "odd":
        return f"<c{r}><v>1</v><extLst/></c>"
    if shape == "x:attr":
        return f'<c{r} x:foo="1"><v>1</v></c>'
    return f'<c{r} x14ac:bar="1"><v>1</v></c>'


@st.composite
def _sheet(draw: st.DrawFn) -> str:
    rows = []
    for number in range(1, draw(st.integers(0, 5)) + 1):
        cells = "".join(
            draw(_cell(f"{chr(64 + k)}{number}"))
            for k in range(1, draw(st.integers(0, 4)) + 1)
        )
        attrs = draw(st.sampled_from(
            [f' r="{number}"', f' r="{number}" spans="1:4"', "", f' r="{number}.0"',
             f' r="{number}" ht="20" customHeight="1"', f' r="{number}" x14ac:dyDescent="0.25"',
             f' r="{number}" ht="x"']
        ))  # fmt: skip
        between = draw(st.sampled_from(["", "", "<!-- note -->", " \n "]))
        rows.append(f"<row{attrs}>{cells}</row>{between}")
    root = draw(st.sampled_from([
        f'<worksheet xmlns="{hostile.SHEET_NS}">',
        f'<worksheet xmlns="{hostile.SHEET_NS}" xmlns:x14ac="http://schemas.microsoft.'
        'com/office/spreadsheetml/2009/9/ac">',
        f'<x:worksheet xmlns:x="{hostile.SHEET_NS}">',
    ]))  # fmt: skip
    data = draw(st.sampled_from(["<sheetData>{}</sheetData>", "<sheetData>{}</sheetData>",
                                 '<sheetData xmlns="urn:other">{}</sheetData>']))  # fmt: skip
    after = draw(st.sampled_from(["", '<mergeCells count="1"><mergeCell ref="A1:B2"/>'
                                  "</mergeCells>", '<pageMargins left="x"/>']))  # fmt: skip
    body = data.format("".join(rows)) + after
    if root.startswith("<x:"):
        body = body.replace("<", "<x:").replace("<x:/", "</x:").replace("<x:!", "<!")
        return f"{root}{body}</x:worksheet>"
    return f"{root}{body}</worksheet>"


@settings(
    max_examples=hostile.examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sheet=_sheet(), date1904=st.booleans())
def test_random_sheets(
    sheet: str, date1904: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = hostile.xlsx(
        sheet,
        extra=[
            ("xl/styles.xml", STYLES.encode()),
            ("xl/sharedStrings.xml", STRINGS.encode()),
        ],
    )
    book = hostile.WORKBOOK.replace(
        "<sheets>", '<workbookPr date1904="1"/><sheets>' if date1904 else "<sheets>"
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    parts["xl/_rels/workbook.xml.rels"] = RELS.encode()
    parts["xl/workbook.xml"] = book.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    same_reading(buffer.getvalue(), monkeypatch)


def test_a_plain_sheet_is_read_by_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is taken for a plain sheet, and its reading is the cells'."""
    rows = (
        hostile.text_row(1, "Decision table", "t")
        + '<row r="2"><c r="B2"><v>7</v></c></row>'
    )
    data = hostile.xlsx(hostile.sheet_xml(rows))
    assert _plain_parts(data) == 1
    sheet = same_reading(data, monkeypatch)
    assert sheet == [
        (
            "Sheet1",
            workbook.Location("t.xlsx", "Sheet1"),
            [((1, 1), ("str", "'Decision table'")), ((1, 2), ("str", "'t'")),
             ((2, 2), ("int", "7"))],
            [], (), [], [], False,
        )
    ]  # fmt: skip


def _cells_made(data: bytes, plain: bool, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many openpyxl cells the binding of DATA's cells makes (PLAIN: with the
    fast path)."""
    from openpyxl.worksheet import _reader

    made = []
    real = _reader.Cell  # type: ignore[attr-defined]

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(_reader, "Cell", counted)
        _read(data, plain, monkeypatch)
    return len(made)


def test_a_plain_sheet_makes_no_openpyxl_cells(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plain sheet's cells are read from the scan's rows, not bound as openpyxl
    cells (issue 18: a Cell, a style array and a dict each); one that merges or
    links cells is bound by openpyxl, whose binding of those reads the cells."""
    rows = hostile.text_row(1, "Decision table", "t") + hostile.text_row(2, "a", "b")
    plain = hostile.xlsx(hostile.sheet_xml(rows))
    assert _cells_made(plain, False, monkeypatch) == 4
    assert _cells_made(plain, True, monkeypatch) == 0
    for element in ("mergeCell", "hyperlink"):
        linked = hostile.range_bomb(element, "A1:B2")
        assert _plain_parts(linked) == 1
        assert _cells_made(linked, True, monkeypatch) >= 1
        same_reading(linked, monkeypatch)
