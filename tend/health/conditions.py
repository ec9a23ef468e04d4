"""Health fields for conditions on accounts, registered with ``tend.accounts.conditions`` from
``HealthConfig.ready()`` (accounts sits below health):

* ``health.rank`` — good, average or poor; missing while the account has no score;
* ``health.score`` — the 0–100 score; it takes change filters, against the score the
  account's health snapshots held at the end of the day N days ago (the latest snapshot on
  or before it: snapshots are written on the days health changes);
* ``health.profile`` — the name of the profile that scores the account;
* ``health.<dimension key>`` — for each dimension of the workspace's weighted profiles (their
  current versions), the 0–100 score of that dimension stored with the account's current
  health; missing when another profile scores the account.

Every field reads the account's ``AccountHealth`` row through a LEFT JOIN (``health__…``),
so an account never scored compares as missing on all of them.

A health profile cannot pick its accounts by health: its score would decide which profile
scores it. :func:`profile_catalog` is the catalog without these fields, for profile
conditions.
"""

import re

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import Q
from django.db.models.fields.json import KeyTransform

from tend.accounts.columns import add_column_source
from tend.accounts.conditions import account_catalog, add_field_provider
from tend.health.models import AccountHealth, HealthProfile, HealthSnapshot, Rank
from tend.health.scoring import DefinitionError, parse_definition
from tend.lib.conditions import Catalog, FieldSpec, FieldType
from tend.lib.dates import day_number
from tend.lib.json_sql import JSON_NUMBER, JSONTypeIs
from tend.workspaces.models import Workspace

GROUP = "Health"
# Field names the fixed fields take: a dimension with one of these keys gets no field.
RESERVED = ("rank", "score", "profile")
# Dimension keys a field can name: a JSON path on SQLite takes no other characters.
_KEY = re.compile(r"^[A-Za-z0-9_]+$")


def _with_health(queryset):
    return queryset.select_related("health__profile")


def _health(account) -> AccountHealth | None:
    try:
        return account.health
    except ObjectDoesNotExist:
        return None


def _read(getter):
    def get(account):
        health = _health(account)
        return None if health is None else getter(health)

    return get


def score_then(workspace_id: int, day: int, among=None) -> tuple[str, list]:
    """``(id, now_value, then_value)``: each scored account's score now and at the end of local
    day ``day``, from the latest snapshot on or before it (an anti-join on the snapshots'
    ``(account, day)`` index finds it; a range of the ``(workspace, day)`` index feeds it)."""
    q = connection.ops.quote_name
    health = q(AccountHealth._meta.db_table)
    snapshots = q(HealthSnapshot._meta.db_table)
    within, within_params = "", []
    if among is not None:
        within, within_params = f" AND h.account_id IN ({among[0]})", list(among[1])
    # Only table names from _meta are formatted in; every value is a parameter.
    sql = (
        "SELECT h.account_id AS id, h.score AS now_value, s.score AS then_value "  # noqa: S608
        f"FROM {health} h JOIN {snapshots} s ON s.account_id = h.account_id "
        "WHERE h.workspace_id = %s AND s.workspace_id = %s AND s.day <= %s "
        f"AND NOT EXISTS (SELECT 1 FROM {snapshots} l "
        "WHERE l.account_id = s.account_id AND l.day > s.day AND l.day <= %s)"
        f"{within}"
    )
    return sql, [workspace_id, workspace_id, day, day, *within_params]


def _score_then(workspace_id: int):
    def past(days: int, now, among):
        return score_then(workspace_id, day_number(now.date()) - days, among)

    return past


def dimensions(profiles: list[HealthProfile]) -> list[tuple[str, str]]:
    """``(key, label)`` of each dimension of the weighted ones of ``profiles`` (their current
    versions loaded), each key once, in the order of ``profiles``."""
    found: dict[str, str] = {}
    for profile in profiles:
        if profile.current_version is None:
            continue
        try:
            definition = parse_definition(profile.current_version.definition)
        except DefinitionError:
            continue  # saved definitions are valid; one from an older format scores nothing
        if definition.kind != "weighted":
            continue
        for dimension in definition.dimensions:
            if _KEY.match(dimension.key) and dimension.key not in RESERVED:
                found.setdefault(dimension.key, dimension.label)
    return list(found.items())


def _dimension_field(key: str, label: str) -> FieldSpec:
    # An alias rather than a lookup path: a key may contain "__".
    alias = f"cond_health_{key}"
    return FieldSpec(
        f"health.{key}",
        FieldType.NUMBER,
        label,
        lookup=alias,
        aliases={alias: KeyTransform(key, "health__dimensions")},
        present=Q(JSONTypeIs("health__dimensions", key, JSON_NUMBER)),
        get=_read(lambda health: (health.dimensions or {}).get(key)),
        column=("health", "dimensions", key),
        prepare=_with_health,
        group=GROUP,
        description=f"The account's score (0–100) in the {label} dimension of its profile",
    )


def health_fields(workspace: Workspace) -> list[FieldSpec]:
    # In the order profiles are tried, the default last; one query for names and dimensions.
    profiles = list(
        HealthProfile.objects.filter(workspace=workspace)
        .select_related("current_version")
        .order_by("is_default", "position", "name")
    )
    fields = [
        FieldSpec(
            "health.rank",
            FieldType.ENUM,
            "Health",
            lookup="health__rank",
            options=tuple(Rank.values),
            get=_read(lambda health: health.rank),
            column=("health", "rank", None),
            prepare=_with_health,
            group=GROUP,
            description="good, average or poor; missing while the account has no score",
        ),
        FieldSpec(
            "health.score",
            FieldType.NUMBER,
            "Health score",
            lookup="health__score",
            get=_read(lambda health: health.score),
            column=("health", "score", None),
            prepare=_with_health,
            group=GROUP,
            description="The health score, 0–100",
            past=_score_then(workspace.pk),
        ),
        FieldSpec(
            "health.profile",
            FieldType.ENUM,
            "Health profile",
            lookup="health__profile__name",
            options=tuple(p.name for p in profiles),
            get=_read(lambda health: health.profile.name if health.profile_id else None),
            prepare=_with_health,
            group=GROUP,
            description="The health profile that scores the account",
        ),
    ]
    fields += [_dimension_field(key, label) for key, label in dimensions(profiles)]
    return fields


PROVIDER = "health"


def profile_catalog(workspace: Workspace) -> Catalog:
    """The fields a health profile's condition may test: every account field but health's."""
    return account_catalog(workspace, without=[PROVIDER])


def register() -> None:
    add_column_source("health", AccountHealth, "account_id")
    add_field_provider(PROVIDER, health_fields)
