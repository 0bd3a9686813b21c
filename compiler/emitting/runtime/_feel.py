"""FEEL-CR at run time, written into the generated package as `_feel.py` when a table
has computed inputs or entries that name other inputs (workbook format version 2).

The compiler type-checks every expression and emits Python that calls these
functions; they add FEEL's null semantics (null in, null out; a comparison with null
is null; `and`/`or` three-valued; division by zero and overflow are null) and the
years-and-months duration, which Python lacks. Standard library only.
"""

from __future__ import annotations

import calendar
import datetime
import decimal
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._runtime import InputError
from ._runtime import YearsMonths as YearsMonths

if TYPE_CHECKING:
    import pandas

E = TypeVar("E")


def _shift(day: datetime.date, months: int) -> datetime.date:
    """DAY moved by MONTHS, the day clamped to the month's last (Jan 31 + 1 month is
    Feb 28 or 29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


def add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    try:
        if isinstance(b, YearsMonths):
            if isinstance(a, YearsMonths):
                return YearsMonths(a.total + b.total)
            return _shift(a, b.total)
        if isinstance(a, YearsMonths):
            return _shift(b, a.total)
        if isinstance(a, datetime.time):
            moment = datetime.datetime.combine(datetime.date(2000, 1, 1), a) + b
            return moment.time()
        return a + b
    except (OverflowError, ValueError):
        return None


def sub(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    try:
        if isinstance(b, YearsMonths):
            if isinstance(a, YearsMonths):
                return YearsMonths(a.total - b.total)
            return _shift(a, -b.total)
        if isinstance(a, datetime.time):
            day = datetime.date(2000, 1, 1)
            if isinstance(b, datetime.time):
                return datetime.datetime.combine(day, a) - datetime.datetime.combine(
                    day, b
                )
            if not isinstance(b, datetime.timedelta):  # a date, a datetime: no
                raise TypeError(f"cannot subtract {type(b).__name__} from a time")
            return (datetime.datetime.combine(day, a) - b).time()
        return a - b
    except (OverflowError, ValueError):
        return None


def mul(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    try:
        if isinstance(a, YearsMonths):
            return YearsMonths(int(a.total * b))
        if isinstance(b, YearsMonths):
            return YearsMonths(int(b.total * a))
        return a * b
    except (OverflowError, ValueError):
        return None


def div(a: Any, b: Any) -> Any:
    if a is None or b is None or not b:
        return None
    try:
        if isinstance(a, datetime.timedelta) and isinstance(b, datetime.timedelta):
            return a / b
        if isinstance(a, datetime.timedelta):
            return a / b
        if isinstance(a, YearsMonths):
            return a.total / b.total if isinstance(b, YearsMonths) else None
        return a / b
    except (OverflowError, ValueError, ZeroDivisionError):
        return None


def power(a: Any, b: Any) -> Any:
    """`a ** b` of numbers: null for null, and where no real number results."""
    if a is None or b is None:
        return None
    exact = isinstance(a, int) and isinstance(b, int) and 0 <= b <= 1024
    try:  # a large integer power in floats: no unbounded work at run time
        result = a**b if exact else float(a) ** float(b)
    except (OverflowError, ValueError, ZeroDivisionError):
        return None
    return None if isinstance(result, complex) else result


def neg(a: Any) -> Any:
    if a is None:
        return None
    if isinstance(a, YearsMonths):
        return YearsMonths(-a.total)
    return -a


def lt(a: Any, b: Any) -> bool | None:
    return None if a is None or b is None else bool(a < b)


def le(a: Any, b: Any) -> bool | None:
    return None if a is None or b is None else bool(a <= b)


def gt(a: Any, b: Any) -> bool | None:
    return None if a is None or b is None else bool(a > b)


def ge(a: Any, b: Any) -> bool | None:
    return None if a is None or b is None else bool(a >= b)


def eq(a: Any, b: Any) -> bool:
    """FEEL `=`: null equals null only; lists (or tuples) element by element."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def and_(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def or_(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def sign(a: Any, b: Any) -> str | None:
    """How A compares with B: `less`, `equal`, `greater`; null when either is null
    (an entry such as `<= date_of_service`, lowered to a derived column)."""
    if a is None or b is None:
        return None
    return "less" if a < b else "greater" if a > b else "equal"


def same(a: Any, b: Any) -> str | None:
    """Whether A equals B: `equal` or `different`; null when either is null (an
    entry such as `= other_input` of a string, code or boolean column)."""
    if a is None or b is None:
        return None
    return "equal" if a == b else "different"


_LAST_DAY = datetime.date.max.toordinal()


def sign_days(a: Any, b: Any, days: int) -> str | None:
    """`sign(A, B + DAYS days)` of two dates by their ordinals, without building the
    shifted date and the duration; null when either is null or B + DAYS leaves the
    dates' range (as `add`/`sub` give). Other values: as `sign` of `add`."""
    if type(a) is datetime.date and type(b) is datetime.date:
        shifted = b.toordinal() + days
        if shifted < 1 or shifted > _LAST_DAY:
            return None
        x = a.toordinal()
        return "less" if x < shifted else "greater" if x > shifted else "equal"
    return sign(a, add(b, datetime.timedelta(days=days)))


_ELEMENTS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "code": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "date": (datetime.date,),
    "duration": (datetime.timedelta,),
    "time": (datetime.time,),
    "datetime": (datetime.datetime,),
    "years and months duration": (YearsMonths,),
}


def _elements(items: Any, kind: str) -> Any:
    """ITEMS, a list or tuple of values of KIND; TypeError otherwise (the evaluator
    then names the input in an InputError)."""
    if type(items) not in (list, tuple):
        raise TypeError(f"not a list of {kind}")
    allowed = _ELEMENTS[kind]
    for item in items:
        if type(item) not in allowed:
            raise TypeError(f"not a list of {kind}")
    return items


def listed(items: Any, kind: str) -> Any:
    """A list input read by an expression: ITEMS checked to be a list or tuple of
    KIND (TypeError otherwise, which the evaluator turns into an InputError), or
    None."""
    return None if items is None else _elements(items, kind)


def some(items: Any, kind: str, test: Any) -> bool | None:
    """Whether an element of ITEMS passes TEST (`any(...)` in a list column). Every
    element is checked to be of KIND (TypeError otherwise, as `_elements`); TEST is
    called until it passes once, as `any` does. One loop: it runs on every call."""
    if items is None:
        return None
    if type(items) is not list and type(items) is not tuple:
        raise TypeError(f"not a list of {kind}")
    allowed = _ELEMENTS[kind]
    found = False
    for item in items:
        if type(item) not in allowed:
            raise TypeError(f"not a list of {kind}")
        if not found and test(item):
            found = True
    return found


def atoms(
    items: Any,
    kind: str,
    prefixes: tuple[tuple[int, Mapping[str, int]], ...],
    equal: Mapping[str, int],
    tests: tuple[tuple[int, Any], ...],
    each: bool,
) -> tuple[int, int, tuple[int, ...]] | None:
    """One pass over the elements of the list ITEMS for all the quantified entries of
    its column: the basic tests (atoms) of those entries that each element passes, as
    bits (bit k for the k-th atom). Returns the bits some element passes, those every
    element passes (all bits for `[]`) and, with EACH, every element's bits; None
    when ITEMS is None. PREFIXES maps a prefix length to {prefix: its bits} (code and
    string `M54.*`), EQUAL a string to its bits, TESTS are (bit, test) for the other
    atoms. Every element is checked to be of KIND (TypeError otherwise, as `some`)."""
    if items is None:
        return None
    if type(items) is not list and type(items) is not tuple:
        raise TypeError(f"not a list of {kind}")
    allowed = _ELEMENTS[kind]
    some = 0
    every = -1
    if len(prefixes) == 1 and not equal and not tests and not each:
        ((length, table),) = prefixes  # the usual case: prefixes of one length
        for item in items:
            if type(item) not in allowed:
                raise TypeError(f"not a list of {kind}")
            bits = table.get(item[:length], 0)
            some |= bits
            every &= bits
        return some, every, ()
    found: list[int] = []
    for item in items:
        if type(item) not in allowed:
            raise TypeError(f"not a list of {kind}")
        bits = equal.get(item, 0) if equal else 0
        for length, table in prefixes:
            bits |= table.get(item[:length], 0)
        for bit, test in tests:
            if test(item):
                bits |= bit
        some |= bits
        every &= bits
        if each:
            found.append(bits)
    return some, every, tuple(found)


def some_bits(
    items: Any,
    kind: str,
    prefixes: tuple[tuple[int, Mapping[str, int]], ...],
    equal: Mapping[str, int],
    tests: tuple[tuple[int, Any], ...],
) -> int | None:
    """The bits some element of ITEMS passes, `atoms(...)[0]`; None when ITEMS is
    None (a folded list, see `quantified`)."""
    found = atoms(items, kind, prefixes, equal, tests, False)
    return None if found is None else found[0]


def prefix_bit(
    item: str, length: int, table: Mapping[str, int], seen: dict[str, int]
) -> int:
    """The bits of the string ITEM in a folded list whose atoms are prefixes of one
    LENGTH, TABLE mapping each to its bits: `evaluate` looks a string up in SEEN
    first (a string met again costs one lookup, not a slice and its hash), and
    calls this for a string it has not met; kept for up to SEEN_STRINGS strings."""
    bits = table.get(item[:length], 0)
    if len(seen) < SEEN_STRINGS:
        seen[item] = bits
    return bits


SEEN_STRINGS = 65536  # strings at most whose bits `evaluate` keeps, per list


def every(items: Any, kind: str, test: Any) -> bool | None:
    """Whether every element of ITEMS passes TEST (`every(...)`); as `some`."""
    if items is None:
        return None
    if type(items) is not list and type(items) is not tuple:
        raise TypeError(f"not a list of {kind}")
    allowed = _ELEMENTS[kind]
    passed = True
    for item in items:
        if type(item) not in allowed:
            raise TypeError(f"not a list of {kind}")
        if passed and not test(item):
            passed = False
    return passed


def none(items: Any, kind: str, test: Any) -> bool | None:
    """Whether no element of ITEMS passes TEST (`none(...)`); as `some`."""
    found = some(items, kind, test)
    return None if found is None else not found


def list_contains(items: Any, value: Any) -> bool | None:
    """FEEL `list contains(items, value)`: null when ITEMS is null; an element equal
    to VALUE (null only to null), as FEEL's `=` has it."""
    if items is None:
        return None
    return any(eq(item, value) for item in items)


def as_tuple(items: Any) -> tuple[Any, ...] | None:
    """A list output's value (version 2): ITEMS as a tuple, or None."""
    return None if items is None else tuple(items)


def count(items: Any) -> int | None:
    """FEEL `count(list)`: its elements, nulls too; null for a null list."""
    return None if items is None else len(items)


def _whole(items: Any) -> Any:
    """ITEMS when it is a non-empty list without nulls, else None (FEEL: `sum([])`,
    `min([])` and a list holding null give null)."""
    if items is None or not items or any(item is None for item in items):
        return None
    return items


def list_sum(items: Any) -> Any:
    """FEEL `sum(list)`: null for null, `[]` or a null element."""
    found = _whole(items)
    return None if found is None else sum(found)


def list_min(items: Any) -> Any:
    """FEEL `min(list)`: null for null, `[]` or a null element."""
    found = _whole(items)
    return None if found is None else min(found)


def list_max(items: Any) -> Any:
    found = _whole(items)
    return None if found is None else max(found)


def between(x: Any, low: Any, high: Any) -> bool | None:
    return and_(ge(x, low), le(x, high))


def years_and_months(start: Any, end: Any) -> YearsMonths | None:
    """FEEL `years and months duration(from, to)`: the whole months from START to
    END (dates or datetimes), negative when END is earlier."""
    if start is None or end is None:
        return None
    if type(start) is datetime.date and type(end) is datetime.date:  # the usual case
        if end < start:
            return YearsMonths(-_months(end, start))
        return YearsMonths(_months(start, end))
    if isinstance(start, datetime.datetime) != isinstance(end, datetime.datetime):
        start = _as_datetime(start)
        end = _as_datetime(end)
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    months = (end.year - start.year) * 12 + end.month - start.month
    if _within_month(end) < _within_month(start):
        months -= 1
    return YearsMonths(sign * months)


def ym_field(start: Any, end: Any, name: str) -> int | None:
    """`years and months duration(START, END).years` (NAME `years`) or `.months`,
    without building the duration: integer arithmetic when both are dates, else
    as `field(years_and_months(START, END), NAME)`."""
    if type(start) is datetime.date and type(end) is datetime.date:
        if end < start:
            start, end, sign = end, start, -1
        else:
            sign = 1
        total: int = (end.year - start.year) * 12 + end.month - start.month
        if end.day < start.day:
            total -= 1
        years = total // 12  # the whole months are not negative here
        return sign * (years if name == "years" else total - 12 * years)
    return field(years_and_months(start, end), name)  # type: ignore[no-any-return]


def days_between(a: Any, b: Any) -> int | None:
    """`(A - B).days` of two dates, without the duration; else as
    `field(sub(A, B), "days")`."""
    if type(a) is datetime.date and type(b) is datetime.date:
        return a.toordinal() - b.toordinal()
    return field(sub(a, b), "days")  # type: ignore[no-any-return]


def _months(start: datetime.date, end: datetime.date) -> int:
    """The whole months from the date START to the date END, not before it."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def _as_datetime(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.combine(value, datetime.time())


def _within_month(value: Any) -> tuple[Any, ...]:
    if isinstance(value, datetime.datetime):
        return (value.day, value.time())
    return (value.day,)


_FIELDS = {
    "years": (YearsMonths,),
    "months": (YearsMonths,),
    "year": (datetime.date,),
    "month": (datetime.date,),
    "day": (datetime.date,),
    "hour": (datetime.time, datetime.datetime),
    "minute": (datetime.time, datetime.datetime),
    "second": (datetime.time, datetime.datetime),
}


def field(value: Any, name: str) -> Any:
    """`value.name` (FEEL paths): null for null, as FEEL has it; durations' `days`,
    `hours`, `minutes`, `seconds` are their components."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        # a negative timedelta has negative days; its parts are those of abs(value)
        sign = -1 if value.days < 0 else 1
        whole = -value if sign < 0 else value
        if name == "days":
            return sign * whole.days
        seconds = whole.seconds
        parts = {"hours": seconds // 3600, "minutes": seconds // 60 % 60}
        return sign * (seconds % 60 if name == "seconds" else parts[name])
    if name == "weekday":
        return value.isoweekday()
    return getattr(value, name)


def path(table: str, root: str, value: Any, fields: tuple[str, ...]) -> Any:
    """The field at FIELDS of VALUE, the mapping passed as ROOT (version 2: a path
    input, `claim.member.age`): None when a field is missing or a value along the
    way is None, as FEEL's paths; InputError when one is not a mapping."""
    walked = root
    for name in fields:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise InputError(
                table, walked, value, "a mapping (dict) of fields, or None"
            )
        value = value.get(name)
        walked += "." + name
    return value


def call(name: str, *arguments: Any) -> Any:
    """The built-in function NAME: null when an argument is null."""
    if any(a is None for a in arguments):
        return None
    return _FUNCTIONS[name](*arguments)


def _substring(text: str, start: int | float, length: int | float = -1) -> str:
    begin = int(start) - 1 if start > 0 else len(text) + int(start)
    return text[begin:] if length < 0 else text[begin : begin + int(length)]


def _decimal(number: int | float, scale: int | float) -> int | float | None:
    """FEEL's `decimal(n, scale)`: N rounded half to even at SCALE digits."""
    if scale != int(scale) or not -6111 <= scale <= 6176:
        return None
    try:
        step = decimal.Decimal(1).scaleb(-int(scale))
        exact = decimal.Decimal(repr(number)).quantize(step, decimal.ROUND_HALF_EVEN)
    except (decimal.InvalidOperation, ValueError):
        return None
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def _string(value: Any) -> str:
    """FEEL's `string(x)` of a string, number, boolean or date."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return repr(value)
        text = format(decimal.Decimal(repr(value)).normalize(), "f")
        return "0" if text == "-0" else text
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _flatten(items: Any) -> tuple[Any, ...]:
    """FEEL `flatten(list)`: the elements of ITEMS with every nested list (or tuple)
    spliced in, depth first, as a tuple; null elements stay."""
    found: list[Any] = []
    for item in items:
        if isinstance(item, (list, tuple)):
            found.extend(_flatten(item))
        else:
            found.append(item)
    return tuple(found)


def _bounded(function: Any) -> Any:
    def run(*arguments: Any) -> Any:
        try:
            return function(*arguments)
        except (OverflowError, ValueError):
            return None

    return run


_FUNCTIONS: dict[str, Any] = {
    "abs": abs,
    "floor": lambda x: math.floor(x),
    "ceiling": lambda x: math.ceil(x),
    "min": lambda *xs: min(xs),
    "max": lambda *xs: max(xs),
    "string length": len,
    "upper case": str.upper,
    "lower case": str.lower,
    "starts with": str.startswith,
    "ends with": str.endswith,
    "contains": lambda text, part: part in text,
    "substring": _substring,
    "decimal": _decimal,
    "string": _string,
    "flatten": _flatten,
    "date": _bounded(lambda y, m, d: datetime.date(int(y), int(m), int(d))),
}


def row_values(rows: Sequence[Any], kind: str) -> list[Any]:
    """A frame column's values (ROWS, from `Series.tolist()`) as `evaluate` takes
    them: missing values None, timestamps as dates (KIND `date`) or datetimes."""
    found: list[Any] = []
    for value in rows:
        name = type(value).__name__
        if value is None or name in ("NAType", "NaTType"):
            value = None
        elif name == "Timestamp":
            value = value.to_pydatetime()
            if kind == "date":
                value = value.date()
        elif name == "Timedelta":
            value = value.to_pytimedelta()
        elif isinstance(value, float) and value != value:
            value = None
        found.append(value)
    return found


def frame_column(
    frame: Any,
    table: str,
    names: Sequence[str],
    kinds: Sequence[str],
    compute: Any,
) -> Any:
    """The computed input COMPUTE of the inputs NAMES (of KINDS) on every row of
    FRAME, as a Series of Python values (absent columns are missing values)."""
    import pandas as pd

    rows = len(frame)
    columns = [
        row_values(frame[n].tolist() if n in frame else [None] * rows, kind)
        for n, kind in zip(names, kinds, strict=True)
    ]
    values: list[Any] = []
    for position, row in enumerate(
        zip(*columns, strict=True) if columns else [()] * rows
    ):
        try:
            values.append(compute(*row))
        except TypeError:
            error = InputError(
                table, ", ".join(names), row, f"values of {', '.join(kinds)}"
            )
            raise error.at_row(frame.index[position]) from None
    return pd.Series(values, index=frame.index, dtype=object)


def _spread(found: list[Any], targets: list[int], rows: int) -> list[Any]:
    """FOUND, the values of the rows TARGETS, at their places among ROWS (None
    elsewhere)."""
    spread: list[Any] = [None] * rows
    for i, value in zip(targets, found, strict=True):
        spread[i] = value
    return spread


def finish_frame(
    frame: pandas.DataFrame,
    decided: pandas.DataFrame,
    outputs: Any,
    result: Any,
    finish: Any,
    plain: Sequence[tuple[str, str]],
    computed: Sequence[tuple[str, Any, Sequence[str]]],
    rules: frozenset[str],
    requires: Sequence[tuple[str, Any]] = (),
) -> pandas.DataFrame:
    """DECIDED (evaluate_frame's result) with the computed outputs of the rows that
    RULES decide computed, row by row, as `evaluate` computes them (FINISH). The
    `from` inputs they read are computed again for those rows (REQUIRES: each
    name with the `evaluate_frame` of its table)."""
    import pandas as pd

    matched = decided["matched"].tolist()
    many = bool(matched) and isinstance(matched[0], tuple)  # COLLECT, RULE ORDER
    targets = [
        i
        for i, m in enumerate(matched)
        if (any(r in rules for r in m) if many else m in rules)
    ]
    if not targets:
        return decided
    if requires:
        part = frame.iloc[targets]
        given = {name: call(part)[name].tolist() for name, call in requires}
        frame = frame.assign(
            **{
                name: pd.Series(
                    _spread(given[name], targets, len(frame)),
                    index=frame.index,
                    dtype=object,
                )
                for name, _ in requires
            }
        )
    rows = len(frame)
    values = {
        name: row_values(frame[name].tolist() if name in frame else [None] * rows, kind)
        for name, kind in plain
    }
    fields = list(outputs._fields)
    columns = {f: decided[f].tolist() for f in fields}
    for i in targets:
        row = {name: column[i] for name, column in values.items()}
        for name, compute, arguments in computed:
            row[name] = compute(*(row[a] for a in arguments))
        if many:
            rows_of = zip(*(columns[f][i] for f in fields), strict=True)
            start = result(tuple(outputs(*r) for r in rows_of), matched[i])
            done = finish(start, **row).outputs
            for f in fields:
                columns[f][i] = tuple(getattr(o, f) for o in done)
            continue
        start = result(outputs(*(columns[f][i] for f in fields)), (matched[i],))
        done = finish(start, **row).outputs
        for f in fields:
            columns[f][i] = getattr(done, f)
    finished = decided.copy()
    for f in fields:
        series = pd.Series(columns[f], index=decided.index, dtype=object)
        categorical = isinstance(decided[f].dtype, pd.CategoricalDtype)
        finished[f] = series.astype("category") if categorical else series
    return finished


def finished(explained: E, finish: Any) -> E:
    """An Explanation whose result has its computed outputs (`_finish`)."""
    import dataclasses

    inputs = dict(explained.inputs)  # type: ignore[attr-defined]
    return dataclasses.replace(  # type: ignore[type-var]
        explained,
        result=finish(explained.result, **inputs),  # type: ignore[attr-defined]
    )
