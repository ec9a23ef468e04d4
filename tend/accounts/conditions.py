"""The fields a condition can test on an account, and the calls that apply one to accounts.

:func:`account_catalog` builds the catalog of a workspace (a fixed number of queries,
whatever the number of attributes or accounts):

* built-ins — ``name``, ``external_id``, ``status``, ``stage`` (by name), ``days_in_stage``,
  ``tags``, ``parent`` (its external id), ``created_at``, ``owner.<role key>`` (the email
  of the member holding that assignment role);
* ``attributes.<key>`` for every account attribute definition, typed by it;
* whatever upper apps add: accounts sits below them, so they register a provider
  ``(workspace) -> list[FieldSpec]`` with :func:`add_field_provider` from their
  ``AppConfig.ready()`` (usage adds ``usage.<metric>``).

Attributes live in one JSON column. Each attribute field reads ``attributes -> key``
through an alias (Django's JSON lookups: numbers compare as numbers, dates as their ISO
text, booleans and enums exactly) and is guarded by the JSON type its definition declares,
so a value of another type counts as missing on SQLite and PostgreSQL alike. Conditions on
a text, number, date or option attribute compare its ``value_lookup`` instead
(``JSONValue``: one extraction, text or a number) and test the type only where the
comparison holds.
"""

import datetime
from collections.abc import Callable, Iterable

import numpy as np
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from tend.accounts import columns
from tend.accounts.models import (
    Account,
    AccountStatus,
    AccountTag,
    Assignment,
    AssignmentRole,
    AttributeDefinition,
    AttributeType,
    ObjectType,
    Stage,
    Tag,
)
from tend.lib.conditions import (
    Catalog,
    FieldSpec,
    FieldType,
    Storage,
    compile_q,
    record_keys,
    require_valid,
)
from tend.lib.dates import zone
from tend.lib.json_sql import (
    JSON_BOOLEAN,
    JSON_NUMBER,
    JSON_STRING,
    JSONArrayHasAny,
    JSONTypeIs,
    JSONValue,
)
from tend.workspaces.models import Workspace

FieldProvider = Callable[[Workspace], Iterable[FieldSpec]]
_providers: dict[str, FieldProvider] = {}


def add_field_provider(key: str, provider: FieldProvider) -> None:
    """Let an upper app add condition fields; by key, so registering again replaces."""
    _providers[key] = provider


def account_catalog(workspace: Workspace, *, without: Iterable[str] = ()) -> Catalog:
    """Every field a condition on ``workspace``'s accounts can test; ``without`` names
    providers to leave out (a health profile's condition may not test health)."""
    fields = [*builtin_fields(workspace), *attribute_fields(workspace)]
    for key in sorted(set(_providers) - set(without)):
        fields.extend(_providers[key](workspace))
    return Catalog(fields)


def condition_now(workspace: Workspace, now: datetime.datetime | None = None) -> datetime.datetime:
    """``now`` (default: the current time) in the workspace's time zone, as conditions take it."""
    return (now or timezone.now()).astimezone(zone(workspace.time_zone))


def matching_accounts(
    workspace: Workspace,
    condition,
    *,
    catalog: Catalog | None = None,
    now: datetime.datetime | None = None,
) -> QuerySet:
    """The accounts of ``workspace`` that satisfy ``condition`` (one query when evaluated).
    Raises ``InvalidCondition`` naming the clause when the condition does not validate."""
    catalog = catalog or account_catalog(workspace)
    compiled = compile_q(condition, catalog, condition_now(workspace, now))
    return compiled.filter(Account.objects.filter(workspace=workspace))


def count_accounts(
    workspace: Workspace,
    condition,
    *,
    catalog: Catalog | None = None,
    now: datetime.datetime | None = None,
) -> int:
    """How many accounts of ``workspace`` satisfy ``condition``: from the column cache when it
    can answer (``tend.accounts.columns``), else by the compiled query. Raises
    ``InvalidCondition`` naming the clause when the condition does not validate."""
    catalog = catalog or account_catalog(workspace)
    require_valid(condition, catalog)
    at = condition_now(workspace, now)
    found = columns.count(workspace.pk, condition, catalog, at)
    if found is not None:
        return found
    return matching_accounts(workspace, condition, catalog=catalog, now=at).count()


def matching_ids(
    workspace: Workspace,
    condition,
    *,
    catalog: Catalog | None = None,
    now: datetime.datetime | None = None,
) -> np.ndarray:
    """The sorted ids (``int64``) of the accounts of ``workspace`` that satisfy
    ``condition``, from the column cache when it can answer, else by the compiled query."""
    catalog = catalog or account_catalog(workspace)
    require_valid(condition, catalog)
    at = condition_now(workspace, now)
    found = columns.match_ids(workspace.pk, condition, catalog, at)
    if found is not None:
        return found
    matching = matching_accounts(workspace, condition, catalog=catalog, now=at)
    ids = matching.order_by().values_list("pk", flat=True).iterator(chunk_size=20_000)
    return np.sort(np.fromiter(ids, dtype=np.int64))


def account_records(
    catalog: Catalog,
    accounts: QuerySet,
    now: datetime.datetime,
    condition=None,
) -> dict[int, dict]:
    """``{account id: record}`` for ``evaluate``, reading only what ``condition`` uses (every
    field, and no value of the past, without one), in a fixed number of queries."""
    keys = record_keys(condition) if condition is not None else None
    return catalog.records(accounts, now, keys)


# --- Built-in fields ---------------------------------------------------------------


def _with_relations(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("stage", "parent")


def _with_tags(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related(
        Prefetch("tags", queryset=Tag.objects.all(), to_attr="condition_tags")
    )


def _with_assignments(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related(
        Prefetch(
            "assignments",
            queryset=Assignment.objects.select_related("member__user"),
            to_attr="condition_assignments",
        )
    )


def _holds_tags(names: list[str] | None) -> Q:
    tagged = AccountTag.objects.filter(account=OuterRef("pk"))
    if names is not None:
        tagged = tagged.filter(tag__name__in=names)
    return Q(Exists(tagged))


def _owner_email(role_id: int):
    def get(account) -> str | None:
        for assignment in account.condition_assignments:
            if assignment.role_id == role_id:
                return assignment.member.user.email
        return None

    return get


def builtin_fields(workspace: Workspace) -> list[FieldSpec]:
    stages = list(Stage.objects.filter(workspace=workspace).values_list("name", flat=True))
    tags = list(Tag.objects.filter(workspace=workspace).values_list("name", flat=True))
    roles = list(AssignmentRole.objects.filter(workspace=workspace).order_by("position", "name"))
    group = "Account"
    fields = [
        FieldSpec(
            "name", FieldType.TEXT, "Name", lookup="name", get=lambda a: a.name, group=group
        ),
        FieldSpec(
            "external_id",
            FieldType.TEXT,
            "External id",
            lookup="external_id",
            get=lambda a: a.external_id,
            group=group,
            description="The id other systems know the account by (case-sensitive)",
        ),
        FieldSpec(
            "status",
            FieldType.ENUM,
            "Status",
            lookup="status",
            options=tuple(AccountStatus.values),
            get=lambda a: a.status,
            column=("account", "status", None),
            group=group,
        ),
        FieldSpec(
            "stage",
            FieldType.ENUM,
            "Journey stage",
            lookup="stage__name",
            options=tuple(stages),
            get=lambda a: a.stage.name if a.stage_id else None,
            prepare=_with_relations,
            group=group,
        ),
        FieldSpec(
            "days_in_stage",
            FieldType.NUMBER,
            "Days in stage",
            lookup="stage_entered_at",
            storage=Storage.DAYS_SINCE,
            # An account whose stage was deleted keeps its entry time but has no stage.
            present=Q(stage__isnull=False),
            get=lambda a: a.stage_entered_at if a.stage_id else None,
            group=group,
            description="Whole days (24 hours) since the account entered its current stage",
        ),
        FieldSpec(
            "tags",
            FieldType.MULTI_ENUM,
            "Tags",
            options=tuple(tags),
            holds=_holds_tags,
            get=lambda a: [t.name for t in a.condition_tags],
            prepare=_with_tags,
            group=group,
        ),
        FieldSpec(
            "parent",
            FieldType.TEXT,
            "Parent account",
            lookup="parent__external_id",
            get=lambda a: a.parent.external_id if a.parent_id else None,
            prepare=_with_relations,
            group=group,
            description="The external id of the parent account",
        ),
        FieldSpec(
            "created_at",
            FieldType.DATETIME,
            "Created",
            lookup="created_at",
            get=lambda a: a.created_at,
            group=group,
        ),
    ]
    for role in roles:
        alias = f"cond_owner_{role.pk}"
        fields.append(
            FieldSpec(
                f"owner.{role.key}",
                FieldType.TEXT,
                role.name,
                lookup=alias,
                aliases={
                    alias: Subquery(
                        Assignment.objects.filter(account=OuterRef("pk"), role_id=role.pk).values(
                            "member__user__email"
                        )[:1]
                    )
                },
                get=_owner_email(role.pk),
                prepare=_with_assignments,
                group="Assignments",
                description=f"The email of the account's {role.name}",
            )
        )
    return fields


# --- Custom attributes ---------------------------------------------------------------

# attribute type → (field type, JSON types that count as a value, storage)
_ATTRIBUTE_KINDS = {
    AttributeType.TEXT: (FieldType.TEXT, JSON_STRING, Storage.NATIVE),
    AttributeType.URL: (FieldType.TEXT, JSON_STRING, Storage.NATIVE),
    AttributeType.NUMBER: (FieldType.NUMBER, JSON_NUMBER, Storage.NATIVE),
    AttributeType.CURRENCY: (FieldType.NUMBER, JSON_NUMBER, Storage.NATIVE),
    AttributeType.DATE: (FieldType.DATE, JSON_STRING, Storage.ISO_DATE),
    AttributeType.BOOLEAN: (FieldType.BOOLEAN, JSON_BOOLEAN, Storage.NATIVE),
    AttributeType.ENUM: (FieldType.ENUM, JSON_STRING, Storage.NATIVE),
}


def _attribute_getter(key: str):
    return lambda account: (account.attributes or {}).get(key)


def _holds_options(key: str):
    return lambda values: Q(JSONArrayHasAny("attributes", key, values))


def attribute_field(definition: AttributeDefinition) -> FieldSpec:
    key = definition.key
    common = {
        "label": definition.label,
        "get": _attribute_getter(key),
        "column": ("account", "attributes", key),
        "group": "Attributes",
        "description": definition.description,
    }
    if definition.type == AttributeType.MULTI_ENUM:
        return FieldSpec(
            f"attributes.{key}",
            FieldType.MULTI_ENUM,
            options=tuple(definition.options or ()),
            holds=_holds_options(key),
            **common,
        )
    kind, json_types, storage = _ATTRIBUTE_KINDS[definition.type]
    # An alias by id, not a path: a key may contain "__", which a lookup path would split.
    alias = f"cond_attr_{definition.pk}"
    aliases = {alias: KeyTransform(key, "attributes")}
    value_lookup = ""
    if kind != FieldType.BOOLEAN:  # yes/no keeps Django's lookups, which compare JSON true
        value_lookup = f"{alias}_value"
        aliases[value_lookup] = JSONValue("attributes", key, json_types)
    return FieldSpec(
        f"attributes.{key}",
        kind,
        lookup=alias,
        aliases=aliases,
        value_lookup=value_lookup,
        present=Q(JSONTypeIs("attributes", key, json_types)),
        storage=storage,
        options=tuple(definition.options or ()) if kind == FieldType.ENUM else None,
        **common,
    )


def attribute_fields(workspace: Workspace) -> list[FieldSpec]:
    definitions = AttributeDefinition.objects.filter(
        workspace=workspace, object_type=ObjectType.ACCOUNT
    ).order_by("position", "label", "id")
    return [attribute_field(d) for d in definitions]
