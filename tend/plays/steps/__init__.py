"""The registry of step kinds. Each kind is one module here (see ``base.py`` for the
interface); adding a kind is one module plus its name in ``MODULES``."""

import importlib

from pydantic import ValidationError

from tend.lib.errors import InvalidInput
from tend.plays.steps.base import StepKind
from tend.workspaces.access import WRITE

MODULES = (
    "tags",
    "attributes",
    "stage",
    "segments",
    "wait",
    "branch",
    "email",
    "webhook",
    "slack",
    "task",
    "touchpoint",
    "project",
)
_kinds: dict[str, StepKind] = {}


def register(cls: type[StepKind]) -> type[StepKind]:
    _kinds[cls.kind] = cls()
    return cls


_loaded: list[bool] = []


def _load() -> None:
    # A flag, not "is the registry empty": importing one kind's module first (a test that
    # imports ``steps.task``) must not leave the others unregistered.
    if not _loaded:
        for name in MODULES:
            importlib.import_module(f"tend.plays.steps.{name}")
        _loaded.append(True)


def kinds() -> dict[str, StepKind]:
    _load()
    return dict(sorted(_kinds.items()))


def get(kind: str) -> StepKind:
    _load()
    try:
        return _kinds[kind]
    except KeyError:
        raise LookupError(f"no step kind {kind!r}") from None


def parse_config(kind: StepKind, raw, where: str):
    """The kind's ``Config`` from raw JSON, or ``InvalidInput`` naming ``where.<field>``."""
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


def clean_step(raw_kind, raw_config, workspace, where: str) -> dict:
    """Validate one step; return its config as stored JSON."""
    if not isinstance(raw_kind, str) or raw_kind not in kinds():
        raise InvalidInput(
            f"{where}.kind", f"expected one of {', '.join(kinds())}, got {raw_kind!r}"
        )
    kind = get(raw_kind)
    config = parse_config(kind, raw_config if raw_config is not None else {}, f"{where}.config")
    try:
        kind.check(config, workspace)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.config.{exc.field}", exc.message) from exc
    return config.model_dump(mode="json", exclude_none=True)


HIDDEN = "(hidden: only members who can edit plays see it)"


def shown_config(kind_name: str, config: dict, actor) -> dict:
    """A step's config as ``actor`` may read it: the fields its kind lists in
    ``secret_fields`` (a webhook's signing secret) are hidden from readers who cannot edit
    plays; editors see them, to give them to the receiver and to send them back on edit."""
    _load()
    hidden = getattr(_kinds.get(kind_name), "secret_fields", ())
    if not hidden or actor.can(WRITE):
        return config
    return {key: HIDDEN if key in hidden else value for key, value in (config or {}).items()}
