"""Version 2 of the workbook format: list outputs (TCK 0008).

An output or computed output of Type `list of T` gives a list (a tuple in Python);
`flatten` splices nested lists; a later table reads a list output, or the list a
COLLECT table of one output gives, with a `from` input of Type `list of T`. The
workbooks are built in code; `evaluate`, `explain`, `evaluate_frame`, the reference
interpreter and the generated Tests-sheet cases agree, and export-dmn/import-dmn
round-trip the tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.checking import interpret
from compiler.cli import main
from compiler.diagnostics import CellError
from compiler.expressions.typed import compile_expression, evaluate
from compiler.pipeline import load_tables
from compiler.reading import cells

from .helpers import (
    compile_books,
    compiled_module,
    load_books,
    run_generated_tests,
    write_tables,
)
from .workbooks import decision_table, tests_sheet


def letters_table() -> Any:
    return decision_table(
        "letters",
        [
            ("c", "input", "string", None),
            ("fixed", "output", "list of string", None),
            ("built", "computed output", "list of string", None),
        ],
        [
            ("R1", '"c"', '"a", "b"', 'flatten([["w", "x"], c])'),
            ("R2", 'not("c")', "[]", "[c]"),
        ],
        hit_policy="UNIQUE",
    )


LETTERS_CASES = tests_sheet(
    "letters",
    [("c", "input"), ("fixed", "expected"), ("built", "expected")],
    [("T1", "c", '"a", "b"', '"w", "x", "c"'), ("T2", "d", "[]", '["d"]')],
)


def chain_tables() -> dict[str, Any]:
    """gen4 collects one string per rule; wide has a list output; gen10 reads both
    as `list of string` inputs (TCK 0008's listGen10)."""
    return {
        "gen4": decision_table(
            "gen4",
            [("c", "input", "string", None), ("gen4", "output", "string", None)],
            [("R1", "-", "a"), ("R2", "-", "b"), ("R3", '"c"', "c")],
            hit_policy="COLLECT",
        ),
        "wide": decision_table(
            "wide",
            [
                ("c", "input", "string", None),
                ("wide", "computed output", "list of string", None),
            ],
            [("R1", "-", '[c, "q"]')],
            hit_policy="UNIQUE",
        ),
        "gen10": decision_table(
            "gen10",
            [
                ("gen4", "from gen4", "list of string", None),
                ("wide", "from wide", "list of string", None),
                ("gen10", "computed output", "list of string", None),
                ("n", "computed output", "integer", None),
            ],
            [
                ("R1", 'any("c")', "-", "flatten([gen4, wide])", "count(gen4)"),
                ("R2", "-", "-", "gen4", "0"),
            ],
            hit_policy="FIRST",
        ),
        "gen10 tests": tests_sheet(
            "gen10",
            [("c", "input"), ("gen10", "expected"), ("n", "expected")],
            [
                ("T1", "c", '"a", "b", "c", "c", "q"', 3),
                ("T2", "d", '"a", "b"', 0),
            ],
        ),
    }


def test_a_list_output_is_a_tuple_everywhere(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    books = {"l.xlsx": {"letters": letters_table(), "letters tests": LETTERS_CASES}}
    compilation = compile_books(tmp_path, books)
    letters = compiled_module(compilation, "letters")
    result = letters.evaluate(c="c")
    assert result.outputs == (("a", "b"), ("w", "x", "c"))
    assert result.matched == ("R1",)
    assert letters.evaluate(c="d").outputs == ((), ("d",))
    assert letters.explain(c="c").result == result
    assert letters.explain(c="c").to_json()["outputs"] == {
        "fixed": ["a", "b"],
        "built": ["w", "x", "c"],
    }
    frame = letters.evaluate_frame(pd.DataFrame({"c": ["c", "d"]}))
    assert frame["fixed"].tolist() == [("a", "b"), ()]
    assert frame["built"].tolist() == [("w", "x", "c"), ("d",)]
    project = compilation.project
    for c in ("c", "d"):
        walked, _ = interpret.evaluate(project, "letters", {"c": c})
        assert tuple(walked.values()) == tuple(letters.evaluate(c=c).outputs)  # type: ignore[union-attr]
    assert "Outputs(NamedTuple)" in compilation.files["letters.py"]  # type: ignore[index]
    assert "fixed: tuple[str, ...] | None" in compilation.files["letters.py"]  # type: ignore[index]
    ran = run_generated_tests(compilation, tmp_path)  # the Tests sheet's cases pass
    assert " passed" in ran and "failed" not in ran


def test_the_markdown_page_shows_list_cells_as_written(tmp_path: Path) -> None:
    books = {"l.xlsx": {"letters": letters_table(), "letters tests": LETTERS_CASES}}
    compilation = compile_books(tmp_path, books)
    assert compilation.files is not None
    page = compilation.files["letters.md"]
    assert "| fixed | output | list of string |" in page
    assert '| R1 | "c" | "a", "b" | = flatten(\\[\\["w", "x"\\], c\\]) |' in page


def test_a_collect_table_and_a_list_output_feed_list_inputs(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    compilation = compile_books(tmp_path, {"c.xlsx": chain_tables()})
    gen10 = compiled_module(compilation, "gen10")
    assert gen10.evaluate(c="c").outputs == (("a", "b", "c", "c", "q"), 3)
    assert gen10.evaluate(c="d").outputs == (("a", "b"), 0)
    explained = gen10.explain(c="c")
    assert explained.result == gen10.evaluate(c="c")
    assert 'gen4 = ["a", "b", "c"]' in str(explained)
    assert str(explained).startswith('gen10: gen10 = ["a", "b", "c", "c", "q"], n = 3')
    frame = gen10.evaluate_frame(pd.DataFrame({"c": ["c", "d", "c"]}))
    assert frame["gen10"].tolist() == [
        ("a", "b", "c", "c", "q"),
        ("a", "b"),
        ("a", "b", "c", "c", "q"),
    ]
    assert frame["n"].tolist() == [3, 0, 3]
    walked, rules = interpret.evaluate(compilation.project, "gen10", {"c": "c"})  # type: ignore[arg-type]
    assert walked == {"gen10": ("a", "b", "c", "c", "q"), "n": 3} and rules == ["R1"]
    ran = run_generated_tests(compilation, tmp_path)  # the Tests sheet's cases pass
    assert " passed" in ran and "failed" not in ran


# -- errors, each at its cell, from the command line ------------------------------


def lint(tmp_path: Path, sheets: dict[str, Any]) -> str:
    tables = write_tables(tmp_path, {"bad.xlsx": sheets})
    result = CliRunner().invoke(main, ["lint", "--tables", str(tables)])
    assert result.exit_code != 0, result.output
    return result.output


def one_output(type_: str, kind: str, cell: str, policy: str = "UNIQUE") -> Any:
    return decision_table(
        "bad",
        [("c", "input", "string", None), ("out", kind, type_, None)],
        [("R1", "-", cell)],
        hit_policy=policy,
    )


@pytest.mark.parametrize(
    ("type_", "kind", "cell", "words"),
    [
        (
            "list of string",
            "output",
            '"a", null',
            "bad!C7: error E201: a list holds no null",
        ),
        (
            "list of string",
            "computed output",
            "c",
            "bad!C7: error E207: the expression gives a string, but the column is a "
            "list of string\n    cell: 'c'\n    hint: write a list, [c]",
        ),
        (
            "string",
            "computed output",
            "[c]",
            "bad!C7: error E207: the expression gives a list of string, but the "
            "column is string\n    cell: '[c]'\n    hint: take count(...)",
        ),
        (
            "string",
            "output",
            '"a", "b"',
            'bad!C7: error E201: \'"a", "b"\' is 2 quoted strings',
        ),
        (
            "list of string",
            "computed output",
            "[[c]]",
            "bad!C7: error E207: the expression gives a list of list of string, but "
            "the column is a list of string\n    cell: '[[c]]'\n    hint: flatten(...)",
        ),
        (
            "list of integer",
            "computed output",
            'flatten([[1], "a"])',
            "bad!C7: error E207: flatten gives a list of one type, but its items "
            "hold an integer and a string (at character 15: '\"a\"')",
        ),
        (
            "list of string",
            "computed output",
            '["w", ["x"]]',
            "hint: to splice the lists into one list, write flatten([...])",
        ),
    ],
)
def test_a_list_in_a_value_cell_and_a_value_in_a_list_cell_are_refused(
    tmp_path: Path, type_: str, kind: str, cell: str, words: str
) -> None:
    assert words in lint(tmp_path, {"bad": one_output(type_, kind, cell)})


@pytest.mark.parametrize("policy", ["COLLECT", "RULE ORDER", "PRIORITY", "COLLECT SUM"])
def test_list_outputs_need_a_single_hit_table(tmp_path: Path, policy: str) -> None:
    output = lint(
        tmp_path, {"bad": one_output("list of string", "output", "a", policy)}
    )
    assert "bad!B2: error E210: the output 'out' is a list; list outputs need a " in (
        output
    )


def test_a_list_output_takes_no_values(tmp_path: Path) -> None:
    sheet = decision_table(
        "bad",
        [("c", "input", "string", None), ("out", "output", "list of string", "a")],
        [("R1", "-", "a")],
    )
    assert "error E210: a list output takes no Values" in lint(tmp_path, {"bad": sheet})


def producer(policy: str, outputs: int = 1) -> Any:
    columns = [("c", "input", "string", None), ("x", "output", "string", None)]
    columns += [("y", "output", "string", None)] * (outputs - 1)
    return decision_table(
        "source", columns, [("R1", "-", *(["a"] * outputs))], hit_policy=policy
    )


def consumer(type_: str) -> Any:
    return decision_table(
        "reader",
        [("x", "from source", type_, None), ("o", "output", "string", None)],
        [("R1", "-", "a")],
        hit_policy="FIRST",
    )


@pytest.mark.parametrize(
    ("policy", "outputs", "type_", "words"),
    [
        ("COLLECT", 1, "string", "error E414: 'source' returns a list (COLLECT)"),
        ("FIRST", 1, "list of string", "error E413: 'x' is a list of string here but "
         "string in 'source'"),
        ("COLLECT", 1, "list of integer", "error E413: 'x' is a list of integer here "
         "but a list of string in 'source'"),
        ("COLLECT", 2, "list of string", "error E414: 'source' returns a list of rows "
         "of 2 outputs"),
    ],
)  # fmt: skip
def test_a_from_input_takes_a_list_only_as_a_list_of_its_type(
    tmp_path: Path, policy: str, outputs: int, type_: str, words: str
) -> None:
    sheets = {"source": producer(policy, outputs), "reader": consumer(type_)}
    assert words in lint(tmp_path, sheets)


def test_a_scalar_input_cannot_read_a_list_output(tmp_path: Path) -> None:
    source = decision_table(
        "source",
        [("c", "input", "string", None), ("x", "output", "list of string", None)],
        [("R1", "-", "a")],
    )
    output = lint(tmp_path, {"source": source, "reader": consumer("string")})
    assert "error E413: 'x' is string here but a list of string in 'source'" in output
    assert "hint: write list of string in its Type cell" in output


# -- flatten ------------------------------------------------------------------------

ENV = {"wx": "list of string", "a": "string", "n": "integer"}


@pytest.mark.parametrize(
    ("text", "values", "expected", "kind"),
    [
        ('flatten([["w", "x"], "y", "z"])', {}, ("w", "x", "y", "z"), "list of string"),
        ('flatten([wx, "y", "z"])', {"wx": ["w", "x"]}, ("w", "x", "y", "z"), "list of string"),
        ("flatten([a, [a], [[a]]])", {"a": "q"}, ("q", "q", "q"), "list of string"),
        ("flatten([[1], [2.5], n])", {"n": 3}, (1, 2.5, 3), "list of number"),
        ("flatten([[a], null])", {"a": "q"}, ("q", None), "list of string"),
        ("flatten(wx)", {"wx": None}, None, "list of string"),
        ("flatten([])", {}, (), "list of null"),
        ("count(flatten([wx, wx]))", {"wx": ["w"]}, 2, "integer"),
    ],
)  # fmt: skip
def test_flatten_is_typed_by_the_values_its_lists_hold(
    text: str, values: dict[str, Any], expected: object, kind: str
) -> None:
    from compiler.emitting.runtime import _feel

    typed = compile_expression(text, ENV)
    assert typed.type == kind
    full = {name: values.get(name) for name in ENV}
    generated = eval(typed.python, {"feel": _feel}, full)  # noqa: S307 - our own code
    assert generated == expected
    assert evaluate(typed, full) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('flatten([[1], "a"])', "its items hold an integer and a string (at character 15"),
        ('flatten("a")', "flatten takes a list, not a string (at character 9"),
        ("flatten(n)", "flatten takes a list, not an integer"),
        ("flatten(wx, wx)", "flatten takes one list"),
        ('["w", ["x"]]', "a list holds values of one type: a string and a list of string"),
    ],
)  # fmt: skip
def test_ill_typed_flatten_is_refused_at_the_character(text: str, words: str) -> None:
    with pytest.raises(CellError) as caught:
        compile_expression(text, ENV)
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"a", "b"', ("a", "b")),
        ('["a", "b"]', ("a", "b")),
        ("[]", ()),
        ("null", None),
        ('"a"', ("a",)),
    ],
)
def test_a_list_value_cell_reads_as_a_tuple(text: str, expected: object) -> None:
    from compiler.model import DataType

    assert cells.parse_list_value(text, DataType.STRING) == expected


# -- DMN ------------------------------------------------------------------------------


@pytest.mark.parametrize("books", ["letters", "chain"])
def test_export_and_import_give_the_same_tables(tmp_path: Path, books: str) -> None:
    from compiler.interop import dmn

    sheets = (
        {"letters": letters_table(), "letters tests": LETTERS_CASES}
        if books == "letters"
        else chain_tables()
    )
    project, _ = load_books(tmp_path / "first", {"b.xlsx": sheets})
    assert project is not None
    exported = dmn.export_dmn(project, (), "lists")
    assert not [m for m in exported.messages if m.severity == "error"]
    assert 'isCollection="true"' in exported.xml
    assert 'typeRef="t_list_of_string"' in exported.xml
    again = dmn.read_dmn(exported.xml.encode(), "lists.dmn")
    assert again.errors == ()
    dmn.write_workbook(again, tmp_path / "second" / "tables" / "b.xlsx")
    reread, _ = load_tables(tmp_path / "second" / "tables")
    assert reread is not None
    for decision in project.decisions:
        original = decision.first
        table = reread.decision(decision.name).first
        assert [(c.name, c.type, c.many, c.per_rule) for c in table.outputs] == [
            (c.name, c.type, c.many, c.per_rule) for c in original.outputs
        ]
        assert [(c.name, c.many, c.source_table) for c in table.inputs] == [
            (c.name, c.many, c.source_table) for c in original.inputs
        ]
        assert [r.outputs for r in table.rules] == [r.outputs for r in original.rules]
        assert [
            [e.text if e else None for e in r.output_expressions] for r in table.rules
        ] == [
            [e.text if e else None for e in r.output_expressions]
            for r in original.rules
        ]


def test_the_openapi_schema_types_list_outputs_and_inputs_as_arrays(
    tmp_path: Path,
) -> None:
    from compiler.serve.openapi import inputs_schema, outputs_schema

    project, _ = load_books(tmp_path, {"c.xlsx": chain_tables()})
    assert project is not None
    outputs = outputs_schema(project.decision("gen10"))["properties"]
    assert outputs["gen10"] == {"type": ["array", "null"], "items": {"type": "string"}}
    assert outputs["n"]["type"] == ["integer", "null"]
    letters, _ = load_books(tmp_path / "l", {"l.xlsx": {"letters": letters_table()}})
    assert letters is not None
    fixed = outputs_schema(letters.decision("letters"))["properties"]["fixed"]
    assert fixed["type"] == ["array", "null"]
    listed = decision_table(
        "listed",
        [("codes", "input", "list of code", None), ("o", "output", "string", None)],
        [("R1", 'any("a")', "yes"), ("R2", "-", "no")],
        hit_policy="FIRST",
    )
    found, _ = load_books(tmp_path / "i", {"i.xlsx": {"listed": listed}})
    assert found is not None
    codes = inputs_schema(found, found.decision("listed"))["properties"]["codes"]
    assert codes["type"] == ["array", "null"] and codes["items"] == {"type": "string"}
    assert codes["description"] == "list of code"


def test_the_html_report_shows_list_types_and_computed_cells(tmp_path: Path) -> None:
    tables = write_tables(
        tmp_path, {"l.xlsx": {"letters": letters_table(), "t": LETTERS_CASES}}
    )
    dest = tmp_path / "site"
    result = CliRunner().invoke(main, ["report", str(dest), "--tables", str(tables)])
    assert result.exit_code == 0, result.output
    page = (dest / "letters.html").read_text(encoding="utf-8")
    assert "<td>computed output</td><td>list of string</td>" in page
    assert "= flatten([[&#34;w&#34;, &#34;x&#34;], c])" in page


def test_a_list_output_default_is_a_list(tmp_path: Path) -> None:
    table = decision_table(
        "defaulted",
        [("c", "input", "string", None), ("out", "output", "list of string", None)],
        [("R1", '"c"', '"a", "b"')],
        hit_policy="FIRST",
        defaults={"out": "[]"},
    )
    module = compiled_module(
        compile_books(tmp_path, {"d.xlsx": {"t": table}}), "defaulted"
    )
    assert module.evaluate(c="c").outputs.out == ("a", "b")
    assert module.evaluate(c="z").outputs.out == ()


def test_the_analysis_of_a_chain_leaves_lists_to_the_derived_columns(
    tmp_path: Path,
) -> None:
    """A `from` list input with Values of its elements: no A309/A310 about the lists
    its source gives (they are not values of the column), and no examples (A312)."""
    docs = decision_table(
        "docs",
        [("c", "input", "string", None), ("docs", "output", "list of string", None)],
        [("R1", '"c"', '"a", "b"'), ("R2", 'not("c")', "[]")],
    )
    use = decision_table(
        "use",
        [
            ("docs", "from docs", "list of string", '"a", "b", "z"'),
            ("o", "output", "string", None),
        ],
        [("R1", 'any("a")', "has a"), ("R2", 'every("z")', "all z"), ("R3", "-", "x")],
        hit_policy="FIRST",
    )
    compilation = compile_books(tmp_path, {"a.xlsx": {"docs": docs, "use": use}})
    codes = [d.code for d in compilation.diagnostics]
    assert "A309" not in codes and "A310" not in codes
    assert "A312" in codes
    module = compiled_module(compilation, "use")
    assert module.evaluate(c="c").outputs.o == "has a"
    assert module.evaluate(c="d").outputs.o == "all z"  # every element of []


def test_any_rules_giving_different_lists_disagree(tmp_path: Path) -> None:
    table = decision_table(
        "anyt",
        [("c", "input", "string", None), ("l", "output", "list of string", None)],
        [("R1", '"c"', '"a", "b"'), ("R2", "-", '"a"')],
        hit_policy="ANY",
    )
    compilation = compile_books(tmp_path, {"a.xlsx": {"anyt": table}})
    (found,) = [d for d in compilation.diagnostics if d.code == "A302"]
    assert "R1: l = [a, b]; R2: l = [a]" in found.message


def test_the_decision_service_answers_lists_as_arrays(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from compiler.serve.app import create_app
    from compiler.serve.catalog import Service

    service = Service(write_tables(tmp_path, {"c.xlsx": chain_tables()}))
    assert service.compile()
    with TestClient(create_app(service)) as client:
        answer = client.post("/decisions/gen10", json={"c": "c"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"] == {"gen10": ["a", "b", "c", "c", "q"], "n": 3}
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        assert schema["gen10.Outputs"]["properties"]["gen10"]["type"] == [
            "array",
            "null",
        ]


def test_a_batch_run_writes_a_list_output_as_a_list_column(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    tables = write_tables(tmp_path, {"c.xlsx": chain_tables()})
    (tmp_path / "in.csv").write_text("c\nc\nd\n", encoding="utf-8")
    for name in ("out.parquet", "out.csv"):
        result = CliRunner().invoke(
            main,
            [
                "run",
                "gen10",
                "--tables",
                str(tables),
                "--out",
                str(tmp_path / "generated"),
                "--input",
                str(tmp_path / "in.csv"),
                "--output",
                str(tmp_path / name),
            ],
        )
        assert result.exit_code == 0, result.output
    rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["gen10"] for r in rows] == [["a", "b", "c", "c", "q"], ["a", "b"]]
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert '"[""a"", ""b""]",0,"R2"' in text  # a list as JSON text in CSV
