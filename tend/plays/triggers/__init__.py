"""The registry of trigger kinds; each is one module here (``base.py`` has the interface)."""

import importlib

from pydantic import ValidationError

from tend.lib.errors import InvalidInput
from tend.plays.triggers.base import TriggerKind

MODULES = ("segments", "health", "stage", "attributes", "events", "manual", "schedule", "dates")
_kinds: dict[str, TriggerKind] = {}


def register(cls: type[TriggerKind]) -> type[TriggerKind]:
    _kinds[cls.kind] = cls()
    return cls


_loaded: list[bool] = []


def kinds() -> dict[str, TriggerKind]:
    if not _loaded:  # not "if empty": a module imported first must not hide the others
        for name in MODULES:
            importlib.import_module(f"tend.plays.triggers.{name}")
        _loaded.append(True)
    return dict(sorted(_kinds.items()))


def get(kind: str) -> TriggerKind:
    try:
        return kinds()[kind]
    except KeyError:
        raise LookupError(f"no trigger kind {kind!r}") from None


def parse_config(kind: TriggerKind, raw, where: str = "trigger.config"):
    if not isinstance(raw, dict):
        raise InvalidInput(where, "expected an object")
    try:
        return kind.Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInput(
            f"{where}.{path}" if path else where, first.get("msg", "is invalid")
        ) from exc


def clean_trigger(raw_kind, raw_config, workspace) -> dict:
    if not isinstance(raw_kind, str) or raw_kind not in kinds():
        raise InvalidInput(
            "trigger.kind", f"expected one of {', '.join(kinds())}, got {raw_kind!r}"
        )
    kind = get(raw_kind)
    config = parse_config(kind, raw_config if raw_config is not None else {})
    try:
        kind.check(config, workspace)
    except InvalidInput as exc:
        raise InvalidInput(f"trigger.config.{exc.field}", exc.message) from exc
    # Only what was given: "from_value" left out means any value, unlike null.
    return config.model_dump(mode="json", exclude_unset=True)


def config_of(play):
    kind = get(play.trigger_kind)
    return kind, parse_config(kind, play.trigger_config)
