"""The change kinds an alert rule can watch.

Most are the plays' trigger kinds themselves (``tend.plays.triggers``): an alert rule has
the same ``trigger_kind`` / ``trigger_config`` / ``trigger_cursor`` / ``trigger_state``
fields as a play, so a kind polls a rule exactly as it polls a play — change rows read
after a stored cursor, a bounded batch at a time (``tend.plays.triggers.changes``). Two
kinds are the alerts' own, built on the same interface: an account's status changed
(``StatusChange`` rows) and usage dropped (``AccountUsage`` rollups compared week on week).
"""

from pydantic import ValidationError

from tend.lib.errors import InvalidInput
from tend.plays import triggers as play_triggers

# Plays' kinds offered to alert rules, in the order the editor lists them.
FROM_PLAYS = ("health_changed", "segment_entered", "segment_left", "event_received", "stage_changed")
_own: dict = {}


def register(cls):
    _own[cls.kind] = cls()
    return cls


def kinds() -> dict:
    if not _own:
        from tend.alerts.kinds import status, usage  # noqa: F401
    found = {name: play_triggers.get(name) for name in FROM_PLAYS}
    found.update(_own)
    return found


def get(kind: str):
    try:
        return kinds()[kind]
    except KeyError:
        raise LookupError(f"no alert kind {kind!r}") from None


def clean_trigger(raw_kind, raw_config, workspace) -> dict:
    """The rule's config, validated; bad input names the field (``trigger.config.to_rank``)."""
    if not isinstance(raw_kind, str) or raw_kind not in kinds():
        raise InvalidInput(
            "trigger.kind", f"expected one of {', '.join(kinds())}, got {raw_kind!r}"
        )
    kind = get(raw_kind)
    if raw_config is None:
        raw_config = {}
    if not isinstance(raw_config, dict):
        raise InvalidInput("trigger.config", "expected an object")
    try:
        config = kind.Config.model_validate(raw_config)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInput(
            f"trigger.config.{path}" if path else "trigger.config", first.get("msg", "is invalid")
        ) from exc
    try:
        kind.check(config, workspace)
    except InvalidInput as exc:
        raise InvalidInput(f"trigger.config.{exc.field}", exc.message) from exc
    return config.model_dump(mode="json", exclude_unset=True)


def config_of(rule):
    kind = get(rule.trigger_kind)
    return kind, kind.Config.model_validate(rule.trigger_config or {})
