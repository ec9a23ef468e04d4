"""Checking custom attribute values against their declared type.

Pure functions over :class:`AttributeDefinition` rows, shared by the API, the bulk upsert,
the profile's inline editor and (later) imports, so a value means the same everywhere.
Stored forms: text/url/enum → str, number/currency → int or float, date → ISO
``YYYY-MM-DD``, boolean → bool, multi_enum → list of str. ``None`` unsets an attribute.
"""

import datetime
import math
from collections.abc import Iterable, Mapping
from urllib.parse import urlparse

from tend.accounts.models import AttributeType

TRUE_WORDS = {"true", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "no", "n", "0", "off"}
MAX_TEXT = 10_000


class AttributeValueError(ValueError):
    """A value that does not fit its attribute; ``field`` names it as ``attributes.<key>``."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key
        self.field = f"attributes.{key}"
        self.message = message


def coerce(definition, value):
    """Return ``value`` in its stored form for ``definition``, or raise :class:`AttributeValueError`.

    Strings are accepted for every type so that forms and CSV files work; numbers,
    booleans and lists are accepted as JSON gives them.
    """
    key, kind = definition.key, definition.type
    if value is None:
        return None

    def fail(message):
        raise AttributeValueError(key, message)

    if kind in (AttributeType.NUMBER, AttributeType.CURRENCY):
        if isinstance(value, bool):
            fail("expected a number, got true/false")
        if isinstance(value, str):
            text = value.strip().replace(",", "")
            if text == "":
                return None
            try:
                value = float(text) if any(c in text for c in ".eE") else int(text)
            except ValueError:
                fail(f"expected a number, got {value!r}")
        if not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
            fail(f"expected a number, got {type(value).__name__}")
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        return value

    if kind == AttributeType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            word = value.strip().lower()
            if word == "":
                return None
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        fail(f"expected true or false, got {value!r}")

    if kind == AttributeType.DATE:
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, str):
            text = value.strip()
            if text == "":
                return None
            try:
                # Accept a full timestamp too, keeping its date part.
                return datetime.date.fromisoformat(text[:10]).isoformat()
            except ValueError:
                pass
        fail(f"expected a date as YYYY-MM-DD, got {value!r}")

    if kind == AttributeType.MULTI_ENUM:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            fail("expected a list of options")
        options = definition.options or []
        unknown = [v for v in value if v not in options]
        if unknown:
            fail(f"{unknown[0]!r} is not one of the options: {', '.join(options)}")
        return list(dict.fromkeys(value))

    if not isinstance(value, str):
        if kind == AttributeType.TEXT and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            fail(f"expected text, got {type(value).__name__}")
    value = value.strip()
    if value == "":
        return None
    if len(value) > MAX_TEXT:
        fail(f"is longer than {MAX_TEXT} characters")

    if kind == AttributeType.ENUM:
        options = definition.options or []
        if value not in options:
            fail(f"{value!r} is not one of the options: {', '.join(options)}")
    elif kind == AttributeType.URL:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            fail(f"expected a web address starting with http:// or https://, got {value!r}")
    return value


def clean_attributes(
    definitions: Mapping[str, object],
    incoming: Mapping[str, object],
    current: Mapping[str, object] | None = None,
    *,
    check_required: bool = True,
) -> dict:
    """Merge ``incoming`` into ``current`` after checking each value; return the new dict.

    Raises :class:`AttributeValueError` for the first unknown key or bad value, and for a
    required attribute that would be left empty.
    """
    result = dict(current or {})
    for key, raw in incoming.items():
        definition = definitions.get(key)
        if definition is None:
            raise AttributeValueError(key, f"unknown attribute '{key}': define it in the data model first")
        value = coerce(definition, raw)
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    if check_required:
        for key in required_keys(definitions.values()):
            if key not in result:
                raise AttributeValueError(key, "is required")
    return result


def required_keys(definitions: Iterable) -> list[str]:
    return [d.key for d in definitions if d.required]


def display(definition, value) -> str:
    """A value as a person reads it in a table or on a profile."""
    if value is None or value == "" or value == []:
        return ""
    if definition is None:
        return str(value)
    kind = definition.type
    if kind == AttributeType.BOOLEAN:
        return "Yes" if value else "No"
    if kind == AttributeType.CURRENCY and isinstance(value, int | float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not float(value).is_integer() else f"{int(value):,}"
    if kind == AttributeType.NUMBER and isinstance(value, int | float):
        return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
    if kind == AttributeType.MULTI_ENUM and isinstance(value, list):
        return ", ".join(value)
    return str(value)
