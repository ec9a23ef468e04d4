"""The play editor's form: a play as the fields a person edits, read back from a post, and
turned into the data :func:`tend.plays.actions.create_play` / ``update_play`` take. Nothing
here validates a play: the actions do (the same checks as the API), and their
``InvalidInput`` comes back here only to be placed beside the input it names.

The inputs of a trigger or a step are drawn from its plugin's pydantic ``Config`` (see
:func:`inputs`): a text, a number, a yes/no, a choice (a ``Literal`` or an enum), several
choices, a condition (the segment editor's condition builder), or property pairs. Where a
config field names something of the workspace — ``segment_id``, ``stage``, a role key, a
member or team id, an attribute key — the choice lists those (:class:`Sources`). A new
step kind gets its form with no code here.

The form's names::

    name, description, owner_id, run_policy, policy_days
    trigger_kind, t-<field>                 the trigger and its config
    t-properties-key / t-properties-value   an event trigger's property pairs (repeated)
    condition-…                             the play's condition builder
    step = s1, s3, s2                       the steps in order (repeated); each step's
    s1-kind, s1-<field>                     kind and config inputs; a branch's condition
    s1c-…                                   in a builder of its own
    op                                      a structural edit: add_step, remove:s1,
                                            up:s1, down:s1, redraw
"""

import dataclasses
import enum
import json
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from tend.accounts import condition_builder as cb
from tend.accounts.actions.accounts import attribute_definitions
from tend.accounts.attributes import AttributeValueError, coerce
from tend.accounts.models import AssignmentRole, AttributeType, Stage
from tend.lib.conditions import ConditionError, InvalidCondition
from tend.lib.errors import InvalidInput
from tend.plays import steps, triggers
from tend.plays.models import Play, PlayStep, RunPolicy
from tend.segments.models import SegmentKind
from tend.segments.queries import visible_segments
from tend.work.actions import touchpoint_types
from tend.work.models import ProjectTemplate
from tend.workspaces.models import Member, Team

PREFIX = "condition"
STEP_ID = re.compile(r"^s\d{1,4}$")
MAX_PAIRS = 20
# Template fields get a larger box, and the preview button on their step.
TEMPLATES = {"title", "description", "subject", "body", "text"}
TEMPLATE_HELP = (
    "A template: {{ account.name }}, {{ account.external_id }}, {{ account.stage }}, "
    "{{ account.attributes.<key> }}, {{ account.health.rank }}, "
    "{{ account.assignments.<role>.name }}, {{ workspace.name }}."
)
PREVIEWED = {"create_task", "send_email", "post_slack", "log_touchpoint"}
LABELS = {
    "segment_id": "Segment",
    "from_rank": "From rank",
    "to_rank": "To rank",
    "from_stage": "From stage",
    "to_stage": "To stage",
    "key": "Attribute",
    "from_value": "From value",
    "to_value": "To value",
    "activity": "Event name",
    "properties": "Property conditions",
    "cron": "Schedule (cron)",
    "attribute": "Date attribute",
    "days": "Days",
    "direction": "Before or after",
    "tag": "Tag",
    "value": "New value",
    "stage": "Stage",
    "until_attribute": "Or until the date in",
    "offset_days": "Offset (days)",
    "at_hour": "At hour (local)",
    "condition": "Condition",
    "then_position": "When it matches, go to step",
    "else_position": "Otherwise, go to step",
    "to_roles": "To the account's",
    "to_members": "To members",
    "to_contacts": "To contacts",
    "contact_role": "Only contacts with role",
    "to_end_users": "To the account's end users",
    "reply_to_role": "Replies go to",
    "subject": "Subject",
    "body": "Body (Markdown)",
    "url": "URL",
    "secret": "Signing secret",
    "text": "Message",
    "title": "Title",
    "description": "Description (Markdown)",
    "type": "Type",
    "priority": "Priority",
    "due_in_days": "Due in (days)",
    "assignee_role": "Assign to the account's",
    "assignee_member_id": "Or to member",
    "assignee_team_id": "Or round robin in team",
    "fallback_member_id": "Fallback member",
    "sentiment": "Sentiment",
}
# Words for the page where a config's description speaks to API callers (keys, ids, null);
# an empty string shows no help. Other fields show their description.
HELP = {
    "from_value": "Only changes from this value; empty: any.",
    "to_value": "Only changes to this value; empty: any.",
    "attribute": "",
    "properties": 'The event must carry these values. Numbers and true/false match as such; put text in quotes to match "10" as text.',
    "from_rank": "",
    "to_rank": "",
    "cron": "Five fields: minute hour day month weekday, in the workspace's time zone — 0 9 * * 1 is Mondays at 09:00.",
    "from_stage": "",
    "to_stage": "",
    "key": "",
    "value": "Empty clears it.",
    "then_position": "Empty: the next step; 0: end the run.",
    "else_position": "Empty: the next step; 0: end the run.",
    "to_roles": "The members holding these roles on the account.",
    "to_members": "Whatever the account.",
    "to_contacts": "",
    "to_end_users": "",
    "reply_to_role": "",
    "segment_id": "",
    "stage": "",
    "tag": "",
    "assignee_member_id": "",
    "assignee_team_id": "Among the team's active members, in turn.",
    "fallback_member_id": "With a role: who gets it when nobody holds the role on the account.",
    "days": "",
    "until_attribute": "Instead of a number of days: the date in this attribute, plus the offset.",
    "secret": "The Standard Webhooks secret (whsec_…) the receiver checks; generated when empty.",
}
CHOICE_LABELS = {("to_contacts", "all"): "All contacts", ("to_contacts", "key"): "Key contacts"}
BLANKS = {
    "from_rank": "Any rank",
    "to_rank": "Any rank",
    "from_stage": "Any stage",
    "to_stage": "Any stage",
    "stage": "No stage (clear it)",
    "to_contacts": "None",
    "direction": "",
}
ATTRIBUTE_FIELDS = {"key", "attribute", "until_attribute"}
DATE_ATTRIBUTE_FIELDS = {"attribute", "until_attribute"}
ROLE_FIELDS = {"assignee_role", "reply_to_role", "to_roles"}
MEMBER_FIELDS = {"assignee_member_id", "fallback_member_id", "to_members"}
STAGE_FIELDS = {"stage", "from_stage", "to_stage"}
STATIC_SEGMENT_KINDS = {"add_to_segment", "remove_from_segment"}


# --- what a config field is ------------------------------------------------------------


@dataclass
class Input:
    """One input of a trigger's or step's config."""

    name: str
    label: str
    control: str  # text, template, number, checkbox, select, multi, condition, pairs, any
    required: bool
    nullable: bool
    help: str = ""
    choices: list[tuple[str, str]] | None = None
    blank: str | None = None  # the empty choice's words; None: no empty choice
    numeric: bool = False
    default: str = ""  # shown in a new step's input


def _unwrap(annotation) -> tuple[Any, bool]:
    """``(the type, whether None is allowed)``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else Any), True
    return annotation, False


class Sources:
    """The workspace's things a config field may name, each listed once per request."""

    def __init__(self, actor):
        self.actor = actor
        self.workspace = actor.workspace
        self._cache: dict[str, Any] = {}

    def _get(self, name, make):
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def segments(self, static_only=False) -> list[tuple[str, str]]:
        rows = self._get(
            "segments",
            lambda: list(
                visible_segments(self.actor).order_by("name").values_list("pk", "name", "kind")
            ),
        )
        return [
            (str(pk), name)
            for pk, name, kind in rows
            if not static_only or kind == SegmentKind.STATIC
        ]

    def stages(self):
        return self._get(
            "stages",
            lambda: [
                (n, n)
                for n in Stage.objects.filter(workspace=self.workspace)
                .order_by("position", "name")
                .values_list("name", flat=True)
            ],
        )

    def definitions(self):
        return self._get("definitions", lambda: attribute_definitions(self.workspace))

    def attributes(self, dates_only=False):
        return [
            (key, f"{d.label} ({key})")
            for key, d in sorted(self.definitions().items(), key=lambda kv: kv[1].label.lower())
            if not dates_only or d.type == AttributeType.DATE
        ]

    def roles(self):
        return self._get(
            "roles",
            lambda: [
                (k, n)
                for k, n in AssignmentRole.objects.filter(workspace=self.workspace)
                .order_by("position", "name")
                .values_list("key", "name")
            ],
        )

    def members(self):
        return self._get(
            "members",
            lambda: sorted(
                (
                    (str(m.pk), f"{m.name} ({m.user.email})")
                    for m in Member.objects.filter(
                        workspace=self.workspace, is_active=True
                    ).select_related("user")
                ),
                key=lambda pair: pair[1].lower(),
            ),
        )

    def touchpoint_types(self):
        return self._get("touchpoint_types", lambda: touchpoint_types(self.workspace))

    def project_templates(self):
        return self._get(
            "project_templates",
            lambda: [
                (str(pk), n)
                for pk, n in ProjectTemplate.objects.filter(workspace=self.workspace)
                .order_by("name", "pk")
                .values_list("pk", "name")
            ],
        )

    def teams(self):
        return self._get(
            "teams",
            lambda: [
                (str(pk), n)
                for pk, n in Team.objects.filter(workspace=self.workspace)
                .order_by("name")
                .values_list("pk", "name")
            ],
        )


def _default(info) -> str:
    value = info.get_default(call_default_factory=True) if not info.is_required() else None
    return _shown(value) if isinstance(value, str | int | float | bool) else ""


def inputs(kind_name: str, config_cls, sources: Sources) -> list[Input]:
    """The inputs of a config class, in its fields' order."""
    found = []
    for name, info in config_cls.model_fields.items():
        base, nullable = _unwrap(info.annotation)
        required = info.is_required()
        item = Input(
            name=name,
            label=LABELS.get(name, name.replace("_", " ").capitalize()),
            control="text",
            required=required,
            nullable=nullable,
            help=HELP.get(name, info.description or ""),
            default=_default(info),
        )
        origin = typing.get_origin(base)
        choices = None
        if name == "segment_id":
            choices = sources.segments(static_only=kind_name in STATIC_SEGMENT_KINDS)
        elif name in STAGE_FIELDS:
            choices = sources.stages()
        elif name in ATTRIBUTE_FIELDS:
            choices = sources.attributes(dates_only=name in DATE_ATTRIBUTE_FIELDS)
        elif name in ROLE_FIELDS:
            choices = sources.roles()
        elif name in MEMBER_FIELDS:
            choices = sources.members()
        elif name == "assignee_team_id":
            choices = sources.teams()
        elif name == "template_id":
            choices = sources.project_templates()
        elif kind_name == "log_touchpoint" and name == "type":
            choices = sources.touchpoint_types()
            item.help = ""
        elif origin is typing.Literal:
            choices = [
                (str(v), CHOICE_LABELS.get((name, v), str(v).replace("_", " ")))
                for v in typing.get_args(base)
            ]
            item.help = ""  # the choices say it
        elif isinstance(base, type) and issubclass(base, enum.Enum):
            choices = [(m.value, getattr(m, "label", m.value)) for m in base]
            item.help = ""
        if choices is not None:
            item.choices = choices
            item.control = "multi" if origin is list else "select"
            if item.control == "select":
                if required and not nullable:
                    item.blank = "Choose…"
                elif not required and not nullable and info.default is not None:
                    item.blank = None  # a default such as "normal": always one chosen
                else:
                    item.blank = BLANKS.get(name, "—")
            item.numeric = name.endswith("_id") or name == "to_members"
        elif base is bool:
            item.control = "checkbox"
        elif base is int:
            item.control = "number"
        elif base is dict and name == "condition":
            item.control = "condition"
        elif base is dict:
            item.control = "pairs"
        elif base is Any:
            item.control = "any"
        elif name in TEMPLATES:
            item.control = "template"
            if name in ("title", "subject", "text"):
                item.help = TEMPLATE_HELP
        found.append(item)
    return found


# --- the editor's state ----------------------------------------------------------------


@dataclass
class StepState:
    sid: str
    kind: str
    values: dict[str, Any] = field(default_factory=dict)  # str, or list[str] for multi/pairs
    builder: cb.Builder | None = None  # a branch's condition


@dataclass
class State:
    name: str = ""
    description: str = ""
    owner_id: str = ""
    trigger_kind: str = "segment_entered"
    trigger: dict[str, Any] = field(default_factory=dict)
    condition: cb.Builder = field(default_factory=lambda: cb.blank(PREFIX))
    run_policy: str = RunPolicy.ONCE_PER_OCCURRENCE
    policy_days: str = ""
    steps: list[StepState] = field(default_factory=list)

    def step(self, sid: str) -> StepState | None:
        return next((s for s in self.steps if s.sid == sid), None)

    def next_sid(self) -> str:
        used = [int(s.sid[1:]) for s in self.steps]
        return f"s{max(used, default=0) + 1}"


def _shown(value) -> str:
    """A config value as an input holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _values_of(
    kind_name: str, config_cls, config: dict, builder_prefix: str, sources
) -> tuple[dict, cb.Builder | None]:
    values: dict[str, Any] = {}
    builder = None
    for item in inputs(kind_name, config_cls, sources):
        if item.name not in (config or {}):
            continue
        raw = config[item.name]
        if item.control == "multi":
            values[item.name] = [str(v) for v in raw or []]
        elif item.control == "checkbox":
            values[item.name] = "on" if raw else ""
        elif item.control == "condition":
            builder = cb.from_condition(raw, builder_prefix)
        elif item.control == "pairs":
            values[item.name] = [(str(k), _shown(v)) for k, v in (raw or {}).items()]
        else:
            values[item.name] = _shown(raw)
    return values, builder


def from_play(play: Play, sources: Sources) -> State:
    state = State(
        name=play.name,
        description=play.description,
        owner_id=str(play.owner_id or ""),
        trigger_kind=play.trigger_kind,
        run_policy=play.run_policy,
        policy_days=str(play.policy_days or ""),
    )
    kind = triggers.kinds().get(play.trigger_kind)
    if kind is not None:
        state.trigger, _ = _values_of(
            play.trigger_kind, kind.Config, play.trigger_config, "", sources
        )
    if play.condition:
        state.condition = cb.from_condition(play.condition, PREFIX)
    for i, row in enumerate(PlayStep.objects.filter(play=play).order_by("position"), start=1):
        step = StepState(sid=f"s{i}", kind=row.kind)
        if row.kind in steps.kinds():
            step.values, step.builder = _values_of(
                row.kind, steps.get(row.kind).Config, row.config, f"s{i}c", sources
            )
            if step.builder is None and _has_condition(row.kind, sources):
                step.builder = cb.blank(f"s{i}c")
        state.steps.append(step)
    return state


def _has_condition(kind_name: str, sources) -> bool:
    return any(
        i.control == "condition" for i in inputs(kind_name, steps.get(kind_name).Config, sources)
    )


def new_step(state: State, kind_name: str, sources) -> StepState | None:
    if kind_name not in steps.kinds():
        return None
    sid = state.next_sid()
    step = StepState(sid=sid, kind=kind_name)
    for item in inputs(kind_name, steps.get(kind_name).Config, sources):
        if item.control == "condition":
            step.builder = cb.blank(f"{sid}c")
        elif item.default and item.control not in ("multi", "pairs"):
            step.values[item.name] = (
                "on" if item.control == "checkbox" and item.default == "true" else item.default
            )
    state.steps.append(step)
    return step


def _read_values(data, prefix: str, items: list[Input]) -> dict:
    values: dict[str, Any] = {}
    for item in items:
        name = f"{prefix}-{item.name}"
        if item.control == "multi":
            values[item.name] = [v for v in data.getlist(name) if v]
        elif item.control == "pairs":
            keys, vals = data.getlist(f"{name}-key"), data.getlist(f"{name}-value")
            values[item.name] = list(zip(keys, vals, strict=False))[:MAX_PAIRS]
        elif item.control == "condition":
            continue
        else:
            values[item.name] = data.get(name, "")
    return values


def from_post(data, sources: Sources, catalog) -> State:
    """The editor as posted; nothing is checked here."""
    state = State(
        name=data.get("name", ""),
        description=data.get("description", ""),
        owner_id=data.get("owner_id", ""),
        trigger_kind=data.get("trigger_kind", ""),
        run_policy=data.get("run_policy", ""),
        policy_days=data.get("policy_days", ""),
    )
    kind = triggers.kinds().get(state.trigger_kind)
    if kind is not None:
        state.trigger = _read_values(data, "t", inputs(state.trigger_kind, kind.Config, sources))
    state.condition = cb.read(data, PREFIX, catalog)
    seen = set()
    for sid in data.getlist("step")[: 2 * 50]:
        if not STEP_ID.match(sid) or sid in seen:
            continue
        seen.add(sid)
        kind_name = data.get(f"{sid}-kind", "")
        step = StepState(sid=sid, kind=kind_name)
        if kind_name in steps.kinds():
            items = inputs(kind_name, steps.get(kind_name).Config, sources)
            step.values = _read_values(data, sid, items)
            if any(i.control == "condition" for i in items):
                step.builder = cb.read(data, f"{sid}c", catalog)
        state.steps.append(step)
    return state


def apply(state: State, op: str, data, sources, catalog) -> None:
    """A structural edit (the button pressed); an unknown or stale one changes nothing. The
    condition builders' own edits (``<prefix>-op``) are applied too, for a post without
    JavaScript."""
    name, _, sid = op.partition(":")
    if name == "add_step":
        new_step(state, data.get("new_step_kind", ""), sources)
    elif name in ("remove", "up", "down"):
        step = state.step(sid)
        if step is None:
            return
        index = state.steps.index(step)
        if name == "remove":
            state.steps.pop(index)
        else:
            other = index - 1 if name == "up" else index + 1
            if 0 <= other < len(state.steps):
                state.steps[index], state.steps[other] = state.steps[other], state.steps[index]
    for builder in [state.condition, *(s.builder for s in state.steps if s.builder)]:
        builder_op = data.get(f"{builder.prefix}-op", "")
        if builder_op:
            cb.apply(builder, builder_op, catalog)


# --- to the actions' data ----------------------------------------------------------------


def _number(raw: str):
    raw = raw.strip()
    return int(raw) if re.fullmatch(r"[+-]?\d{1,12}", raw) else raw


def _literal(raw: str):
    """A property value as typed: JSON numbers, true/false/null and "quoted text" as such,
    anything else as text."""
    text = raw.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return raw.strip()
    return value if isinstance(value, str | int | float | bool) or value is None else raw.strip()


@dataclass
class Built:
    """The data for the actions, and what each builder became (for placing errors)."""

    data: dict
    drafts: dict[str, cb.Draft] = field(default_factory=dict)
    error: InvalidInput | None = None  # a builder's JSON box that does not parse
    catalog: Any = None


def _config(
    kind_name: str, config_cls, values: dict, builder, sources, where: str, built: Built
) -> dict:
    config: dict[str, Any] = {}
    definitions = None
    for item in inputs(kind_name, config_cls, sources):
        raw = values.get(item.name)
        if item.control == "condition":
            draft = cb.to_condition(builder, catalog=built.catalog) if builder else cb.Draft(None)
            built.drafts[builder.prefix if builder else ""] = draft
            if draft.error and built.error is None:
                built.error = InvalidInput(f"{where}.{item.name}", f"The condition {draft.error}")
            if draft.condition is not None:
                config[item.name] = draft.condition
            continue
        if item.control == "checkbox":
            config[item.name] = raw == "on"
            continue
        if item.control == "multi":
            if raw:
                config[item.name] = [_number(v) if item.numeric else v for v in raw]
            continue
        if item.control == "pairs":
            pairs = {k.strip(): _literal(v) for k, v in raw or [] if k.strip()}
            if pairs:
                config[item.name] = pairs
            continue
        text = (raw or "") if isinstance(raw, str) else ""
        if not text.strip():
            if item.required and item.nullable:
                config[item.name] = None
            continue
        if item.control == "number" or item.numeric:
            config[item.name] = _number(text)
        elif item.control == "any":
            if definitions is None:
                definitions = sources.definitions()
            key = values.get("key") or ""
            definition = definitions.get(key if isinstance(key, str) else "")
            value = text
            if definition is not None and definition.type != AttributeType.TEXT:
                try:
                    value = coerce(definition, text)
                except AttributeValueError:
                    value = text  # the step's own check names the problem
            config[item.name] = value
        else:
            config[item.name] = text
    return config


def build(state: State, sources: Sources, catalog) -> Built:
    """What the actions take, from the editor's state."""
    built = Built(data={}, catalog=catalog)
    data = built.data
    data["name"] = state.name
    data["description"] = state.description
    data["owner_id"] = _number(state.owner_id) if state.owner_id.strip() else None
    kind = triggers.kinds().get(state.trigger_kind)
    config = {}
    if kind is not None:
        config = _config(
            state.trigger_kind, kind.Config, state.trigger, None, sources, "trigger.config", built
        )
    data["trigger"] = {"kind": state.trigger_kind, "config": config}
    draft = cb.to_condition(state.condition, catalog)
    built.drafts[PREFIX] = draft
    if draft.error and built.error is None:
        built.error = InvalidInput(PREFIX, f"The condition {draft.error}")
    data["condition"] = draft.condition
    data["run_policy"] = state.run_policy
    data["policy_days"] = _number(state.policy_days) if state.policy_days.strip() else None
    if state.run_policy != RunPolicy.EVERY_N_DAYS:
        data["policy_days"] = None
    out_steps = []
    for index, step in enumerate(state.steps):
        if step.kind not in steps.kinds():
            out_steps.append({"kind": step.kind, "config": {}})
            continue
        config_cls = steps.get(step.kind).Config
        out_steps.append(
            {
                "kind": step.kind,
                "config": _config(
                    step.kind,
                    config_cls,
                    step.values,
                    step.builder,
                    sources,
                    f"steps.{index}.config",
                    built,
                ),
            }
        )
    data["steps"] = out_steps
    return built


# --- errors beside their input ------------------------------------------------------------


@dataclass
class Errors:
    """Messages by place: ``fields`` (name, trigger_kind, t-segment_id, s2-title, s2 …),
    and a builder's rows by its prefix."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    builders: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self):
        return bool(self.fields or self.builders or self.general)

    def add(self, place: str, message: str):
        self.fields.setdefault(place, []).append(message)


def _condition_errors(exc: InvalidInput, strip: str) -> list[ConditionError]:
    if isinstance(exc, InvalidCondition):
        return [ConditionError(e.field(exc.prefix), e.message) for e in exc.errors]
    return [ConditionError(exc.field, exc.message)]


def _sentence(message: str) -> str:
    message = message.removeprefix("Value error, ")  # pydantic's word for a validator's
    return message[:1].upper() + message[1:]


def place(exc: InvalidInput, state: State, built: Built) -> Errors:
    """Where an action's ``InvalidInput`` goes in the form."""
    errors = Errors()
    path = exc.field or ""
    parts = path.split(".")
    head = parts[0]
    if head in ("name", "description", "owner_id", "run_policy", "policy_days"):
        errors.add(head, _sentence(exc.message))
    elif head == "trigger":
        if len(parts) >= 3 and parts[1] == "config":
            errors.add(f"t-{parts[2]}", _sentence(exc.message))
        else:
            errors.add("trigger_kind", _sentence(exc.message))
    elif head == PREFIX:
        _builder_errors(errors, exc, state.condition, built.drafts.get(PREFIX), PREFIX)
    elif (
        head == "steps"
        and len(parts) >= 2
        and parts[1].isdigit()
        and int(parts[1]) < len(state.steps)
    ):
        step = state.steps[int(parts[1])]
        rest = parts[2:]
        if len(rest) >= 2 and rest[0] == "config":
            if rest[1] == "condition" and step.builder is not None:
                _builder_errors(
                    errors,
                    exc,
                    step.builder,
                    built.drafts.get(step.builder.prefix),
                    ".".join(parts[:4]),
                )
            else:
                errors.add(f"{step.sid}-{rest[1]}", _sentence(exc.message))
        else:
            errors.add(step.sid, _sentence(exc.message))
    elif head == "steps":
        errors.add("steps", _sentence(exc.message))
    elif head == "status":
        errors.general.append(_sentence(exc.message))
    else:
        errors.general.append(f"{path}: {exc.message}")
    return errors


def _builder_errors(errors: Errors, exc, builder: cb.Builder, draft: cb.Draft | None, strip: str):
    found = cb.node_errors(
        builder, draft or cb.Draft(None), _condition_errors(exc, strip), strip=strip
    )
    errors.builders[builder.prefix] = found


# --- what the page shows ----------------------------------------------------------------


def _input_view(item: Input, values: dict, prefix: str, errors: Errors) -> dict:
    raw = values.get(item.name)
    view = dataclasses.asdict(item)
    view["input_name"] = f"{prefix}-{item.name}"
    view["errors"] = errors.fields.get(f"{prefix}-{item.name}", [])
    if item.control == "multi":
        chosen = [str(v) for v in raw or []]
        known = {v for v, _ in item.choices or []}
        view["choices"] = [
            *(item.choices or []),
            *((v, f"{v} (not available)") for v in chosen if v not in known),
        ]
        view["chosen"] = chosen
    elif item.control == "pairs":
        pairs = list(raw or [])
        view["pairs"] = [*pairs, ("", "")]
    else:
        value = raw if isinstance(raw, str) else ""
        view["value"] = value
        if item.choices is not None and value and value not in {v for v, _ in item.choices}:
            view["choices"] = [*item.choices, (value, f"{value} (not available)")]
    return view


def view(state: State, sources: Sources, catalog, errors: Errors | None = None) -> dict:
    """What ``plays/_editor.html`` draws."""
    errors = errors or Errors()
    actor = sources.actor
    trigger_kinds = triggers.kinds()
    kind = trigger_kinds.get(state.trigger_kind)
    trigger_inputs = []
    if kind is not None:
        trigger_inputs = [
            _input_view(i, state.trigger, "t", errors)
            for i in inputs(state.trigger_kind, kind.Config, sources)
        ]
    step_kinds = steps.kinds()
    step_views = []
    for index, step in enumerate(state.steps):
        plugin = step_kinds.get(step.kind)
        items = []
        builder_view = None
        if plugin is not None:
            for item in inputs(step.kind, plugin.Config, sources):
                if item.control == "condition":
                    builder = step.builder or cb.blank(f"{step.sid}c")
                    builder_view = cb.view(
                        builder, catalog, errors.builders.get(builder.prefix), actor=actor
                    )
                    continue
                items.append(_input_view(item, step.values, step.sid, errors))
        step_views.append(
            {
                "sid": step.sid,
                "position": index + 1,
                "kind": step.kind,
                "label": plugin.label if plugin else f"{step.kind} (unknown step kind)",
                "inputs": items,
                "builder": builder_view,
                "errors": errors.fields.get(step.sid, []),
                "first": index == 0,
                "last": index == len(state.steps) - 1,
                "previewed": step.kind in PREVIEWED,
            }
        )
    return {
        "state": state,
        "errors": errors.fields,
        "general_errors": errors.general,
        "trigger_kinds": [(k, t.label) for k, t in trigger_kinds.items()],
        "trigger_label": kind.label if kind else "",
        "trigger_inputs": trigger_inputs,
        "trigger_manual": kind is not None and not kind.polled,
        "cb": cb.view(state.condition, catalog, errors.builders.get(PREFIX), actor=actor),
        "steps": step_views,
        "step_kinds": [(k, s.label) for k, s in step_kinds.items()],
        "policies": RunPolicy.choices,
        "members": sources.members(),
        "max_steps": 50,
    }


def builder_op(state: State, data) -> bool:
    """Whether a condition builder's own button was pressed (a post without JavaScript)."""
    prefixes = [state.condition.prefix, *(s.builder.prefix for s in state.steps if s.builder)]
    return any(data.get(f"{prefix}-op") for prefix in prefixes)
