"""`compile-rules report DIR`: a static site with an index and a page per table; every
cell escaped; opened in headless Chromium when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.authoring.site import write_report
from compiler.cli import main
from compiler.pipeline import load_tables

from .helpers import write_tables
from .workbooks import decision_table, tests_sheet

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def books() -> dict[str, dict[str, list[list[object]]]]:
    table = decision_table(
        "age_band",
        hit_policy="FIRST",
        columns=[
            ("age", "input", "integer", "[0..130]"),
            ("band", "output", "string", None),
            ("Note", "annotation", None, None),
        ],
        rules=[
            ("R1", "< 18", "child", XSS),
            ("R2", "[18..64]", "adult", "covered"),
            ("R3", "[18..64]", "adult", "a copy of R2: never decides"),
            ("R4", "-", "senior", "no test"),
        ],
        title="Age bands & <friends>",
        metadata={"Source": "Policy 7 <section 2>"},
    )
    tests = tests_sheet(
        "age_band",
        [("age", "input"), ("band", "expected"), ("expected rule", "expected rule")],
        [
            ("T1", 5, "child", "R1"),
            ("T2", 30, "adult", "R2"),
            ("T3", 40, "senior", None),  # wrong on purpose: the report says it fails
        ],
    )
    return {"a.xlsx": {"Bands": table, "Band tests": tests}}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    tables = write_tables(tmp_path, books())
    dest = tmp_path / "site"
    written, diagnostics = write_report(tables, dest)
    assert {p.name for p in written} == {"index.html", "age_band.html"}
    assert any(d.code == "W406" for d in diagnostics)
    return dest


def test_index_lists_tables_with_coverage(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert '<a href="age_band.html">age_band</a>' in index
    assert "Age bands &amp; &lt;friends&gt;" in index
    assert "tables/a.xlsx: Bands" in index
    assert ">50%<" in index  # R1 and R2 decide a case; R3 and R4 do not
    assert '<svg id="coverage-chart"' in index
    assert "2 of 4 rules covered (50%)" in index
    assert '<span class="sev sev-warning">2 warnings</span>' in index  # W406, A305
    assert '3 <span class="fail">(1 failing)</span>' in index  # T3


def test_table_page(site: Path) -> None:
    page = (site / "age_band.html").read_text()
    assert '<dd id="hit-policy">FIRST</dd>' in page
    assert '<dd id="source">Policy 7 &lt;section 2&gt;</dd>' in page
    rows = dict(re.findall(r'<tr id="rule-(R\d)" class="([^"]*)"', page))
    assert rows["R1"] == "" and rows["R2"] == ""
    assert "uncovered" in rows["R3"] and "problem" in rows["R3"]  # W406 on R3
    assert "uncovered" in rows["R4"]
    assert "W406" in page and "repeats the rule" in page
    assert '<span class="fail">fails</span>' in page  # T3
    assert page.count('<span class="pass">passes</span>') == 2
    assert "2 of 4 rules covered (50%)" in page
    assert '<td class="entry">&lt; 18</td>' in page


def test_cell_text_is_escaped(site: Path) -> None:
    for page in site.glob("*.html"):
        html = page.read_text()
        assert "<script" not in html and "<img" not in html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
        in (site / "age_band.html").read_text()
    )


def test_each_case_is_explained(site: Path) -> None:
    """The generated explain, per Tests-sheet case: what decided, and why not R1."""
    page = (site / "age_band.html").read_text()
    whys = re.findall(
        r'<details class="why"><summary>explain</summary><pre>(.*?)</pre>', page, re.S
    )
    assert len(whys) == 3  # T1, T2, T3
    assert whys[1].startswith("age_band: band = &#34;adult&#34;")
    assert "decided by R2 (tables/a.xlsx:Bands!A11:D11)" in whys[1]
    assert "R1: age = 30 is not &lt; 18 (tables/a.xlsx:Bands!B10)" in whys[1]
    assert "R3: matched, not chosen" in whys[1]  # FIRST: R2 came first
    assert "Note: &lt;script&gt;" in whys[0]  # R1's note, escaped


def test_cases_of_a_table_with_errors_are_not_explained(tmp_path: Path) -> None:
    broken = books()
    broken["a.xlsx"]["Bands"][9][1] = "<< 3"  # R1's entry: E201
    tables = write_tables(tmp_path, broken)
    write_report(tables, tmp_path / "site")
    page = (tmp_path / "site" / "age_band.html").read_text()
    assert '<details class="why">' not in page
    assert "not compiled" in page


def test_an_empty_tests_sheet_is_said_to_be_empty(tmp_path: Path) -> None:
    empty = books()
    sheet = empty["a.xlsx"]["Band tests"]
    empty["a.xlsx"]["Band tests"] = sheet[:4]  # its header rows, no case
    tables = write_tables(tmp_path, empty)
    write_report(tables, tmp_path / "site")
    page = (tmp_path / "site" / "age_band.html").read_text()
    assert "No Tests sheet for this table." not in page
    assert "The Tests sheet tables/a.xlsx: Band tests has no cases." in page
    del empty["a.xlsx"]["Band tests"]
    write_report(write_tables(tmp_path / "none", empty), tmp_path / "none-site")
    page = (tmp_path / "none-site" / "age_band.html").read_text()
    assert "No Tests sheet for this table." in page


def test_analysis_findings_and_uncovered_rules(site: Path) -> None:
    page = (site / "age_band.html").read_text()
    assert "Analysis findings" in page
    uncovered = re.search(r'<p id="uncovered">(.*?)</p>', page, re.S)
    if uncovered is not None:  # when analyse.uncovered_rules exists
        assert "R4" in uncovered.group(1)


def test_cli_report_on_shipped_tables(tmp_path: Path) -> None:
    dest = tmp_path / "site"
    result = CliRunner().invoke(
        main, ["report", "-q", "--tables", str(ROOT / "tables"), str(dest)]
    )
    assert result.exit_code == 0, result.output
    project, _ = load_tables(ROOT / "tables")
    assert project is not None
    tables = len(project.decisions)  # one page each, and the index links to each
    assert f"wrote {tables + 1} page(s)" in result.stderr
    index = (dest / "index.html").read_text()
    assert index.count('<a href="') == tables
    for name in ("imaging_guideline_document", "lab_policy_for_test"):
        assert (dest / f"{name}.html").is_file()
    chained = (dest / "imaging_guideline_document.html").read_text()
    assert '<a href="imaging_guideline_set.html">imaging_guideline_set</a>' in chained
    versioned = (dest / "lab_policy_for_test.html").read_text()
    assert "in force … to 2025-12-31" in versioned


def test_cli_report_with_errors_still_writes_and_exits_3(tmp_path: Path) -> None:
    broken = books()
    broken["a.xlsx"]["Bands"][7][1] = "<< 3"
    tables = write_tables(tmp_path, broken)
    result = CliRunner().invoke(
        main, ["report", "--tables", str(tables), str(tmp_path / "site")]
    )
    assert result.exit_code == 3
    index = (tmp_path / "site" / "index.html").read_text()
    assert "static analysis did not run" in index


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a fresh profile and nothing that reaches the network."""
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _pixels(png: bytes) -> Counter[str]:
    """How many pixels of each colour ('rrggbb') an 8-bit RGB(A) PNG has."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, header = 8, b"", b""
    while pos < len(png):
        size = int.from_bytes(png[pos : pos + 4], "big")
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + size]
        pos += 12 + size
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            data += body
    width, height = (int.from_bytes(header[i : i + 4], "big") for i in (0, 4))
    assert header[8] == 8 and header[9] in (2, 6) and header[12] == 0
    bpp = 4 if header[9] == 6 else 3
    raw, stride = zlib.decompress(data), width * bpp
    counts: Counter[str] = Counter()
    prev = bytearray(stride)
    for y in range(height):
        kind_, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 :][:stride]),
        )
        for i in range(stride):  # undo the row filter (PNG spec, section 9)
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind_ == 1:
                line[i] = (line[i] + a) & 255
            elif kind_ == 2:
                line[i] = (line[i] + b) & 255
            elif kind_ == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind_ == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                near = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + near) & 255
        counts.update(bytes(line[i : i + 3]).hex() for i in range(0, stride, bpp))
        prev = line
    return counts


GREEN, GREY, RED_EDGE, AMBER_EDGE, HEADER = (
    "2da44e",  # the covered part of a coverage bar
    "d0d7de",  # the rest of a bar (and the table borders)
    "cf222e",  # the edge of a rule a diagnostic points at
    "bf8700",  # the edge of a rule no test case decides
    "1f3b57",  # the page header
)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_pages_render_in_chromium(site: Path, tmp_path: Path) -> None:
    page = (site / "age_band.html").as_uri()
    dom = _chromium(tmp_path / "profile-dom", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr
    html = dom.stdout
    assert "<h1>age_band</h1>" in html
    assert '<dd id="hit-policy">FIRST</dd>' in html
    assert "Policy 7 &lt;section 2&gt;" in html  # the source citation
    assert 'id="rule-R4"' in html and "<svg" in html
    assert "W406" in html and "A305" in html  # a diagnostic and a finding
    assert "<script" not in html  # the note stayed text in the rendered DOM

    # what is drawn: the stylesheet applies, the coverage bar has its share, the
    # rows carry their edges
    shot = tmp_path / "page.png"
    done = _chromium(
        tmp_path / "profile-page",
        f"--screenshot={shot}",
        "--window-size=1100,1200",
        page,
    )
    assert done.returncode == 0, done.stderr
    colours = _pixels(shot.read_bytes())
    assert colours[HEADER] > 1100 * 50  # the dark header band
    bar = 240 * 2 / 4 * 16  # 2 of 4 rules: half of the 240 x 16 bar
    assert 0.9 * bar <= colours[GREEN] <= 1.1 * bar
    assert colours[GREY] >= 0.9 * bar  # the uncovered half (and the borders)
    assert colours[RED_EDGE] > 4 * 20  # R3: W406 and A305
    assert colours[AMBER_EDGE] > 2 * 4 * 20  # R3 and R4 decide no test case

    index = tmp_path / "index.png"
    done = _chromium(
        tmp_path / "profile-index",
        f"--screenshot={index}",
        "--window-size=1100,700",
        (site / "index.html").as_uri(),
    )
    assert done.returncode == 0, done.stderr
    colours = _pixels(index.read_bytes())
    assert 0.9 * bar <= colours[GREEN] <= 1.1 * bar  # the chart's one bar
    assert colours[HEADER] > 1100 * 50


def test_report_needs_no_network_or_scripts(site: Path) -> None:
    for page in site.glob("*.html"):
        html = page.read_text()
        assert "http://" not in html and "https://" not in html
        assert "<link" not in html


def test_pages_of_removed_tables_are_removed(site: Path, tmp_path: Path) -> None:
    (site / "notes.html").write_text("<p>mine</p>")
    other = decision_table(
        "flag",
        columns=[("a", "input", "boolean", None), ("b", "output", "boolean", None)],
        rules=[("R1", "-", True)],
    )
    tables = write_tables(tmp_path / "later", {"f.xlsx": [other]})
    write_report(tables, site)
    assert sorted(p.name for p in site.glob("*.html")) == [
        "flag.html",
        "index.html",
        "notes.html",
    ]
