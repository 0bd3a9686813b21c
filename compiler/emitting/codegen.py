"""Stage 5: the model to Python source, through Jinja2 templates.

Python decides everything here (conditions, constants, imports) and hands the
templates plain strings and lists, so the templates only lay code out. Every value
from a cell reaches the code through `literals.py_literal`, i.e. as `repr()` of a
parsed, typed value; names are validated identifiers. Sources are then formatted
with ruff, pinned, so the bytes depend only on the tables.

Evaluators never test rules one by one (`index` computes what they look up):

- Each input column maps a value to a mask, an int with one bit per rule, through
  the constants that `masks.render_axis` writes (dicts, or bounds and slots).
- Where `strategy` allows (a tree of at most `strategy.TREE_ENTRIES` entries,
  codes of one length), `evaluate` walks a
  decision tree that `_runtime.decision_tree` builds from those masks at import:
  one level per input, a string column's nodes dicts keyed by its values, the
  prebuilt result at the leaf. Otherwise it ANDs the masks in one expression. Either
  runs inside `try`: a value of the wrong type or outside the Values raises
  KeyError/TypeError there, and the checked path (`_runtime.checked_mask`, with the
  same masks) raises InputError. In the mask form FIRST and PRIORITY read the winner
  as `_HITS[_N - mask.bit_length()]` (`_HITS[_N]` is the no-match result); UNIQUE
  first tests `mask & (mask - 1)`, and ANY hands several matches to the runtime,
  unless no input matches two rules (`index.disjoint`: then the winner is read as for
  FIRST); lists and aggregates go through the runtime once per distinct mask and are
  kept.
- `_HITS` lists the prebuilt results, one per rule, each under a comment naming the
  rule's id, workbook location and conditions in words: the readable rule list.
- `evaluate_frame` hands the same masks to `_frame.decide_frame` (vectorized).
- The test modules are rendered by `suites`.

The version-2 parts (the `_compute_` functions of computed and derived inputs,
`_finish` for computed outputs, list inputs) come from `computed`; the annotations,
`evaluate`'s parameters and the structures of path outputs from `signatures`.

The runtime (`compiler/emitting/runtime/`) is copied into the package as it is.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from compiler.checking.analyse import Example
from compiler.emitting import GENERATED_MARKER as GENERATED_MARKER
from compiler.emitting import folding, strategy
from compiler.emitting.computed import (
    computed_check,
    computed_inputs,
    finish_arguments,
    finish_code,
    finish_found,
    finish_frame,
    render_many,
)
from compiler.emitting.explain import explain_version
from compiler.emitting.formatting import format_sources, itemised, unsplit
from compiler.emitting.index import bit_order, build_axes, disjoint
from compiler.emitting.literals import environment, py_literal
from compiler.emitting.markdown import render_markdown
from compiler.emitting.masks import describe, render_axis
from compiler.emitting.runtime import FOLDER as RUNTIME
from compiler.emitting.runtime import SHIPPED
from compiler.emitting.signatures import (
    ERRORS,
    annotation,
    evaluate_params,
    merged_column,
    output_structures,
)
from compiler.emitting.suites import examples_suite, render_suite
from compiler.model import (
    TIME_TYPES,
    Compare,
    DataType,
    Decision,
    Equals,
    HitPolicy,
    Prefix,
    Project,
    Rule,
    Table,
    UnaryTests,
    Value,
)

# -- tables ----------------------------------------------------------------------------


def _entry_words(name: str, entry: UnaryTests) -> str:
    """An entry in words for the rule's comment: `age < 18`, `modality in ('CT', 'MRI')`."""
    texts = [describe(t) for t in entry.tests]
    if len(entry.tests) == 1:
        test = entry.tests[0]
        if isinstance(test, Equals):
            text = f"{name} is null" if test.value is None else f"{name} = {texts[0]}"
        elif isinstance(test, Compare):
            text = f"{name} {texts[0]}"
        elif isinstance(test, Prefix):
            text = f"{name} starts with {test.prefix!r}"
        else:
            text = f"{name} in {texts[0]}"
        return f"not ({text})" if entry.negated else text
    listed = "(" + ", ".join(texts) + ")"
    return f"{name} {'not in' if entry.negated else 'in'} {listed}"


def _rule_comment(
    table: Table, rule: Rule, seen: dict[tuple[str, int], str]
) -> list[str]:
    """`# R1, book.xlsx:Sheet!A13:F13: age < 18, modality = 'CT'`, wrapped at 88.
    SEEN keeps the words of each entry object (by id: the table keeps them alive;
    large tables share their entries, see `cells.parse_unary_tests`)."""
    words = []
    for c, e in zip(table.inputs, rule.inputs, strict=True):
        if not e.is_any:
            key = (c.name, id(e))
            found = seen.get(key)
            if found is None:
                found = seen[key] = _entry_words(c.name, e)
            words.append(found)
    text = f"{rule.id}, {rule.location}: {', '.join(words) or 'any input'}"
    text = " ".join(text.split())  # no line breaks in a comment
    if not text.isprintable():
        # Invisible characters (NUL, bidirectional overrides) as escapes, never raw.
        text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return ["# " + line for line in _wrap(text)]


def _wrap(text: str, width: int = 80, indent: str = "  ") -> list[str]:
    """`textwrap.wrap(text, width, subsequent_indent=indent)` of a comment's TEXT
    with the same lines, faster: single-spaced text without hyphens (where textwrap
    may also break) or words too long for a line is filled greedily with whole
    words, as textwrap does; anything else goes to textwrap. A large table writes a
    comment per rule."""
    if len(text) <= width:  # what textwrap gives a single-spaced text that fits
        return [text]
    words = text.split(" ")
    if (
        "-" in text
        or words != text.split()  # other whitespace, or not single spaces
        or max(map(len, words)) > width - len(indent)
    ):
        return textwrap.wrap(text, width, subsequent_indent=indent)
    lines = []
    room = width  # of the line begun: WIDTH less its indent
    while len(text) > room:
        cut = text.rfind(" ", 0, room + 1)  # after the last word that fits
        lines.append(text[:cut])
        text = text[cut + 1 :]
        room = width - len(indent)
    lines.append(text)
    return [lines[0], *(indent + line for line in lines[1:])]


def _outputs_literal(table: Table, values: tuple[Value, ...]) -> str:
    return "Outputs(" + ", ".join(py_literal(v) for v in values) + ")"


def _hit_literal(table: Table, rule: Rule) -> str:
    """A rule's prebuilt hit: a whole Result for single-hit policies, else an
    (outputs, rule id) pair that the runtime collects or aggregates."""
    outputs = _outputs_literal(table, rule.outputs)
    if table.returns_list or table.aggregation is not None:
        return f"({outputs}, {py_literal(rule.id)})"
    return f"Result({outputs}, ({py_literal(rule.id)},))"


def _no_match(table: Table) -> str:
    defaults = tuple(c.default for c in table.outputs)
    if table.returns_list:
        if any(c.has_default for c in table.outputs):
            return f"Result(({_outputs_literal(table, defaults)},), ())"
        return "Result((), ())"
    if table.aggregation is not None and table.aggregation.value == "COUNT":
        defaults = tuple(c.default if c.has_default else 0 for c in table.outputs)
    return f"Result({_outputs_literal(table, defaults)}, ())"


def _ranks(table: Table) -> list[tuple[str, str]]:
    return [(py_literal(rule.id), py_literal(table.rank(rule))) for rule in table.rules]


def _decide_lines(
    table: Table, prefix: str, disjoint: bool = False, decided: bool = False
) -> list[str]:
    """The code that turns `mask` (the matching rules) into the Result. DISJOINT: no
    input matches two rules, so UNIQUE and ANY need no check of several matches.
    DECIDED: the winner of every mask is in `_DECIDED` (`strategy.decided`)."""
    p = prefix
    first = f"return {p}_HITS[{p}_N - mask.bit_length()]"
    if decided:
        first = f"return {p}_DECIDED[mask]"
    hits = f"hits_of(mask, {p}_N, {p}_HITS)"
    policy = table.hit_policy
    if table.aggregation is not None:
        kind = py_literal(table.aggregation.value)
        return [f"return aggregate({kind}, {hits}, {p}_NO_MATCH, Result, Outputs)"]
    if policy in (HitPolicy.FIRST, HitPolicy.PRIORITY):
        return [first]
    if policy in (HitPolicy.UNIQUE, HitPolicy.ANY) and disjoint:
        return ["# No input matches two rules (checked when compiled).", first]
    if policy is HitPolicy.UNIQUE:
        return [
            "if mask & (mask - 1):",
            f"    raise ambiguous(TABLE, mask, {p}_N, {p}_HITS)",
            first,
        ]
    if policy is HitPolicy.ANY:
        return [
            "if mask & (mask - 1):",
            f"    return any_(TABLE, {hits}, {p}_NO_MATCH, Result)",
            first,
        ]
    if policy is HitPolicy.OUTPUT_ORDER:
        return [f"return output_order({hits}, {p}_RANKS, {p}_NO_MATCH, Result)"]
    return [f"return collect({hits}, {p}_NO_MATCH, Result)"]


_DECIDE_NAMES = {
    "UNIQUE": {"ambiguous"},
    "ANY": {"any_", "hits_of"},
    "COLLECT": {"collect", "hits_of"},
    "RULE_ORDER": {"collect", "hits_of"},
    "OUTPUT_ORDER": {"output_order", "hits_of"},
}


def _version(
    project: Project, decision: Decision, table: Table, number: int
) -> dict[str, Any]:
    prefix = f"_V{number}" if decision.versioned else ""
    order = bit_order(table)
    n = len(order)
    axes = build_axes(table, order)
    single_match = table.hit_policy in (HitPolicy.UNIQUE, HitPolicy.ANY) and disjoint(
        table, axes, order
    )
    columns = [
        render_many(a.column, prefix, n)
        if a.column.many
        else render_axis(a, prefix, n, i)
        for i, a in enumerate(axes)
    ]
    single = not table.returns_list and table.aggregation is None
    seen: dict[tuple[str, int], str] = {}
    hits = itemised(
        [
            "".join(f"    {line}\n" for line in _rule_comment(table, rule, seen))
            + f"    {_hit_literal(table, rule)},\n"
            for rule in (table.rules[p] for p in order)
        ],
        "(",
    )
    names = {n for c in columns for n in c.names} | (
        {"checked_mask"} if columns else set()
    )
    if table.aggregation is not None:
        names |= {"aggregate", "hits_of"}
    elif not single_match:
        names |= _DECIDE_NAMES.get(table.hit_policy.name, set())
    looked_up, tree_columns = (columns, None)
    if not decision.versioned:  # version 2: a list's entries as one lookup
        looked_up, tree_columns = folding.fold(table, axes, columns, prefix, n)
    fast = " & ".join(c.fast for c in looked_up)
    if len(looked_up) < 2:  # AND with every rule, so that OUTSIDE raises
        fast = f"{prefix}_ALL & {fast}" if fast else f"{prefix}_ALL"
    arguments = ", ".join(c.name for c in table.inputs)
    function = f"_rules_v{number}" if decision.versioned else "_rules"
    decide = f"_decide_v{number}" if decision.versioned else "_decide"
    # Lists and aggregates are built once per distinct set of matches, then kept.
    finishing = any(r.output_expressions for r in table.rules)  # version 2
    memo = table.returns_list or table.aggregation is not None or finishing
    first = not memo and (
        table.hit_policy in (HitPolicy.FIRST, HitPolicy.PRIORITY) or single_match
    )
    # early leaves (small tables) only over the columns as written, not folded
    leaves = not finishing and tree_columns is None
    tree = strategy.decision_tree(
        looked_up, prefix, n, decide, first, leaves, runtime=tree_columns
    )
    early = None
    if tree and tree[2] is not None:
        level = tree[2]
        early = {
            "head": f"{prefix}_TREE"
            + "".join(f"[{c.index}]" for c in looked_up[:level]),
            "valid": " and ".join(
                c.valid or f"({c.index} is not None)" for c in looked_up[level:]
            ),
            "rest": "".join(f"[{c.index}]" for c in looked_up[level:]),
        }
    for c in columns:  # the constants that the chosen lookup reads
        extra = c.index_code if tree else c.fast_code
        c.code += f"\n{extra}" if extra else ""
        names |= {"decision_tree", *c.index_names} if tree else c.fast_names
    if tree:
        fast = tree[1]
    decided = None if memo else strategy.decided(prefix, n)
    guards = []
    if table.effective_from:
        guards.append(f"{py_literal(table.effective_from)} <= as_of")
    if table.effective_to:
        guards.append(f"as_of <= {py_literal(table.effective_to)}")
    if table.hit_policy in (HitPolicy.FIRST, HitPolicy.PRIORITY):
        frame_policy = "first"
    elif table.hit_policy is HitPolicy.UNIQUE or single_match:
        frame_policy = "first" if single_match else "unique"
    else:
        frame_policy = "python"
    effective = f"{py_literal(table.effective_from)}, {py_literal(table.effective_to)}"
    rules = itemised(
        [
            f"    Rule({py_literal(rule.id)}, {py_literal(str(rule.location))}, "
            f"{py_literal(tuple(rule.annotations))}),\n"
            for rule in table.rules
        ],
        "(",
    )
    return {
        "rules": rules,
        "function": function,
        "decide": decide,
        "params": [
            {
                "name": c.name,
                "annotation": annotation(
                    c, literal=not c.source_table and not c.computed
                ),
            }
            for c in table.inputs
        ],
        "call": f"{function}({arguments})",
        "guard": " and ".join(guards) or "True",
        "prefix": prefix,
        "location": py_literal(str(table.location)),
        "n": n,
        "order": "priority order (the first is the winner)"
        if table.hit_policy is HitPolicy.PRIORITY
        else "rule order",
        "single": single,
        "no_match": _no_match(table),
        "hits": hits,
        "ranks": _ranks(table) if table.hit_policy is HitPolicy.OUTPUT_ORDER else None,
        "columns": columns,
        "fast": fast,
        "checked": f"checked_mask({prefix}_COLUMNS, ({arguments}{',' if len(table.inputs) == 1 else ''}), {prefix}_ALL)",
        "decide_lines": [
            f"return _finish({decide}(mask), {finish_arguments(table)})"
            if finishing
            else f"return {decide}(mask)"
        ]
        if memo
        else _decide_lines(table, prefix, single_match, decided is not None),
        "finish": finish_code(table) if finishing else "",
        "finish_found": finish_found(table),
        "build_lines": _decide_lines(table, prefix, single_match, decided is not None),
        "decided": decided,
        "tree": tree[0] if tree else "",
        "early": early,
        "memo": memo,
        "frame": f"Version({effective}, {prefix}_COLUMNS, {prefix}_N, {prefix}_HITS,"
        f' "{frame_policy}", {"_decide_v" + str(number) if decision.versioned else "_decide"})',
        "names": names,
        "title": py_literal(table.title),
        "source": py_literal(table.source),
        "explain": explain_version(table, order),
    }


def _requirements(project: Project, table: Table) -> list[dict[str, Any]]:
    """The calls that compute `from` inputs: which table, with which arguments."""
    calls: list[dict[str, Any]] = []
    for column in table.inputs:
        if column.source_table:
            required = column.source_table
            arguments = list(
                dict.fromkeys(
                    c.path[0] if c.path else c.name
                    for c in project.chain_inputs(required)
                )
            )
            if project.chain_versioned(required):
                arguments.append("as_of")
            calls.append(
                {
                    "module": f"_{required}",
                    "table": required,
                    "name": column.name,
                    "arguments": arguments,
                    # version 2: a list input reading a COLLECT table's list of rows
                    "collect": project.decision(required).first.returns_list,
                    "index": len(calls),
                }
            )
    return calls


_STDLIB = {"bisect_right"}


def _import_order(name: str) -> tuple[int, str]:
    """isort's order within one import: CONSTANTS, Classes, functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def render_table(project: Project, decision: Decision) -> str:
    first = decision.first
    versions = [
        _version(project, decision, t, n)
        for n, t in enumerate(decision.versions, start=1)
    ]
    chain = project.chain_inputs(decision.name)
    versioned = project.chain_versioned(decision.name)
    outputs = [
        {"name": c.name, "annotation": annotation(merged_column(decision, c))}
        for c in first.outputs
    ]
    params = evaluate_params(project, chain)
    paths = [  # version 2: the path inputs evaluate reads from their mappings
        {
            "name": c.name,
            "header": c.header,
            "root": c.path[0],
            "fields": py_literal(c.path[1:]),
        }
        for c in dict.fromkeys(c for t in decision.versions for c in t.inputs)
        if c.path
    ]
    annotations = [p["annotation"] for p in params + outputs] + [
        p["annotation"] for v in versions for p in v["params"]
    ]
    types = {c.type for c in chain} | {
        c.type for t in decision.versions for c in t.inputs + t.outputs
    }
    typing_names = ["TYPE_CHECKING", "NamedTuple"]
    if any("Literal[" in a for a in annotations):
        typing_names.insert(1, "Literal")
    if any(c.path for c in chain):  # a structured input's mapping
        typing_names = sorted({*typing_names, "Any"}, key=_typing_order)
    structures, properties = output_structures(first.outputs, outputs)
    if structures:  # version 2: path outputs, read as dicts
        typing_names = sorted({*typing_names, "TypedDict"}, key=_typing_order)
    used = {"Rule", "Version", *ERRORS} | {n for v in versions for n in v["names"]}
    years_months = DataType.YEARS_MONTHS in types  # version 2: its value type
    if years_months:
        used.add("YearsMonths")
    if versioned:
        used.add("evaluation_date")
    if first.returns_list:
        shape = "list"
    elif first.aggregation is not None or first.hit_policy is HitPolicy.ANY:
        shape = "multi"
    else:
        shape = "single"
    computed = computed_inputs(
        first, versions[0]["prefix"], folds=not decision.versioned
    )
    if computed:  # their frame functions take and give any frame column
        typing_names = sorted({*typing_names, "Any"}, key=_typing_order)
    finishing = bool(versions[0]["finish"])
    names_used = _datetime_names(versioned or DataType.DATE in types, types)
    for c in computed:
        code = "\n".join([c["python"], *c["constants"]])
        found = re.findall(r"\b(timedelta|datetime|date|time)\(", code)
        names_used = sorted({*names_used, *found})
    return (
        environment()
        .get_template("table.py.j2")
        .render(
            rules="".join(v["rules"] for v in versions),
            paths=paths,
            computed=computed,
            finishing=finishing,
            finish_frame=finish_frame(first) if finishing else None,
            computed_check=computed_check(first, versions[0]["prefix"]),
            name=decision.name,
            workbook=py_literal(first.location.path),
            title=py_literal(first.title),
            source=py_literal(first.source),
            hit_policy=py_literal(first.hit_policy_text),
            hit_policy_name=first.hit_policy_text,
            outputs=outputs,
            structures=structures,
            properties=properties,
            returns_list=first.returns_list,
            params=params,
            any_required=any(c.required for c in chain),
            requirements=_requirements(project, first),
            versioned=decision.versioned,
            takes_as_of=versioned,
            versions=versions,
            datetime_names=names_used,
            stdlib_names=sorted(used & _STDLIB),
            runtime_names=sorted(used - _STDLIB, key=_import_order),
            typing_names=typing_names,
            years_months=years_months,
            shape=shape,
        )
    )


def _typing_order(name: str) -> tuple[int, str]:
    """`from typing import` names in the order version 1 writes them (TYPE_CHECKING
    first), then any others alphabetically."""
    return (0 if name == "TYPE_CHECKING" else 1, name)


def _datetime_names(uses_date: bool, types: set[DataType]) -> list[str]:
    """What a module imports from datetime: `date` as in version 1, and the classes
    of the version-2 time types it holds."""
    names = ["date"] if uses_date else []
    names += sorted(t.python for t in types if t in TIME_TYPES)
    return sorted(names)


# -- the package -----------------------------------------------------------------------


def render_package(
    project: Project,
    examples: dict[str, tuple[Example, ...]] | None = None,
    misses: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, str]:
    """Every generated file, by path relative to the output folder (unformatted).
    EXAMPLES (from `analyse.examples`) become `tests/examples/test_<table>.py`, whose
    docstring lists the MISSES of the table (rules no example was found for)."""
    env = environment()
    files = {
        "__init__.py": env.get_template("init.py.j2").render(
            tables=[d.name for d in project.decisions],
            workbooks=[py_literal(w) for w in project.workbooks],
        ),
        **{
            name: f"{GENERATED_MARKER}: do not edit.\n"
            + (RUNTIME / name).read_text(encoding="utf-8")
            for name in SHIPPED
        },
        **(
            {
                "_feel.py": f"{GENERATED_MARKER}: do not edit.\n"
                + (RUNTIME / "_feel.py").read_text(encoding="utf-8")
            }
            if any(
                # computed inputs, computed outputs, path inputs (version 2)
                c.computed or c.per_rule or c.path
                for d in project.decisions
                for t in d.versions
                for c in (*t.inputs, *t.outputs)
            )
            else {}
        ),
        # PEP 561: the package ships its types (mypy --strict passes on it).
        "py.typed": f"{GENERATED_MARKER}: do not edit.\n",
    }
    for decision in project.decisions:
        files[f"{decision.name}.py"] = render_table(project, decision)
        files[f"{decision.name}.md"] = render_markdown(project, decision)
    if project.suites:
        files["tests/__init__.py"] = (
            f'{GENERATED_MARKER}: do not edit.\n"""Tests generated from the Tests sheets."""\n'
        )
        for suite in project.suites:
            files[f"tests/{suite.module}.py"] = render_suite(project, suite)
    generated = {name: cases for name, cases in (examples or {}).items() if cases}
    if generated:
        files.setdefault(
            "tests/__init__.py",
            f'{GENERATED_MARKER}: do not edit.\n"""Tests generated from the tables."""\n',
        )
    if "tests/__init__.py" in files:  # what every generated case checks, written once
        files["tests/_check.py"] = env.get_template("check.py.j2").render()
    if generated:
        files["tests/examples/__init__.py"] = (
            f"{GENERATED_MARKER}: do not edit.\n"
            '"""Tests the analysis generated: an input that makes each rule decide, and\n'
            "both sides of every range edge and version date, expecting what the reference\n"
            'interpreter answers."""\n'
        )
        for name, cases in sorted(generated.items()):
            decision = project.decision(name)
            about = (
                f"Generated cases for the table `{name}`.\n\nAn input that makes each "
                "rule decide, and both sides of every range edge\nand version date, "
                "expecting what the reference interpreter answers.\n"
            )
            missed = (misses or {}).get(name)
            if missed:
                about += (
                    "\nNo example found (within the search budget for computed "
                    f"inputs) for: {', '.join(missed)}.\n"
                )
            files[f"tests/examples/test_{name}.py"] = render_suite(
                project, examples_suite(decision, cases), about=about, package="..."
            )
    return files


def generate(
    project: Project,
    *,
    formatted: bool = True,
    examples: dict[str, tuple[Example, ...]] | None = None,
    misses: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, str]:
    files = render_package(project, examples, misses)
    if not formatted:
        return {name: unsplit(text) for name, text in files.items()}
    sources = {name: text for name, text in files.items() if name.endswith(".py")}
    return {**files, **format_sources(sources)}
