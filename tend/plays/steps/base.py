"""The step plugin interface. A step kind is one module under ``tend.plays.steps`` defining
a :class:`StepKind` subclass and registering it with :func:`tend.plays.steps.register`.

A kind declares:

* ``kind`` and ``label``;
* ``Config`` — a pydantic model of its config (``extra="forbid"``): the registry turns its
  errors into ``InvalidInput`` naming the field (``steps.2.config.days``);
* ``check(config, workspace)`` — what pydantic cannot know (a stage or segment that must
  exist), raising ``InvalidInput(field, message)`` with the field inside the config;
* ``describe(config, ctx)`` — the dry run: what it WOULD do for this account, as
  ``{"summary": sentence, …details}``, writing nothing;
* ``local`` — True when ``run`` writes only to this database (the engine then commits it
  together with its log row, in a transaction shared with other runs' steps), and
  ``changes_account`` — False when it never changes the account's own fields;
* ``run(ctx)`` — do it, and return one of :class:`Done`, :class:`Retry`, :class:`Fail`,
  :class:`Wait`, :class:`Branch`. ``ctx.key`` is stable per (run, step): a kind that talks
  to the outside world passes it on (a task's or an email's idempotency key) so that an
  at-least-once re-run — a worker killed after the step acted but before the run moved
  on — never does the thing twice. A kind that only sets state (a tag, an attribute) is
  idempotent by nature.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class StepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@dataclass(frozen=True)
class Done:
    summary: str
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Retry:
    """A transient failure: the step runs again at ``at`` (default: the engine's backoff).

    ``own_schedule``: the step follows a retry schedule of its own and returns ``Fail``
    when that schedule is spent (outgoing HTTP's 8 attempts over about 27 hours), so the
    engine does not stop it after its own ``MAX_STEP_ATTEMPTS``."""

    reason: str
    at: datetime.datetime | None = None
    own_schedule: bool = False


@dataclass(frozen=True)
class Fail:
    """A permanent failure: the run stops here with the reason."""

    reason: str


@dataclass(frozen=True)
class Wait:
    """Move on to the next step at ``until``."""

    until: datetime.datetime
    summary: str


@dataclass(frozen=True)
class Branch:
    """Continue at step ``position`` (or end the run when it is None)."""

    position: int | None
    summary: str


Result = Done | Retry | Fail | Wait | Branch


@dataclass
class AccountContext:
    """What a step may read about the account: the account, its workspace, ``now`` in the
    workspace's time zone, and ``matches(condition)`` — the pure evaluator on its record."""

    account: Any
    now: datetime.datetime
    matches: Any

    @property
    def workspace(self):
        return self.account.workspace


@dataclass
class StepContext(AccountContext):
    config: Any = None
    play: Any = None
    run: Any = None
    position: int = 0
    key: str = ""
    attempt: int = 1
    entered_at: datetime.datetime | None = None
    actor: Any = None
    # The workspace's condition catalog, built once per worker pass (None: build it).
    catalog: Any = None


class StepKind:
    kind: ClassVar[str]
    label: ClassVar[str]
    Config: ClassVar[type[StepConfig]] = StepConfig
    # True when ``run`` only writes to this database (no HTTP, no SMTP): the engine then runs
    # it inside a transaction shared with other runs' steps, committed with its log row.
    local: ClassVar[bool] = False
    # False when ``run`` never changes the account's own fields, so the next step may reuse
    # the account already read.
    changes_account: ClassVar[bool] = True

    def check(self, config: StepConfig, workspace) -> None:
        """Workspace-dependent checks; raise ``InvalidInput`` naming the config field."""

    def describe(self, config: StepConfig, ctx: AccountContext) -> dict:
        raise NotImplementedError

    def run(self, ctx: StepContext) -> Result:
        raise NotImplementedError

    # Optional: ``run_many(ctxs) -> list[Result] | None`` — ``run`` for many runs standing at
    # this step (one config, one workspace) in a few queries, inside the engine's
    # transaction; None declines (the engine then calls ``run`` for each). Only ``local``
    # kinds may have it.
    run_many = None
