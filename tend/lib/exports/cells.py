"""One cell's value: what is a number, what is text, and escaping text against formulas."""

import datetime
import math
from decimal import Decimal

# A cell starting with one of these is read as a formula (=, +, -, @) or can hide the start
# of one (tab, carriage return, NUL).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
LIST_SEPARATOR = ", "


def is_number(value) -> bool:
    """A finite int, float or Decimal (not a bool, which Python counts as an int)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite()
    return True


def is_non_finite(value) -> bool:
    return (
        isinstance(value, float | Decimal) and not isinstance(value, bool) and not is_number(value)
    )


def needs_escape(text: str) -> bool:
    return text.startswith(TRIGGERS)


def escape_text(text: str) -> str:
    """Text as it must appear in a CSV cell: with a leading ``'`` when it could start a
    formula (OWASP's advice), unchanged otherwise."""
    return f"'{text}" if needs_escape(text) else text


def as_text(value) -> str:
    """Any value that is neither empty, a number, a boolean nor a date, as text."""
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join("" if v is None else str(v) for v in value)
    return str(value)


def csv_text(value) -> str:
    """The text of one CSV cell (see the package docstring for the table)."""
    if value is None or is_non_finite(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # never "1E+3"
    if is_number(value):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return escape_text(as_text(value))
