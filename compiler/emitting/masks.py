"""The axes of `compiler.emitting.index` as code, one input column at a time.

Each input column maps a value to a mask, an int with one bit per rule. The rule in
position k of the bit order (rule order; priority order for PRIORITY) is bit n-1-k,
so the masks are emitted as literals that read in rule order: binary up to 32
rules, hex beyond; past 64 rules a sparse mask is `bits(n, positions...)`, so a
lookup table's module grows with its rules, not their square.

- Strings, booleans and codes tested by value: a dict (value -> mask).
- Integers, numbers, dates, other codes: sorted BOUNDS of half-open slots and one
  mask per slot (`bisect_right`, or inline comparisons when the bounds are few:
  `strategy.slot_tree`), a comment naming each slot; short integer Values lists
  become a dict per value at import (`by_value`).
- Slots outside the Values hold OUTSIDE, whose AND raises; so does the null of a
  `required input`.

For each column, `render_axis` gives its constants (code), the fast expression that
`evaluate` looks a value up with, and the runtime `Lookup`/`Ranges` object that the
checked path and evaluate_frame read the same masks through.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from compiler.emitting import strategy
from compiler.emitting.index import Axis, after
from compiler.emitting.literals import py_literal
from compiler.model import Column, DataType, Equals, Interval, Prefix, Test, YearsMonths
from compiler.timetypes import iso_duration


def _mask(mask: int | None, n: int) -> str:
    """A mask literal: binary (rule order left to right) for small tables, else hex;
    OUTSIDE for a slot outside the Values."""
    if mask is None:
        return "OUTSIDE"
    if n <= 32:
        return f"0b{mask:0{max(n, 1)}b}"
    literal = f"0x{mask:0{(n + 3) // 4}X}"
    if n <= 64:
        return literal
    runs = _set_runs(mask, n)
    if 8 * len(runs) >= len(literal):  # dense: the hex digits are shorter
        return literal
    listed = (str(a) if a == b else f"({a}, {b})" for a, b in runs)
    return f"bits({n}, {', '.join(listed)})" if runs else "0"


_ONES = re.compile("1+")


def _set_runs(mask: int, n: int) -> list[tuple[int, int]]:
    """The positions (k-th rule of the bit order: bit n-1-k) MASK sets, as runs."""
    # The k-th digit of the binary literal is bit n-1-k: the runs of ones, found in
    # one pass (clearing each run of a 16,384-bit int costs a pass per run).
    return [(m.start(), m.end() - 1) for m in _ONES.finditer(f"{mask:0{n}b}")]


def _bound(value: object) -> str:
    if isinstance(value, float) and math.isinf(value):
        return 'float("inf")'
    return py_literal(value)


def _shown(value: object) -> str:
    """A bound as a comment shows it: as `_described`, an infinite one `inf`."""
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return _described(value)


def _slot_text(bounds: tuple[object, ...], slot: int) -> str:
    """`[18, 65)`, `< 0`, `>= 131`, or `= 30.0` for a slot holding one value."""
    low = bounds[slot - 1] if slot > 0 else None
    high = bounds[slot] if slot < len(bounds) else None
    if isinstance(low, float) and math.isinf(low):
        return "inf, NaN: the checked path"
    if low is None:
        return "any value" if high is None else f"< {_shown(high)}"
    if high is None:
        return f">= {_shown(low)}"
    if after(low) == high:  # type: ignore[arg-type]
        return f"= {_shown(low)}"
    return f"[{_shown(low)}, {_shown(high)})"


def _int_values(column: Column) -> str | None:
    """The integers a short Values list allows, as code (`range(0, 131)`), or None."""
    if column.type is not DataType.INTEGER or column.values is None:
        return None
    spans: list[tuple[int, int]] = []
    for test in column.values.tests:
        if isinstance(test, Equals) and isinstance(test.value, int):
            spans.append((test.value, test.value + 1))
        elif isinstance(test, Interval) and isinstance(test.low, int):
            assert isinstance(test.high, int)
            low = test.low + (0 if test.low_closed else 1)
            high = test.high + (1 if test.high_closed else 0)
            spans.append((low, high))
        else:
            return None
    if len(spans) > 4 or sum(b - a for a, b in spans) > 4096:
        return None
    ranges = [f"range({a}, {b})" for a, b in spans if b > a]
    if len(ranges) == 1:
        return ranges[0]
    return "(" + ", ".join(f"*{r}" for r in ranges) + ",)"


@dataclass
class Rendered:
    """One column's constants (code), fast expression, and runtime object; for a
    decision tree (`strategy.tree_entries`), the index of a value's entry in its
    node (INDEX, with the constants it reads in INDEX_CODE), whether nodes are keyed
    by the value itself (KEYED), and the mask of each atom (ATOMS; None: no tree)."""

    code: str
    fast: str
    spec: str
    names: set[str] = field(default_factory=set)  # runtime and stdlib names it uses
    fast_code: str = ""  # constants that only the fast expression reads
    fast_names: set[str] = field(default_factory=set)
    index: str = ""
    index_code: str = ""
    index_names: set[str] = field(default_factory=set)
    keyed: bool = False
    atoms: list[int | None] | None = None
    # whether a value is valid (type and Values), as the tree's early leaves need
    # it (`strategy.early_level`); "": `index is not None`
    valid: str = ""
    saves: int = 1  # the steps an early leaf saves on this column (`early_level`)


def _chain(cases: list[tuple[str, int]], last: str = "None") -> str:
    """`(0 if x is True else 1 if x is False else None)`: the index of the first
    of CASES (a test, the index) that passes, else LAST."""
    text = last
    for test, index in reversed(cases):
        text = f"{index} if {test} else {text}"
    return f"({text})" if cases else last


def render_axis(axis: Axis, prefix: str, n: int, position: int) -> Rendered:
    """One input column's masks and how `evaluate` looks a value up in them."""
    rendered = _render_masks(axis, prefix, n, position)
    if "bits(" in rendered.code:
        rendered.names.add("bits")
    if axis.null is None:  # a required input: a missing value is OUTSIDE
        rendered.names.add("OUTSIDE")
    return rendered


def _render_masks(axis: Axis, prefix: str, n: int, position: int) -> Rendered:
    column = axis.column
    x = column.name
    base = f"{prefix}_{x.upper()}"
    allowed = py_literal(_allowed_text(column))
    head = f"# {x} ({column.type.value})"
    if axis.kind == "lookup":
        lines = []
        names = {"Lookup"}
        if column.type is DataType.BOOLEAN:
            masks = dict(zip(axis.keys, axis.key_masks, strict=True))
            true, false = masks.get(True), masks.get(False)
            lines += [
                f"{head}: the rules that accept true, false, null",
                f"{base}_TRUE = {_mask(true, n)}",
                f"{base}_FALSE = {_mask(false, n)}",
                f"{base}_NULL: dict[object, int] = {{None: {_mask(axis.null, n)}}}",
            ]
            names |= {"OUTSIDE"} if true is None or false is None else set()
            listed = ", ".join(
                f"{k}: {base}_{str(k).upper()}" for k in (True, False) if k in masks
            )
            fast = (
                f"({base}_TRUE if {x} is True else {base}_FALSE if {x} is False"
                f" else {base}_NULL[{x}])"
            )
            spec = f'Lookup(TABLE, "{x}", "boolean", {{{listed}}}, {base}_NULL[None], {allowed})'
            present = [k for k in (True, False) if k in masks]
            atoms = [masks[k] for k in present] + [axis.null]
            cases = [(f"{x} is {k}", i) for i, k in enumerate(present)]
            cases.append((f"{x} is None", len(present)))
            valid_cases = [
                c for c, a in zip(cases, atoms, strict=True) if a is not None
            ]
            index = _chain(valid_cases)
            valid = " or ".join(c for c, _ in valid_cases) or "False"
            return Rendered(
                "\n".join(lines),
                fast,
                spec,
                names,
                index=index,
                atoms=atoms,
                valid=f"({valid})",
            )
        lines.append(f"{head}: the rules that accept each value")
        lines.append(f"{base}: dict[object, int] = {{")
        for key, mask in zip(axis.keys, axis.key_masks, strict=True):
            lines.append(f"    {py_literal(key)}: {_mask(mask, n)},")
        if axis.other is None:
            lines.append(f"    None: {_mask(axis.null, n)},")
            lines.append("}")
            spec = f'Lookup(TABLE, "{x}", "{column.type.value}", {base}, {base}[None], {allowed})'
            atoms = [*axis.key_masks, axis.null]
            valid = f"{x} in {base}"  # the dict holds None, OUTSIDE when required
            if axis.null is None:
                valid += f" and {x} is not None"
            return Rendered(
                "\n".join(lines),
                f"{base}[{x}]",
                spec,
                names,
                index=x,
                keyed=True,
                atoms=atoms,
                valid=f"({valid})",
                saves=1,
            )
        lines.append("}")
        lines.append(f"{base}_OTHER = {_mask(axis.other, n)}  # any other string")
        lines.append(
            f"{base}_NULL: dict[object, int] = {{None: {_mask(axis.null, n)}}}"
        )
        fast = (
            f"({base}.get({x}, {base}_OTHER) if type({x}) is str else {base}_NULL[{x}])"
        )
        spec = (
            f'Lookup(TABLE, "{x}", "{column.type.value}", {base}, {base}_NULL[None],'
            f" {allowed}, {base}_OTHER)"
        )
        atoms = [*axis.key_masks, axis.null, axis.other]
        null = len(axis.keys) if axis.null is not None else None
        index = (
            f"({base}_INDEX.get({x}, {len(axis.keys) + 1}) if type({x}) is str"
            f" else {_chain([] if null is None else [(f'{x} is None', null)])})"
        )
        code = f"{base}_INDEX = {{v: i for i, v in enumerate({base})}}"
        return Rendered(
            "\n".join(lines),
            fast,
            spec,
            names,
            index=index,
            index_code=code,
            atoms=atoms,
        )
    names = {"Ranges"}
    lines = [f"{head}: slots [BOUNDS[i-1], BOUNDS[i]) and the rules that accept them"]
    lanes = []
    for lane in axis.lanes:
        name = base if lane.length is None else f"{base}_{lane.length}"
        if lane.length is not None:
            lines.append(f"# codes of {lane.length} characters")
        elif len(axis.lanes) > 1:
            lines.append("# codes of other lengths")
        listed = ", ".join(_bound(b) for b in lane.bounds)
        comma = "," if len(lane.bounds) == 1 else ""
        lines.append(f"{name}_BOUNDS = ({listed}{comma})")
        lines.append(f"{name}_MASKS = (")
        for slot, slot_mask in enumerate(lane.masks):
            text = _slot_text(lane.bounds, slot)
            lines.append(f"    {_mask(slot_mask, n)},  # {text}")
        lines.append(")")
        if any(m is None for m in lane.masks):
            names.add("OUTSIDE")
        if lane.length is not None:
            lanes.append(f"{lane.length}: ({name}_BOUNDS, {name}_MASKS)")
    lines.append(f"{base}_NULL: dict[object, int] = {{None: {_mask(axis.null, n)}}}")
    extra = ""
    if lanes:
        extra += ", lanes={" + ", ".join(lanes) + "}"
    if axis.nan is not None:
        lines.append(f"{base}_NAN = {_mask(axis.nan, n)}")
        lines.append(f"{base}_INF = {_mask(axis.inf, n)}")
        extra += f", nan={base}_NAN, inf={base}_INF"
    spec = (
        f'Ranges(TABLE, "{x}", "{column.type.value}", {base}_BOUNDS, {base}_MASKS,'
        f" {base}_NULL[None], {allowed}{extra})"
    )
    if lanes:
        return Rendered(
            "\n".join(lines), f"{prefix}_COLUMNS[{position}].mask({x})", spec, names
        )
    type_ok = {
        DataType.INTEGER: f"type({x}) is int",
        DataType.NUMBER: f"type({x}) is float or type({x}) is int",
        DataType.DATE: f"type({x}) is date",
        DataType.CODE: f"type({x}) is str",
        DataType.DURATION: f"type({x}) is timedelta",
        # naive only: a zoned value takes the checked path (InputError)
        DataType.TIME: f"(type({x}) is time and {x}.tzinfo is None)",
        DataType.DATETIME: f"(type({x}) is datetime and {x}.tzinfo is None)",
        DataType.YEARS_MONTHS: f"type({x}) is YearsMonths",
    }[column.type]
    values = _int_values(column)
    rendered = Rendered("\n".join(lines), "", spec, names)
    if values is not None:
        rendered.fast_code = (
            f"{base}_BY_VALUE = by_value({base}_BOUNDS, {base}_MASKS, {values})"
        )
        rendered.fast_names.add("by_value")
        found = f"{base}_BY_VALUE[{x}]"
    else:
        found = strategy.slot_tree(x, axis.lanes[-1].bounds, base) or ""
        if not found:
            rendered.fast_names.add("bisect_right")
            found = f"{base}_MASKS[bisect_right({base}_BOUNDS, {x})]"
    rendered.fast = f"({found} if {type_ok} else {base}_NULL[{x}])"
    _slot_index(rendered, axis, base, type_ok, values)
    return rendered


def _slot_index(
    rendered: Rendered, axis: Axis, base: str, type_ok: str, values: str | None
) -> None:
    """RENDERED's index in a decision tree's nodes for a range column (one lane):
    the slot of the value, by value for a short Values list, inline comparisons for
    few bounds, else `bisect_right`; null and a slot outside the Values as atoms."""
    x = axis.column.name
    lane = axis.lanes[-1]
    atoms = [*lane.masks, axis.null]
    if axis.nan is not None:
        atoms += [axis.nan, axis.inf]
    null = None if axis.null is None else len(lane.masks)
    slots = [str(i) if m is not None else "None" for i, m in enumerate(lane.masks)]
    if values is not None:
        rendered.index_code = (
            f"{base}_SLOTS = by_slot({base}_BOUNDS, {base}_MASKS, {values})"
        )
        rendered.index_names.add("by_slot")
        found = f"{base}_SLOTS[{x}]"
    else:
        found = strategy.slot_tree(x, lane.bounds, base, slots) or ""
        # the subscript and the comparisons (about log2 of the slots) saved
        rendered.saves = 1 + (len(lane.bounds) + 1).bit_length() - 1
        if not found:
            rendered.saves = 3
            rendered.index_names.add("bisect_right")
            found = f"bisect_right({base}_BOUNDS, {x})"
            if "None" in slots:
                rendered.index_code = f"{base}_SLOTS = open_slots({base}_MASKS)"
                rendered.index_names.add("open_slots")
                found = f"{base}_SLOTS[{found}]"
    cases = [] if null is None else [(f"{x} is None", null)]
    rendered.index = f"({found} if {type_ok} else {_chain(cases)})"
    rendered.atoms = atoms
    rendered.valid = _valid_test(axis, base, type_ok)


def _valid_test(axis: Axis, base: str, type_ok: str) -> str:
    """Whether a value of a range column (one lane) is valid, as comparisons: its
    type, then the one run of slots inside the Values ("": the slots inside are
    not one run, so the index tells). A number without Values holds inf in its top
    slot: valid (its own atom) like every other number; NaN is a missing value, as
    in the checked path, so it passes the type test only where null is valid."""
    x = axis.column.name
    lane = axis.lanes[-1]
    inside = [m is not None for m in lane.masks]
    if axis.nan is not None:  # the top slot, inf: matched by its atom
        inside[-1] = True
    if not any(inside):
        return ""
    start = inside.index(True)
    stop = len(inside) - inside[::-1].index(True)  # slots start..stop-1
    if not all(inside[start:stop]):
        return ""
    bound = strategy.bound_text(lane.bounds, base)
    tests = []
    if start > 0:
        tests.append(f"{bound(start - 1)} <= {x}")
    if stop < len(inside):
        tests.append(f"{x} < {bound(stop - 1)}")
    if not tests and axis.column.type is DataType.NUMBER and axis.null is None:
        tests.append(f"{x} == {x}")  # NaN is missing, not allowed here
    inner = " and ".join(tests) or "True"
    if axis.null is None:
        return f"(({type_ok}) and {inner})"
    if axis.nan is not None and not tests:  # NaN: missing, and null is valid
        return f"({type_ok} or {x} is None)"
    return f"({inner} if {type_ok} else {x} is None)"


def _allowed_text(column: Column) -> str:
    kind = {
        DataType.STRING: "a string",
        DataType.CODE: "a code (str)",
        DataType.INTEGER: "an int",
        DataType.NUMBER: "a number",
        DataType.BOOLEAN: "a bool",
        DataType.DATE: "a datetime.date",
        DataType.DURATION: "a datetime.timedelta",
        DataType.TIME: "a datetime.time (no time zone)",
        DataType.DATETIME: "a datetime.datetime (no time zone)",
        DataType.YEARS_MONTHS: "a YearsMonths (years and months duration)",
    }[column.type]
    if column.required:  # a missing value is not allowed
        if column.values is None:
            return kind
        return f"{kind} in {', '.join(describe(t) for t in column.values.tests)}"
    if column.values is None:
        return f"{kind} or None"
    shown = ", ".join(describe(t) for t in column.values.tests)
    return f"{kind} in {shown}, or None"


def describe(test: Test) -> str:
    """A test as rule comments and InputError messages show it: `[0..130]`."""
    if isinstance(test, Equals):
        return _described(test.value)
    if isinstance(test, Interval):
        low, high = _described(test.low), _described(test.high)
        return f"{'[' if test.low_closed else '('}{low}..{high}{']' if test.high_closed else ')'}"
    if isinstance(test, Prefix):
        return f"{test.prefix!r}*"
    if isinstance(test.value, (dt.timedelta, dt.time, YearsMonths)):  # version 2
        return f"{test.op} {_described(test.value)}"
    return f"{test.op} {test.value!r}"


def _described(value: object) -> str:
    """A value in a description: repr, dates ISO, durations ISO (`P14D`)."""
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, YearsMonths):
        return str(value)
    return repr(value)
