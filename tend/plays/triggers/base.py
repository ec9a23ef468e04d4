"""The trigger plugin interface: one module per kind under ``tend.plays.triggers``.

A kind declares ``Config`` (pydantic, ``extra="forbid"``) and ``check(config, workspace)``
like a step, and:

* ``poll(play, config, now) -> Poll`` — the new occurrences since the play's cursor or
  state, with the cursor and state to store (change-row triggers read rows with an id above
  the cursor, a bounded batch at a time; schedules and date-relative triggers keep the last
  fire in ``state``). Returns at most ``BATCH`` occurrences; ``more`` says to poll again.
* ``start(play, config)`` — the cursor and state at activation, so only new occurrences
  count;
* ``backfill(play, config, now)`` — occurrences for accounts already matching, when an
  activation asks for it (empty for kinds with nothing "already matching");
* ``candidates(play, config, now)`` — the dry run: ``[(account id, why)]`` that would be
  triggered now;
* ``explain(play, config, account, now)`` — for "why not?": what the trigger saw of this
  account, as ``(fired: bool, sentence)``.
"""

from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

BATCH = 5000
RECENT_DAYS = 7  # how far back the dry run and "why not?" look for change rows


class TriggerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@dataclass
class Poll:
    occurrences: list = field(default_factory=list)
    cursor: int | None = None  # where the next read starts
    # What may be stored as the play's cursor, when less than ``cursor`` (see changes.py).
    settled: int | None = None
    state: dict | None = None
    more: bool = False


class TriggerKind:
    kind: ClassVar[str]
    label: ClassVar[str]
    Config: ClassVar[type[TriggerConfig]] = TriggerConfig
    polled: ClassVar[bool] = True  # manual triggers are not

    def check(self, config, workspace) -> None:
        pass

    def poll(self, play, config, now) -> Poll:
        return Poll()

    def start(self, play, config, now) -> tuple[int, dict]:
        return 0, {}

    def backfill(self, play, config, now) -> list:
        return []

    def candidates(self, play, config, now) -> list[tuple[int, str]]:
        return []

    def explain(self, play, config, account, now) -> tuple[bool, str]:
        return False, "this trigger has not fired for the account"
