"""The documentation site under docs/: it builds strictly, the README's links into it
resolve, and its diagnostic code table lists exactly the codes the compiler emits.

`mkdocs build --strict` fails on a broken link or anchor and on a page left out of the
nav (mkdocs.yml sets every validation to warn); its home page is the README itself
(docs/hooks/readme_home.py), so the README says nothing the site does not.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CODE = re.compile(r"[EWIA]\d{3}")
SEVERITY = {"E": "error", "W": "warning", "I": "info"}
ROW = re.compile(r"^\| ([EWIA]\d{3}) \| (error|warning|info) \| (.+) \|$")
DOCS_LINK = re.compile(r"\]\((docs/[^)#\s]+)(?:#([^)\s]+))?\)")
ANY_LINK = re.compile(r"\]\(([^)\s]+)\)")
CONTRACT = ROOT.parent / "shared" / "workbook-format.md"


def emitted_codes() -> dict[str, list[str]]:
    """Every diagnostic code written as a string literal in compiler/, with where.
    Literals, not mentions: a code left only in a docstring no longer exists."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "compiler").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if CODE.fullmatch(node.value):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(node.value, []).append(where)
    return found


def documented_codes() -> dict[str, tuple[str, str]]:
    """The rows of docs/diagnostics.md: code -> (severity, meaning)."""
    rows: dict[str, tuple[str, str]] = {}
    for line in (DOCS / "diagnostics.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            code, severity, meaning = match.groups()
            assert code not in rows, f"{code} is listed twice in docs/diagnostics.md"
            rows[code] = (severity, meaning.strip())
    return rows


def test_the_diagnostic_table_lists_exactly_the_codes_the_compiler_emits() -> None:
    emitted, documented = emitted_codes(), documented_codes()
    assert len(emitted) > 50, "the scan of compiler/ found almost no codes"
    missing = {code: emitted[code] for code in sorted(emitted.keys() - documented)}
    assert not missing, f"codes emitted but not in docs/diagnostics.md: {missing}"
    gone = sorted(documented.keys() - emitted)
    assert not gone, f"docs/diagnostics.md lists codes compiler/ no longer has: {gone}"
    for code, (severity, meaning) in documented.items():
        if code[0] in SEVERITY:
            assert severity == SEVERITY[code[0]], f"{code} is listed as {severity}"
        assert len(meaning) > 10, f"{code} has no meaning in docs/diagnostics.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built with `mkdocs build --strict`, outside the repository."""
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: python -m pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        # the command reference imports compiler.cli from this checkout
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        "NO_MKDOCS_2_WARNING": "1",  # the theme's banner, not a warning of the build
    }
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return out


def anchors(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))


def built_page(site: Path, source: str) -> Path:
    """Where mkdocs writes docs/SOURCE (directory URLs: page.md -> page/index.html)."""
    name = source.removesuffix(".md")
    return site / ("index.html" if name == "index" else f"{name}/index.html")


def test_the_site_builds_strictly_with_every_page_and_the_command_reference(
    site: Path,
) -> None:
    for source in sorted(DOCS.glob("*.md")):
        assert built_page(site, source.name).is_file(), source.name
    reference = anchors(built_page(site, "reference.md"))
    from compiler.cli import main

    for name in main.commands:
        assert f"compile-rules-{name}" in reference, f"{name} is not in the reference"


def test_the_readme_is_the_home_page_and_its_links_into_the_docs_resolve(
    site: Path,
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    home = anchors(site / "index.html")
    for heading in re.findall(r"^## (.+)$", readme, flags=re.MULTILINE):
        assert re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-") in home, heading
    assert not (DOCS / "index.md").exists(), "the home page is README.md, not a copy"

    links = DOCS_LINK.findall(readme)
    assert len(links) >= 10, "the README should link to the site's pages"
    for target, anchor in links:
        page = built_page(site, target.removeprefix("docs/"))
        assert (ROOT / target).is_file() and page.is_file(), target
        assert not anchor or anchor in anchors(page), f"{target}#{anchor}"
    for target in ANY_LINK.findall(readme):
        assert target.startswith(("docs/", "https://", "http://")), target


def test_the_workbook_format_page_covers_every_part_of_the_contract() -> None:
    if not CONTRACT.is_file():
        pytest.skip(f"the format contract is not beside the repository ({CONTRACT})")
    ours = (DOCS / "workbook-format.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (.+)$", ours, flags=re.MULTILINE))
    contract = CONTRACT.read_text(encoding="utf-8")
    for heading in re.findall(r"^## (.+)$", contract, flags=re.MULTILINE):
        assert heading in headings, f"docs/workbook-format.md has no {heading!r}"


SEEDS = ROOT.parent / "shared" / "seeds"
CATALOG = SEEDS / "000_c0e3f2467145897e.txt"


def page_text(page: Path) -> str:
    """A built page's text, without tags and entities."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_the_tables_page_lists_every_table_with_every_value(site: Path) -> None:
    from compiler.pipeline import load_tables
    from compiler.reading.cell_text import value_text

    project, _ = load_tables(ROOT / "tables")
    assert project is not None and len(project.decisions) >= 29
    page = built_page(site, "tables.md")
    ids, text = anchors(page), page_text(page)
    for decision in project.decisions:
        assert decision.name in ids, f"no section for {decision.name}"
        section = text.split(f"\n{decision.name}¶")[1].split("¶")[0]
        for table in decision.versions:
            assert table.source in section, decision.name
            for column in (*project.chain_inputs(decision.name), *table.outputs):
                assert f"{column.name}" in section, (decision.name, column.name)
                quote = column.type.value != "code"
                for value in column.value_list:
                    shown = value_text(value, quote=quote)
                    assert shown in section, (decision.name, column.name, shown)
    tests = project.decision("lab_policy_for_test").first.inputs[0].value_list
    assert len(tests) == 67 and all(f'"{t}"' in text for t in tests)


def test_the_tables_page_maps_every_table_to_the_seed() -> None:
    """The hand-written part of docs/tables.md names every table in its map; a new
    table without a row there fails. (The links are checked by the strict build.)"""
    from compiler.pipeline import load_tables

    project, _ = load_tables(ROOT / "tables")
    assert project is not None
    prose = (DOCS / "tables.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\|.*\| \[(\w+)\]\(#\1\)", prose, flags=re.MULTILINE)
    assert sorted(rows) == sorted(d.name for d in project.decisions)


def test_the_tables_page_needs_its_marker_and_sound_tables(tmp_path: Path) -> None:
    from mkdocs.exceptions import PluginError

    hook = importlib.util.spec_from_file_location(
        "tables_page", DOCS / "hooks" / "tables_page.py"
    )
    assert hook is not None and hook.loader is not None
    module = importlib.util.module_from_spec(hook)
    hook.loader.exec_module(module)
    filled = module.insert(f"# Tables\n\n{module.MARKER}\n", ROOT / "tables")
    assert "### lab_guideline_edition" in filled and module.MARKER not in filled
    with pytest.raises(PluginError, match="lost the line"):
        module.insert("# Tables\n", ROOT / "tables")
    from .helpers import write_tables
    from .workbooks import decision_table

    broken = decision_table(
        "t",
        [("n", "input", "integer", None), ("r", "output", "string", None)],
        rules=[("R1", "<< 3", "a")],
    )
    with pytest.raises(PluginError, match="E201"):
        module.insert(module.MARKER, write_tables(tmp_path, {"t.xlsx": [broken]}))


def test_the_two_edition_tables_answer_for_every_dated_catalog_title() -> None:
    """docs/tables.md: guideline_edition and lab_guideline_edition give every entry the
    catalog dates ('- Effective MM/DD/YYYY') as an edition, and the page counts them."""
    if not CATALOG.is_file():
        pytest.skip(f"the seed catalog is not beside the repository ({CATALOG})")
    from compiler.pipeline import load_tables

    project, _ = load_tables(ROOT / "tables")
    assert project is not None
    editions = {
        value
        for name in ("guideline_edition", "lab_guideline_edition")
        for value in project.decision(name).first.outputs[0].value_list
    }
    lines = CATALOG.read_text(encoding="utf-8").splitlines()
    dated = [
        line[2:].strip()
        for line in lines
        if line.startswith("- ") and re.search(r" - Effective \d\d/\d\d/\d{4}$", line)
    ]
    missing = [entry for entry in dated if entry not in editions]
    assert not missing, missing
    prose = (DOCS / "tables.md").read_text(encoding="utf-8")
    assert f"({len(dated)} entries)" in prose


def test_the_calls_on_the_tables_page_answer_as_it_says() -> None:
    import datetime as dt

    from generated import lab_guideline_edition, modality_substitution

    prose = (DOCS / "tables.md").read_text(encoding="utf-8")
    substitution = modality_substitution.evaluate(
        substitution="CT in place of MRI",
        reason="avoid sedation",
        ct_supported_by_condition_guideline=False,
    ).outputs.determination
    edition = lab_guideline_edition.evaluate(
        guideline="MOL.TS.238.A: BRCA Analysis", date_of_service=dt.date(2026, 1, 1)
    ).outputs.edition
    for answer in (substitution, edition):
        assert f"# {answer!r}" in prose


# -- the README and the API page say what the code prints --------------------------------

PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _run_example(block: str) -> list[str]:
    """Run a README-style block statement by statement: an expression whose last line
    ends in `# repr` must give that repr (a `: ...` after it explains), and a
    `# SomeError: message` line under a statement names what it raises. Returns the
    statements checked."""
    namespace: dict[str, object] = {}
    lines = block.splitlines()
    checked = []
    for statement in ast.parse(block).body:
        assert statement.end_lineno is not None
        source = ast.get_source_segment(block, statement) or ""
        last = lines[statement.end_lineno - 1]
        follows = (
            lines[statement.end_lineno] if statement.end_lineno < len(lines) else ""
        )
        raised = re.match(r"^# (\w+Error): (.+)$", follows)
        said = re.search(r"\)?\s+# (.+)$", last) if "#" in last else None
        if raised:
            with pytest.raises(Exception) as caught:
                exec(source, namespace)
            assert type(caught.value).__name__ == raised.group(1), source
            assert str(caught.value) == raised.group(2), source
            checked.append(source)
        elif said and isinstance(statement, ast.Expr):
            shown = repr(eval(source, namespace))
            says = said.group(1)
            assert says == shown or says.startswith(f"{shown}:"), (source, shown)
            checked.append(source)
        else:
            exec(source, namespace)
    return checked


@pytest.mark.parametrize("page", ["README.md", "docs/generated-code.md"])
def test_the_python_examples_print_what_their_comments_say(page: str) -> None:
    first = PYTHON_BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))[0]
    checked = _run_example(first)
    assert any("result.matched" in line for line in checked)


def test_the_example_checker_catches_a_wrong_comment() -> None:
    block = (
        "from generated import imaging_guideline_set\n"
        "result = imaging_guideline_set.evaluate(age_years=17, "
        "condition_in_pediatric_guidelines=True)\n"
        "result.matched   # ('R5',): the ids of the rules that decided\n"
    )
    with pytest.raises(AssertionError):
        _run_example(block)


def test_the_commands_page_names_the_commands_without_the_common_options() -> None:
    from compiler.cli import main

    common = ("--tables", "--out", "-v", "-q", "--format", "--junit")
    without = sorted(
        name
        for name, command in main.commands.items()
        if not set(common) <= {o for p in command.params for o in p.opts}
    )
    assert without == ["export-dmn", "import-dmn", "show"]
    first = (DOCS / "commands.md").read_text(encoding="utf-8").split("\n\n")[1]
    assert first.startswith(
        "Every command but `show`, `import-dmn` and `export-dmn` takes `--tables DIR`"
    )
    assert all(f"`{o}" in first for o in common)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_works_as_the_commands_page_says(shell: str) -> None:
    from click.testing import CliRunner

    from compiler.cli import main

    page = (DOCS / "commands.md").read_text(encoding="utf-8")
    assert f"_COMPILE_RULES_COMPLETE={shell}_source compile-rules" in page
    runner = CliRunner()
    script = runner.invoke(
        main,
        [],
        prog_name="compile-rules",
        env={"_COMPILE_RULES_COMPLETE": f"{shell}_source"},
    )
    assert script.exit_code == 0 and "_COMPILE_RULES_COMPLETE" in script.output
    if shell == "bash":
        words = runner.invoke(
            main,
            [],
            prog_name="compile-rules",
            env={
                "_COMPILE_RULES_COMPLETE": "bash_complete",
                "COMP_WORDS": "compile-rules ana",
                "COMP_CWORD": "1",
            },
        )
        assert "plain,analyse" in words.output.splitlines()
