"""Durations, times of day and datetimes (workbook format version 2): their text forms.

- `duration` is DMN's days-and-time duration, a `datetime.timedelta`. Authors write
  `14 days`, `6 weeks`, `12 hours`, `30 minutes`, `90 seconds` (singular or plural),
  ISO 8601 / FEEL `P14D`, `P2W`, `PT12H`, `P1DT6H`, negated `-P1D`, or
  `duration("P14D")`. Months and years have no fixed length in days, so they are not
  a `duration`: they are a years-and-months duration.
- `years and months duration` is DMN's other duration, a `YearsMonths` (a whole
  number of months): `18 months`, `1 year`, `2 years 6 months`, ISO `P1Y6M`,
  `-P2M`, `duration("P1Y")`. Days, weeks and times have no fixed length in months,
  so `3 days` or `P1M3D` is not one (E206).
- `time` is a time of day, `datetime.time`: `08:30`, `08:30:15`, `time("08:30:00")`,
  or an Excel time cell.
- `datetime` is DMN's `date and time`, `datetime.datetime`: `2025-12-18T08:30`,
  `date and time("2025-12-18T08:30:00")`, or an Excel date cell with a time of day.

Time zones: every time and datetime is naive (no zone): the tables' values are read as
wall-clock times in the one zone the deployment agrees on. A text with a zone or
offset (`Z`, `+01:00`, `@Europe/Paris`) is an error with a hint, and an evaluator
refuses a value that carries a `tzinfo` (InputError), since naive and zoned values
have no order in Python.
"""

from __future__ import annotations

import datetime as dt
import re

from compiler.diagnostics import CellError
from compiler.emitting.runtime._runtime import YearsMonths

_UNITS = {
    "week": dt.timedelta(weeks=1),
    "day": dt.timedelta(days=1),
    "hour": dt.timedelta(hours=1),
    "minute": dt.timedelta(minutes=1),
    "second": dt.timedelta(seconds=1),
}
YM_UNITS = {"year": 12, "month": 1}
_WORDS = re.compile(r"^([+-]?\d+)\s*([a-z]+?)s?$", re.I)
_ISO_DT = re.compile(
    r"^(-)?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
_ISO_YM = re.compile(r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")
_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2}|@.+)$")
_CALL = re.compile(r'^([a-z ]+)\(\s*"([^"]*)"\s*\)$', re.I)

DURATION_HINT = "write e.g. 14 days, 6 weeks, 12 hours, or ISO P14D"
TIME_HINT = "write e.g. 08:30 or 08:30:15 (24-hour clock, no time zone)"
YEARS_MONTHS_HINT = "write e.g. 18 months, 1 year, 2 years 6 months, or ISO P1Y6M"
DATETIME_HINT = "write e.g. 2025-12-18T08:30 (ISO, no time zone)"


def _unwrap(text: str, name: str) -> str:
    call = _CALL.match(text.strip())
    if call and " ".join(call.group(1).lower().split()) == name:
        return call.group(2).strip()
    return text.strip()


def parse_duration(text: str) -> dt.timedelta:
    """A days-and-time duration; CellError (E206) when TEXT is not one."""
    text = _unwrap(text, "duration")
    words = _WORDS.match(text)
    if words:
        amount, unit = int(words.group(1)), words.group(2).lower()
        if unit in _UNITS:
            try:
                return amount * _UNITS[unit]
            except OverflowError:
                raise CellError(
                    f"{text!r} is too long a duration", code="E206"
                ) from None
        if unit in YM_UNITS:
            raise CellError(
                f"{text!r}: months and years have no fixed length in days, so they "
                "are not a duration",
                "compare in days or weeks (3 months: 90 days), or compute a years and "
                "months duration in an expression",
                code="E206",
            )
    iso = _ISO_DT.match(text)
    if iso and any(iso.groups()[1:]):
        sign, weeks, days, hours, minutes, seconds = iso.groups()
        try:
            value = dt.timedelta(
                weeks=int(weeks or 0),
                days=int(days or 0),
                hours=int(hours or 0),
                minutes=int(minutes or 0),
                seconds=float(seconds or 0),
            )
        except OverflowError:
            raise CellError(f"{text!r} is too long a duration", code="E206") from None
        return -value if sign else value
    if _ISO_YM.match(text) and text.strip("-P"):
        raise CellError(
            f"{text!r} is a years-and-months duration, not a days-and-time duration",
            "write it in days or weeks, e.g. P90D",
            code="E206",
        )
    raise CellError(f"{text!r} is not a duration", DURATION_HINT, code="E206")


def parse_ym(text: str) -> int | None:
    """A years-and-months duration in months (`3 months`, `1 year`, `P1Y6M`), or None
    when TEXT is not one."""
    text = _unwrap(text, "duration")
    words = _WORDS.match(text)
    if words and words.group(2).lower() in YM_UNITS:
        return int(words.group(1)) * YM_UNITS[words.group(2).lower()]
    iso = _ISO_YM.match(text)
    if iso and (iso.group(2) or iso.group(3)):
        months = int(iso.group(2) or 0) * 12 + int(iso.group(3) or 0)
        return -months if iso.group(1) else months
    return None


_YM_WORDS = re.compile(r"^([+-]?\d+)\s*years?(?:\s+(\d+)\s*months?)?$", re.I)
_ISO_MIXED = re.compile(r"^-?P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T.*)?$")


def parse_years_months(text: str) -> YearsMonths:
    """A years-and-months duration; CellError (E206) when TEXT is not one, with a
    hint when it holds days or times, which have no fixed length in months."""
    unwrapped = _unwrap(text, "duration")
    both = _YM_WORDS.match(unwrapped)
    if both:
        years = int(both.group(1))
        extra = int(both.group(2) or 0)
        return YearsMonths(years * 12 + (-extra if years < 0 else extra))
    months = parse_ym(unwrapped)
    if months is not None:
        return YearsMonths(months)
    words = _WORDS.match(unwrapped)
    mixed = (words and words.group(2).lower() in _UNITS) or (
        _ISO_MIXED.match(unwrapped) and unwrapped.strip("-P")
    )
    if mixed:
        raise CellError(
            f"{unwrapped!r} holds days or a time of day, which have no fixed length in "
            "months, so it is not a years-and-months duration",
            "write whole months or years (90 days: 3 months), or make the column a "
            "days-and-time duration (Type duration)",
            code="E206",
        )
    raise CellError(
        f"{unwrapped!r} is not a years-and-months duration",
        YEARS_MONTHS_HINT,
        code="E206",
    )


def show_years_months(value: YearsMonths) -> str:
    """A years-and-months duration as an author writes it: `2 years` for whole
    years, else `18 months`."""
    total = value.total
    if total % 12 == 0 and total:
        years = total // 12
        return f"{years} year{'' if abs(years) == 1 else 's'}"
    return f"{total} month{'' if abs(total) == 1 else 's'}"


def _refuse_zone(text: str, hint: str) -> None:
    if _ZONE.search(text) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise CellError(
            f"{text!r} has a time zone; times and datetimes here are naive",
            hint + "; convert to the agreed local time first",
            code="E206",
        )


def parse_time(text: str) -> dt.time:
    text = _unwrap(text, "time")
    match = _TIME.match(text)
    if match:
        hour, minute, second, fraction = match.groups()
        try:
            return dt.time(
                int(hour),
                int(minute),
                int(second or 0),
                int((fraction or "0").ljust(6, "0")),
            )
        except ValueError:
            raise CellError(
                f"{text!r} is not a time of day", TIME_HINT, code="E206"
            ) from None
    _refuse_zone(text, TIME_HINT)
    raise CellError(f"{text!r} is not a time of day", TIME_HINT, code="E206")


def parse_datetime(text: str) -> dt.datetime:
    text = _unwrap(text, "date and time")
    date_part, sep, time_part = text.partition("T")
    if sep and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date_part):
        _refuse_zone(time_part, DATETIME_HINT)
        clock = _TIME.match(time_part)
        if clock:
            try:
                day = dt.date.fromisoformat(date_part)
                moment = parse_time(time_part)
            except (ValueError, CellError):
                raise CellError(
                    f"{text!r} is not a real date and time", DATETIME_HINT, code="E206"
                ) from None
            return dt.datetime.combine(day, moment)
    raise CellError(f"{text!r} is not a date and time", DATETIME_HINT, code="E206")


def show_duration(value: dt.timedelta) -> str:
    """A duration as an author writes it: `14 days`, `6 weeks`, `12 hours`, else ISO."""
    for unit, size in _UNITS.items():
        if value and value % size == dt.timedelta(0):
            count = value // size
            return f"{count} {unit}{'' if abs(count) == 1 else 's'}"
    if not value:
        return "0 days"
    return iso_duration(value)


def iso_duration(value: dt.timedelta) -> str:
    """A duration as ISO 8601 / FEEL text: `P14D`, `PT12H`, `-P1DT6H`."""
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    days, rest = value.days, value.seconds
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or value.microseconds:
        whole = f"{seconds}.{value.microseconds:06d}".rstrip("0").rstrip(".")
        clock += f"{whole}S"
    if clock:
        text += "T" + clock
    return sign + (text if text != "P" else "PT0S")


def show_ym(months: int) -> str:
    years, rest = divmod(abs(months), 12)
    sign = "-" if months < 0 else ""
    return (
        sign
        + "P"
        + (f"{years}Y" if years else "")
        + (f"{rest}M" if rest or not years else "")
    )


def unit_seconds(unit: str) -> int:
    """The seconds in one UNIT of a days-and-time duration (`week`, `day`, ...)."""
    return int(_UNITS[unit].total_seconds())
