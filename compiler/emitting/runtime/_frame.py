"""The vectorized path of the generated package, written into it as `_frame.py`.

decide_frame (behind a generated module's evaluate_frame): each input column becomes
atom codes (vectorized: category codes, a table over an integer span, cells over
the bounds of a number column), and the codes of a row one key. For FIRST, PRIORITY
and UNIQUE, when the product of the columns' atom counts is small, every key is
decided once per module (the grid: the winning rule of every atom combination) and a
row is one lookup in it; else the rows, or their distinct keys when they are few,
are decided word by word over uint64 bitsets (the lowest rule of the ANDed masks;
UNIQUE also counts bits). Other policies are decided in Python, once per distinct
key. The result columns are object arrays taken from one small table per version
(each rule's outputs and id) at each row's winning rule. pandas and numpy are
imported here only, on the first call.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._runtime import (
    Column,
    DecisionError,
    InputError,
    Lookup,
    Many,
    NoVersionError,
    Outside,
    Ranges,
    Version,
    today,
)

if TYPE_CHECKING:
    import pandas

_GRID_CELLS = 1 << 20  # the largest grid of atom combinations kept per version


def decide_frame(
    frame: pandas.DataFrame,
    table: str,
    outputs: Sequence[str],
    versions: Sequence[Version],
    *,
    shape: str,
    requires: Sequence[tuple[str, Callable[..., pandas.DataFrame]]] = (),
    computes: Sequence[tuple[str, Callable[[Any], Any]]] = (),
    categorical: bool = False,
) -> pandas.DataFrame:
    """Evaluate every row of FRAME; see the generated `evaluate_frame` for the shape
    ("single": outputs and `matched` as str or None; "multi": `matched` a tuple of
    ids; "list": every output and `matched` a tuple per row). With CATEGORICAL, each
    result column is a pandas Categorical of the same values (missing: NaN), taken
    from the few distinct results without a pass over the rows' objects; required
    tables give their outputs so, which makes chains cheap. COMPUTES (version 2)
    add the computed inputs, each a function of the frame."""
    import numpy as np
    import pandas as pd

    if requires:
        frame = frame.assign(
            **{name: call(frame, categorical=True)[name] for name, call in requires}
        )
    for name, compute in computes:  # version 2: in order, each may read the last
        frame = frame.assign(**{name: compute(frame)})
    codes, values = _decide_codes(frame, table, outputs, versions, shape, np, pd)
    names = [*outputs, "matched"]
    series = {}
    for name, column in zip(names, values, strict=True):
        if categorical:  # the codes in the narrowest type: one small pass per row
            inverse, uniques = pd.factorize(column, use_na_sentinel=True)
            narrow = inverse.astype(np.min_scalar_type(-max(len(uniques), 1)))
            data = pd.Categorical.from_codes(
                narrow.take(codes), categories=uniques, validate=False
            )
            series[name] = pd.Series(data, index=frame.index, copy=False)
        else:  # object columns as they are: no inference (None stays None)
            series[name] = pd.Series(
                column.take(codes), index=frame.index, dtype=object, copy=False
            )
    return pd.DataFrame(series, copy=False)


def _decide_codes(
    frame: Any,
    table: str,
    outputs: Sequence[str],
    versions: Sequence[Version],
    shape: str,
    np: Any,
    pd: Any,
) -> tuple[Any, Any]:
    """(codes, values): per output (and `matched`) an object array of results, and
    per row the position of its result in them (the tables of the versions it takes,
    one after the other)."""
    rows = len(frame)
    if (
        len(versions) == 1
        and not versions[0].effective_from
        and not versions[0].effective_to
    ):
        parts = [(versions[0], None)]
    else:
        parts = _version_rows(frame, table, versions, np, pd)
    codes = None
    tables = []
    offset = 0
    for version, positions in parts:
        part = frame if positions is None else frame.take(positions)
        results, index = _decide_rows(part, table, version, np, pd)
        values = version.cache.get("results") if results is version.hits else None
        if values is None:
            values = _result_table(results, outputs, shape, np)
            if results is version.hits:
                version.cache["results"] = values
        if positions is None:
            codes = index
        else:
            if codes is None:
                codes = np.zeros(rows, dtype=np.intp)
            codes[positions] = index + offset if offset else index
        tables.append(values)
        offset += values.shape[1]
    if codes is None:  # no rows
        codes = np.zeros(rows, dtype=np.intp)
    if len(tables) == 1:
        return codes, tables[0]
    if not tables:
        return codes, np.empty((len(outputs) + 1, 0), dtype=object)
    return codes, np.concatenate(tables, axis=1)


def _result_table(
    results: Sequence[Any], outputs: Sequence[str], shape: str, np: Any
) -> Any:
    """Per output (and `matched`), an object array over RESULTS: one row each."""

    def array(values: list[Any]) -> Any:
        return np.fromiter(values, dtype=object, count=len(values))

    found = np.empty((len(outputs) + 1, len(results)), dtype=object)
    for i in range(len(outputs)):
        if shape == "list":
            found[i] = array([tuple(o[i] for o in r.outputs) for r in results])
        else:
            found[i] = array([r.outputs[i] for r in results])
    if shape == "single":
        found[-1] = array([r.matched[0] if r.matched else None for r in results])
    else:
        found[-1] = array([r.matched for r in results])
    return found


def _version_rows(
    frame: Any, table: str, versions: Sequence[Version], np: Any, pd: Any
) -> list[tuple[Version, Any]]:
    """The rows each version decides, by the frame's `as_of` column (default today)."""
    rows = len(frame)
    day = np.datetime64(today(), "D")
    if "as_of" in frame.columns:
        when = _as_dates(frame["as_of"], table, "as_of", np, pd)
        when = np.where(np.isnat(when), day, when)
    else:
        when = np.full(rows, day)
    taken = np.zeros(rows, dtype=bool)
    parts = []
    for version in versions:
        inside = np.ones(rows, dtype=bool)
        if version.effective_from:
            inside &= when >= np.datetime64(version.effective_from, "D")
        if version.effective_to:
            inside &= when <= np.datetime64(version.effective_to, "D")
        taken |= inside
        if inside.any():
            parts.append((version, np.flatnonzero(inside)))
    if not taken.all():
        first = int(np.flatnonzero(~taken)[0])
        as_of = when[first].astype(datetime.date)
        raise NoVersionError(table, as_of).at_row(frame.index[first])
    return parts


def _as_dates(series: Any, table: str, name: str, np: Any, pd: Any) -> Any:
    """A column of dates as datetime64[D] (NaT: missing). datetime64 columns count
    when every value is a midnight; object columns must hold datetime.date values."""
    if series.dtype.kind == "M":
        days = series.to_numpy(dtype="datetime64[D]")
        exact = series.to_numpy(dtype="datetime64[ns]")
        off = ~np.isnat(exact) & (days.astype("datetime64[ns]") != exact)
        if off.any():
            first = int(np.flatnonzero(off)[0])
            raise InputError(
                table, name, series.iloc[first], "a date (a midnight)"
            ).at_row(series.index[first])
        return days
    inverse, uniques = pd.factorize(series, use_na_sentinel=True)
    days = np.empty(len(uniques) + 1, dtype="datetime64[D]")
    days[-1] = np.datetime64("NaT")
    for i, value in enumerate(uniques.tolist()):
        if type(value) is not datetime.date:
            position = int(np.flatnonzero(inverse == i)[0])
            error = InputError(table, name, value, "a datetime.date or None")
            raise error.at_row(series.index[position])
        days[i] = np.datetime64(value, "D")
    return days.take(inverse)


def _decide_rows(
    frame: Any, table: str, version: Version, np: Any, pd: Any
) -> tuple[Sequence[Any], Any]:
    """(results, index): the result of row i is results[index[i]]."""
    rows = len(frame)
    columns = version.columns
    codes = [
        _codes(c, frame[c.name] if c.name in frame.columns else None, rows, np, pd)
        for c in columns
    ]
    for column, found in zip(columns, codes, strict=True):
        _check_required(column, found, frame, np)
    sizes = [len(c.atoms) for c in columns]

    def decide(row_codes: Sequence[Any], where: Callable[[], int]) -> Any:
        """The result of a row whose atoms are ROW_CODES; an error names the row
        WHERE() finds."""
        mask = (1 << version.n) - 1
        for column, code in zip(columns, row_codes, strict=True):
            mask &= column.atoms[int(code)]
        try:
            return version.decide(mask)
        except DecisionError as error:
            raise error.at_row(frame.index[where()]) from None

    if version.policy == "python" or not codes:
        found = _distinct(codes, sizes, rows, np, pd)
        assert found is not None
        inverse, keys = found
        count = len(keys[0]) if keys else int(rows > 0)
        results = [
            decide(
                [k[key] for k in keys],
                lambda key=key: int(np.flatnonzero(inverse == key)[0]),  # type: ignore[misc]
            )
            for key in range(count)
        ]
        return results, inverse
    unique = version.policy == "unique"
    grid = _grid(version, sizes, rows, np)
    if grid is not None:
        first, several = grid
        key = _key(codes, sizes, np)
        if several is not None:
            bad = several.take(key)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                decide([c[row] for c in codes], lambda: row)  # raises AmbiguousError
        return version.hits, first.take(key)
    # Distinct rows pay off when they are few (cheap to find), else every row is
    # decided.
    distinct = _distinct(codes, sizes, rows, np, pd, cheap_only=True)
    inverse, keys = (None, codes) if distinct is None else distinct
    tables = [_words(column, version.n, np) for column in columns]
    first, several = _first_bits(tables, keys, version.n, unique, np)
    if several is not None and several.any():
        at = int(np.flatnonzero(several)[0])
        where = (
            (lambda: at)
            if inverse is None
            else (lambda: int(np.flatnonzero(inverse == at)[0]))
        )
        decide([k[at] for k in keys], where)  # raises AmbiguousError
    return version.hits, first if inverse is None else first.take(inverse)


def _key(codes: Sequence[Any], sizes: Sequence[int], np: Any) -> Any:
    """The number of each row's atom combination (mixed radix, first column first)."""
    key = codes[0].copy()
    for column, size in zip(codes[1:], sizes[1:], strict=True):
        key *= size
        key += column
    return key


def _digits(numbers: Any, sizes: Sequence[int]) -> list[Any]:
    """Per column, the atoms of combinations NUMBERS (the inverse of `_key`)."""
    found = []
    stride = math.prod(sizes)
    for size in sizes:
        stride //= size
        found.append(numbers // stride % size)
    return found


def _grid(
    version: Version, sizes: Sequence[int], rows: int, np: Any
) -> tuple[Any, Any] | None:
    """(first, several) over every atom combination (numbered as `_key` numbers
    them): its first matching rule (n: none) and, for UNIQUE, whether several match
    (None when no combination does). Built once the version has decided as many rows
    as the grid has cells, so that building it never costs more than deciding the
    rows did; None while it is not built or when it would be too large."""
    cache = version.cache
    found = cache.get("grid")
    if found is not None:
        return found  # type: ignore[no-any-return]
    cells = math.prod(sizes)
    if cells > _GRID_CELLS:
        return None
    seen = cache["rows"] = cache.get("rows", 0) + rows
    if seen < cells:
        return None
    keys = _digits(np.arange(cells, dtype=np.intp), sizes)
    tables = [_words(column, version.n, np) for column in version.columns]
    first, several = _first_bits(
        tables, keys, version.n, version.policy == "unique", np
    )
    if several is not None and not several.any():
        several = None
    found = cache["grid"] = (first, several)
    return found


def _words(column: Column, n: int, np: Any) -> Any:
    """The masks of COLUMN's atoms as uint64 words, (words, atoms): bit b of word w is
    the rule in position 64w+b (rule order, not the reversed order of the ints)."""
    found = column.cache.get("words")
    if found is None:
        size = (n + 63) // 64 * 8
        pad = size * 8 - n
        raw = b"".join((int(m) << pad).to_bytes(size, "big") for m in column.atoms)
        bits = np.unpackbits(
            np.frombuffer(raw, dtype=np.uint8).reshape(len(column.atoms), size),
            axis=1,
            bitorder="big",
        )
        words = np.packbits(bits, axis=1, bitorder="little").view("<u8")
        found = column.cache["words"] = np.ascontiguousarray(words.T)
    return found


def _first_bits(
    tables: Sequence[Any], keys: Sequence[Any], n: int, count: bool, np: Any
) -> tuple[Any, Any]:
    """Per key, the position of its first matching rule (n: none) and, when COUNT,
    whether several match. Word by word; keys leave once decided (not when COUNT)."""
    size = len(keys[0])
    first = np.full(size, n, dtype=np.intp)
    several = np.zeros(size, dtype=bool) if count else None
    seen = np.zeros(size, dtype=bool) if count else None
    active = np.arange(size)
    current = list(keys)
    one = np.uint64(1)
    for w in range(tables[0].shape[0]):
        word = tables[0][w].take(current[0])
        for table, codes in zip(tables[1:], current[1:], strict=True):
            np.bitwise_and(word, table[w].take(codes), out=word)
        hit = word != 0
        everywhere = bool(hit.all())
        if not everywhere and not hit.any():
            continue
        found = word if everywhere else word[hit]
        low = found & (~found + one)
        low -= one
        positions = np.bitwise_count(low).astype(np.intp)
        positions += 64 * w
        if count:
            assert several is not None and seen is not None
            several |= (np.bitwise_count(word) > 1) | (hit & seen)
            newly = hit & ~seen
            first[newly] = positions[~seen[hit]]
            seen |= hit
        elif everywhere:
            first[active] = positions
            break
        else:
            first[active[hit]] = positions
            keep = ~hit
            active = active[keep]
            current = [c[keep] for c in current]
    return first, several


def _distinct(
    codes: Sequence[Any],
    sizes: Sequence[int],
    rows: int,
    np: Any,
    pd: Any,
    *,
    cheap_only: bool = False,
) -> tuple[Any, list[Any]] | None:
    """(inverse, keys): for each row the number of its distinct atom combination, and
    per column the atoms of each combination. With CHEAP_ONLY, None unless a table
    over all combinations finds them and they are few (a first sample of the rows
    says early when they are not)."""
    if not codes:
        return np.zeros(rows, dtype=np.intp), []
    product = math.prod(sizes)
    if product >= 2**62:
        if cheap_only:
            return None
        stacked = np.stack(codes, axis=1)
        _, first, inverse = np.unique(
            stacked, axis=0, return_index=True, return_inverse=True
        )
        return inverse.reshape(-1), [c.take(first) for c in codes]
    if cheap_only:
        if product > 1 << 22:
            return None
        sample = 1 << 14
        if rows > 4 * sample:
            head = _key([c[:sample] for c in codes], sizes, np)
            if len(np.unique(head)) > sample // 4:
                return None
    key = _key(codes, sizes, np)
    if product <= 1 << 22:
        seen = np.zeros(product, dtype=bool)
        seen[key] = True
        unique = np.flatnonzero(seen)
        if cheap_only and len(unique) > rows // 4:
            return None
        number = np.zeros(product, dtype=np.intp)
        number[unique] = np.arange(len(unique))
        inverse = number.take(key)
    else:
        inverse, unique = pd.factorize(key)
    return inverse, _digits(unique, sizes)


# -- column codes ----------------------------------------------------------------


def _codes(column: Column, series: Any, rows: int, np: Any, pd: Any) -> Any:
    """The atom of every row of SERIES (None: the column is absent, all null)."""
    if series is None:
        return np.full(rows, column.null_atom, dtype=np.intp)
    if isinstance(column, Many):  # version 2: lists, checked row by row
        return _row_codes(column, series, np, pd, check=True)
    dtype = series.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else "O"  # extension types: "O"
    if isinstance(dtype, pd.CategoricalDtype):
        categories = _python_codes(column, pd.Series(series.cat.categories), np, pd)
        codes = series.cat.codes.to_numpy()
        if (categories < 0).any():  # a category outside the Values: is it used?
            used = np.zeros(len(categories) + 1, dtype=bool)
            used[codes] = True  # -1 (missing) marks the last
            for i in np.flatnonzero(used[:-1] & (categories < 0)):
                _raise_at(column, series, np.flatnonzero(codes == i)[0])
        return np.append(categories, column.null_atom).take(codes)
    if isinstance(column, Lookup):
        if kind == "b" and column.type == "boolean":
            return _from_table(
                column, series, series.to_numpy().view(np.uint8), [False, True], np
            )
        return _python_codes(column, series, np, pd, check=True)
    if column.type == "integer" and kind in "iu":
        return _integer_codes(column, series, series.to_numpy(), None, np)
    if column.type == "integer" and isinstance(dtype, pd.Int64Dtype):
        missing = series.isna().to_numpy()
        values = series.to_numpy(np.int64, na_value=0)
        return _integer_codes(column, series, values, missing, np)
    floats = isinstance(dtype, (pd.Float64Dtype, pd.Int64Dtype))
    if column.type == "number" and (kind in "iuf" or floats):
        values = series.to_numpy(np.float64, na_value=np.nan)
        return _number_codes(column, series, values, np)
    if column.type == "date" and kind == "M":
        days = _as_dates(series, column.table, column.name, np, pd)
        missing = np.isnat(days)
        return _integer_codes(
            column, series, days.astype(np.int64), missing, np, dates=True
        )
    if (column.type, kind) in (("duration", "m"), ("datetime", "M")):
        series = _as_python(series, kind, pd)
    return _python_codes(column, series, np, pd, check=True)


def _check_required(column: Column, codes: Any, frame: Any, np: Any) -> None:
    """A required input (its null atom is OUTSIDE): InputError at its first missing
    row."""
    if type(column.atoms[column.null_atom]) is not Outside:
        return
    missing = np.flatnonzero(codes == column.null_atom)
    if len(missing):
        error = InputError(column.table, column.name, None, column.allowed)
        raise error.at_row(frame.index[int(missing[0])])


def _as_python(series: Any, kind: str, pd: Any) -> Any:
    """A timedelta64 or datetime64 column as Python timedeltas or datetimes (what
    `evaluate` takes), missing values None. A zoned datetime64 column has no kind "M"
    and is refused value by value."""
    array = series.array
    stdlib = array.to_pytimedelta() if kind == "m" else array.to_pydatetime()
    missing = series.isna().to_numpy()
    values = [None if gone else v for v, gone in zip(stdlib, missing, strict=True)]
    return pd.Series(values, index=series.index, dtype=object)


def _raise_at(column: Column, series: Any, position: Any) -> None:
    position = int(position)
    value = series.iloc[position]
    try:
        column.atom(value.item() if hasattr(value, "item") else value)
    except DecisionError as error:
        raise error.at_row(series.index[position]) from None
    raise InputError(column.table, column.name, value, column.allowed).at_row(
        series.index[position]
    )


def _python_codes(
    column: Column, series: Any, np: Any, pd: Any, check: bool = False
) -> Any:
    """Atoms found value by value (distinct values only), with the checked path's
    validation: exactly what `evaluate` accepts. Missing values (None, NaN, NA) are
    null. With CHECK, a value that is not allowed raises; else its atom is -1."""
    alike = _ALIKE[column.type]
    if column.type in ("string", "code"):
        # Only strings equal strings: when the distinct values are all strings, so
        # is every value, and looking at the distinct ones is enough.
        inverse, uniques = pd.factorize(series, use_na_sentinel=True)
        if pd.api.types.infer_dtype(uniques, skipna=True) not in alike:
            return _row_codes(column, series, np, pd, check)
    else:
        if pd.api.types.infer_dtype(series, skipna=True) not in alike:
            return _row_codes(column, series, np, pd, check)
        inverse, uniques = pd.factorize(series, use_na_sentinel=True)
    atoms = np.empty(len(uniques) + 1, dtype=np.intp)
    atoms[-1] = column.null_atom
    values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
    for i, value in enumerate(values):
        try:
            atoms[i] = column.atom(value)
        except DecisionError as error:
            if not check:
                atoms[i] = -1
                continue
            position = int(np.flatnonzero(inverse == i)[0])
            raise error.at_row(series.index[position]) from None
    return atoms.take(inverse)


# Column contents (pandas' infer_dtype) whose equal values are also equally valid, so
# that distinct values can be checked once each; others (True next to 1, 18.0 next
# to 18) are checked row by row.
_ALIKE = {
    "boolean": ("boolean", "empty"),
    "string": ("string", "empty"),
    "code": ("string", "empty"),
    "integer": ("integer", "empty"),
    "number": ("integer", "floating", "mixed-integer-float", "empty"),
    "date": ("date", "empty"),
    "duration": ("timedelta", "empty"),
    "time": ("time", "empty"),
    "datetime": ("datetime", "empty"),
    # version 2: YearsMonths objects (never equal to a value of another type)
    "years and months duration": ("mixed", "empty"),
}


def _row_codes(column: Column, series: Any, np: Any, pd: Any, check: bool) -> Any:
    """Atoms row by row, for columns of mixed contents."""
    codes = np.empty(len(series), dtype=np.intp)
    for i, value in enumerate(series.tolist()):
        if value is None or value is pd.NA or value is pd.NaT or value != value:
            codes[i] = column.null_atom
            continue
        try:
            codes[i] = column.atom(value)
        except DecisionError as error:
            if not check:
                codes[i] = -1
                continue
            raise error.at_row(series.index[i]) from None
    return codes


def _from_table(
    column: Column, series: Any, small: Any, values: list[Any], np: Any
) -> Any:
    """Codes of a column whose values index VALUES (booleans as 0/1)."""
    table = np.empty(len(values), dtype=np.intp)
    for i, value in enumerate(values):
        try:
            table[i] = column.atom(value)
        except DecisionError:
            table[i] = -1
    codes = table.take(small)
    if (table < 0).any() and (codes < 0).any():
        _raise_at(column, series, np.flatnonzero(codes < 0)[0])
    return codes


def _invalid_slots(column: Ranges, np: Any) -> Any:
    found = column.cache.get("invalid")
    if found is None:
        found = column.cache["invalid"] = np.array(
            [type(m) is Outside for m in column.atoms], dtype=bool
        )
    return found


def _check_slots(column: Ranges, series: Any, codes: Any, np: Any) -> None:
    """Raise InputError at the first row whose slot is outside the Values."""
    invalid = _invalid_slots(column, np)
    if invalid.any():
        bad = invalid.take(codes)
        if bad.any():
            _raise_at(column, series, np.flatnonzero(bad)[0])


def _integer_codes(
    column: Ranges,
    series: Any,
    values: Any,
    missing: Any,
    np: Any,
    *,
    dates: bool = False,
) -> Any:
    """Slots of integers (dates: days since 1970) by a table over the bounds' span
    (slots outside the Values as -1), or by binary search when the span is large."""
    key = "days" if dates else "ints"
    found = column.cache.get(key)
    _, bounds, _ = column.lanes[None]
    if found is None:
        if dates:
            ints = np.array([b.toordinal() - 719163 for b in bounds], dtype=np.int64)
        else:
            ints = np.array(bounds, dtype=object)
            if len(bounds) and (min(bounds) < -(2**62) or max(bounds) > 2**62):
                ints = None
            else:
                ints = ints.astype(np.int64)
        table = None
        low = high = 0
        if ints is not None and len(ints) and int(ints[-1]) - int(ints[0]) <= 1 << 20:
            low, high = int(ints[0]) - 1, int(ints[-1])
            if 0 <= low and high <= 1 << 20:
                low = 0  # from 0: most columns index the table with their values
            table = np.searchsorted(ints, np.arange(low, high + 1), side="right")
            table[_invalid_slots(column, np).take(table)] = -1
        found = column.cache[key] = (ints, table, low, high)
    ints, table, low, high = found
    if ints is None:
        import pandas as pd

        return _python_codes(column, series, np, pd, check=True)
    if values.dtype != np.int64:  # other widths: compared and shifted as int64
        if values.dtype.kind == "u" and len(values) and values.max() > 2**62:
            import pandas as pd

            return _python_codes(column, series, np, pd, check=True)
        values = values.astype(np.int64)
    if not len(ints):
        codes = np.zeros(len(values), dtype=np.intp)
    elif table is not None:
        if len(values) and (values.min() < low or values.max() > high):
            values = np.clip(values, low, high)
        codes = table.take(values - low if low else values)
    else:
        codes = np.searchsorted(ints, values, side="right")
    if missing is not None:
        codes[missing] = column.null_atom
    if table is None:
        _check_slots(column, series, codes, np)
    elif len(codes) and codes.min() < 0:
        _raise_at(column, series, np.flatnonzero(codes < 0)[0])
    return codes


def _number_cells(column: Ranges, np: Any) -> tuple[Any, Any, bool]:
    """(finite bounds, cells, whether a finite value can be outside the Values):
    cells of equal width over the bounds, each holding at most a few of them, as
    (low, scale, cells, base, extra) (None when they do not narrow the search)."""
    _, bounds, _ = column.lanes[None]
    finite = np.array([b for b in bounds if math.isfinite(b)], dtype=np.float64)
    outside = bool(_invalid_slots(column, np)[: len(finite) + 1].any())
    if len(finite) < 2:
        return finite, None, outside
    cells = 4 * len(finite)
    low, width = float(finite[0]), (float(finite[-1]) - float(finite[0])) / cells
    if not width > 0:
        return finite, None, outside
    scale = 1.0 / width
    of = _cell(finite, low, scale, cells, np)
    counts = np.bincount(of, minlength=cells + 2)
    deep = int(counts.max())
    if deep > 6:
        return finite, None, outside
    base = np.concatenate(([0], np.cumsum(counts)[:-1]))
    extra = np.full((deep, cells + 2), np.inf)
    for i, (cell, start) in enumerate(zip(of, base.take(of), strict=False)):
        extra[i - start, cell] = finite[i]
    return finite, (low, scale, cells, base, extra), outside


def _number_codes(column: Ranges, series: Any, values: Any, np: Any) -> Any:
    """Slots of floats: cells of equal width over the bounds narrow the search to at
    most a few bounds per cell, compared one by one (searchsorted is slow on random
    data). Exact: a value and a bound in different cells are ordered by their cells
    (one monotonic function, `_cell`, gives the cells of both)."""
    found = column.cache.get("cells")
    if found is None:
        found = column.cache["cells"] = _number_cells(column, np)
    finite, narrowed, outside = found
    odd = not np.isfinite(values).all()
    if odd:  # NaN and inf: outside the cells, their slots are set below
        missing = np.isnan(values)
        infinite = np.isinf(values)
        top = infinite & (values > 0)
        values = np.where(missing | infinite, finite[0] if len(finite) else 0.0, values)
    if narrowed is None:
        codes = np.searchsorted(finite, values, side="right")
    else:
        low, scale, cells, base, extra = narrowed
        of = _cell(values, low, scale, cells, np)
        codes = base.take(of)
        for row in extra:
            codes += row.take(of) <= values
    if odd:
        codes[infinite & ~top] = 0
        top_slot = len(column.lanes[None][1])  # +inf: above every bound
        codes[top] = column.inf_atom if column.inf_atom >= 0 else top_slot
        codes[missing] = column.null_atom
    if odd or outside:
        _check_slots(column, series, codes, np)
    return codes


def _cell(values: Any, low: float, scale: float, cells: int, np: Any) -> Any:
    """The cell of each (finite) value: 0 below LOW, CELLS + 1 above the top."""
    scaled = values - low
    scaled *= scale
    scaled += 1.0
    np.clip(scaled, 0.0, cells + 1.0, out=scaled)
    return scaled.astype(np.intp)  # truncation: the floor of values >= 0
