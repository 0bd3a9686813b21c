"""The tables of bench/version2.py (issues 15 and 18), at a tiny size: the version-2
claim table and its scalar twin compile without errors, are twins (same rules, hit
policy and tested columns; the twin in version-1 types only) and decide alike; the
chained routing table decides as its parts. No timing is asserted: `python -m bench`
measures it."""

from __future__ import annotations

from pathlib import Path

from bench import tables as T
from bench import version2
from compiler.diagnostics import Severity
from compiler.pipeline import compile_tables

VERSION_1_TYPES = {"string", "code", "integer", "number", "boolean", "date"}


def _columns(rows: list[list[object]]) -> dict[str, list[object]]:
    """The column rows of a sheet (Rule, Kind, Type, ...), by label."""
    return {str(r[0]): r[1:] for r in rows if r and r[0] in ("Rule", "Kind", "Type")}


def _rules(rows: list[list[object]]) -> list[list[object]]:
    """The rule rows of a sheet: those below its Values or Expression row."""
    at = next(i for i, r in enumerate(rows) if r and r[0] in ("Values", "Expression"))
    return rows[at + 1 :]


def test_the_claim_table_and_its_twin_compile_without_errors(tmp_path: Path) -> None:
    spec = T.claim_table(12)
    sheets = {
        spec.name: T.claim_sheet_rows(spec),
        spec.scalar_name: T.scalar_sheet_rows(spec),
    }
    T.write_sheets(tmp_path / "tables" / "claims.xlsx", sheets)
    compilation = compile_tables(tmp_path / "tables")  # analysis and examples too
    errors = [
        d.format() for d in compilation.diagnostics if d.severity is Severity.ERROR
    ]
    assert not errors, errors
    assert compilation.files is not None
    assert f"{spec.name}.py" in compilation.files
    assert f"{spec.scalar_name}.py" in compilation.files


def test_the_twins_are_twins() -> None:
    spec = T.claim_table(40)
    v2, scalar = T.claim_sheet_rows(spec), T.scalar_sheet_rows(spec)
    assert v2[1] == scalar[1] == ["Hit policy", "FIRST"]
    ids = [r.id for r in spec.rules]
    assert [r[0] for r in _rules(v2)] == [r[0] for r in _rules(scalar)] == ids
    assert len(set(ids)) == len(ids) == 40
    v2_columns, scalar_columns = _columns(v2), _columns(scalar)
    tested = [  # the columns the rules test: computed inputs and inputs with entries
        name
        for i, name in enumerate(v2_columns["Rule"])
        if "input" in str(v2_columns["Kind"][i]) or v2_columns["Kind"][i] == "computed"
        if any(r[i + 1] != "-" for r in _rules(v2))
    ]
    scalar_inputs = [
        n for n, k in zip(scalar_columns["Rule"], scalar_columns["Kind"], strict=True)
        if k == "input"
    ]  # fmt: skip
    assert len(tested) == len(scalar_inputs) == 5, tested
    assert set(map(str, scalar_columns["Type"])) <= VERSION_1_TYPES
    # the version-2 table uses the version-2 features together
    kinds, types = v2_columns["Kind"], v2_columns["Type"]
    assert {"computed", "computed output"} <= set(kinds)
    assert {"duration", "list of code"} <= set(types)
    entries = {str(c) for r in _rules(v2) for c in r[1:]}
    assert any("date_of_service" in e for e in entries)  # entries naming an input
    assert any(e.startswith("any(") and ".*" in e for e in entries)  # prefix any-match


def test_the_twins_decide_alike(tmp_path: Path) -> None:
    spec, v2, scalar = version2.claim_modules(25, tmp_path)
    claims = T.claim_inputs(500, seed=1)
    decided = set()
    for claim in claims:
        got = v2.evaluate(**claim)
        want = scalar.evaluate(**T.scalar_inputs(claim))
        assert got.matched == want.matched, claim
        assert got.outputs.decision == want.outputs.decision, claim
        expires = claim["authorization_expires"] - claim["date_of_service"]
        assert got.outputs.days_left == expires.days, claim  # the output expression
        decided |= set(got.matched)
    assert len(decided) > 1  # the inputs reach more than the catch-all


def test_a_chain_decides_as_its_parts(tmp_path: Path) -> None:
    spec, first, chain, alone = version2.chain_modules(10, tmp_path)
    assert chain.TABLE == f"route_{spec.name}"
    for x in T.random_inputs(300, seed=2):
        decision = first.evaluate(**x).outputs.decision
        for urgency in T.URGENCIES:
            got = chain.evaluate(**x, urgency=urgency)
            assert got == alone.evaluate(decision=decision, urgency=urgency), x
            assert got.outputs.queue == f"{decision}-{urgency}"


def test_the_bench_rows_run_and_report() -> None:
    found = version2.measure([10], quick=True)
    lines = version2.report(found)
    assert [r["table"] for r in found["claims"]] == ["claim_10"]
    assert [r["table"] for r in found["chains"]] == ["route_first_10"]
    assert any(line.startswith("| claim_10 | 10 |") for line in lines)
    assert any(line.startswith("| route_first_10 | 10 |") for line in lines)
