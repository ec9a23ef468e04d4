"""Health profiles through the API: create, read, change, reorder and delete them; their
versions (list, read, compare, roll back); make one the default; and preview a draft on the
whole population before saving it.

Reads (and the preview, which changes nothing) need the read scope; every change needs
admin, checked by the actions. A profile of another workspace answers 404.
"""

import datetime

from django.db.models import Q
from django.http import Http404
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.accounts.schemas import Strict
from tend.health import compare as comparing
from tend.health.actions import preview as previewing
from tend.health.actions import profiles as actions
from tend.health.models import HealthProfile, ProfileVersion
from tend.health.queries import scored_counts
from tend.lib.api_schemas import ERRORS
from tend.lib.cursor import InvalidCursor, decode_cursor, encode_cursor
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, READ, get_for

router = Router(tags=["health profiles"])
DEFINITION_HELP = (
    'A profile definition (docs/health.md): {"kind": "rules", "metrics": [...]} or '
    '{"kind": "weighted", "dimensions": [...], "thresholds": {...}, "points": {...}, '
    '"parent": {...}}.'
)
CONDITION_HELP = (
    "Which accounts the profile scores, in the condition language (docs/conditions.md); "
    "null for none. The default profile takes no condition."
)


# --- Schemas -------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str


class VersionOut(Schema):
    id: int
    number: int
    note: str
    created_at: datetime.datetime
    created_by: PersonOut | None
    is_current: bool


class VersionDetailOut(VersionOut):
    definition: dict


class ProfileOut(Schema):
    id: int
    name: str
    description: str
    position: int = Field(..., description="Order of trial among non-default profiles, 0 first.")
    is_default: bool
    condition: dict | None
    current_version: VersionOut | None
    definition: dict | None = Field(None, description="The current version's definition.")
    accounts: int = Field(..., description="Accounts this profile scored at the last scoring.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ProfileList(Schema):
    items: list[ProfileOut]
    next_cursor: str | None


class VersionList(Schema):
    items: list[VersionOut]
    next_cursor: str | None


class ProfileIn(Strict):
    name: str
    description: str = ""
    condition: dict | None = Field(None, description=CONDITION_HELP)
    position: int | None = Field(
        None, description="0 is tried first; the default is the end of the list."
    )
    definition: dict = Field(..., description=DEFINITION_HELP)
    note: str = ""


class ProfilePatch(Strict):
    name: str | None = None
    description: str | None = None
    condition: dict | None = Field(None, description=CONDITION_HELP)
    position: int | None = Field(None, description="0 is tried first; the others move around it.")
    definition: dict | None = Field(None, description="Saves a new version. " + DEFINITION_HELP)
    note: str | None = Field(None, description="Why the definition changed (with definition).")


class PreviewIn(Strict):
    definition: dict | None = Field(None, description="The draft definition. " + DEFINITION_HELP)
    condition: dict | None = Field(None, description="The draft condition. " + CONDITION_HELP)
    movers: int = Field(previewing.MOVERS, ge=0, le=previewing.MAX_MOVERS)


class Distribution(Schema):
    good: int
    average: int
    poor: int
    unscored: int


class DistributionPair(Schema):
    current: Distribution
    draft: Distribution


class SideOut(Schema):
    rank: str | None
    score: float | None
    profile: str | None


class MoverOut(Schema):
    account_id: int
    name: str
    external_id: str
    status: str
    before: SideOut
    after: SideOut
    score_change: float | None


class TransitionOut(Schema):
    from_: str = Field(..., alias="from")
    to: str
    accounts: int


class PreviewOut(Schema):
    accounts: int
    paying_accounts: int
    paying: DistributionPair
    all: DistributionPair
    changed_rank: int = Field(..., description="Accounts whose rank the draft would change.")
    changed_rank_paying: int
    transitions: list[TransitionOut]
    movers: list[MoverOut] = Field(..., description="Biggest change of rank, then score, first.")
    seconds: float


class SettingChangeOut(Schema):
    field: str
    label: str
    before: str | float | None
    after: str | float | None


class MetricChangeOut(Schema):
    metric: str
    source: str
    params: dict
    label: str
    status: str = Field(..., description="added, removed, changed or unchanged")
    changes: list[str]
    before: dict | None
    after: dict | None


class DimensionChangeOut(Schema):
    key: str
    label: str
    status: str
    changes: list[str]
    before: dict | None
    after: dict | None
    metrics: list[MetricChangeOut]


class CompareOut(Schema):
    from_: VersionOut = Field(..., alias="from")
    to: VersionOut
    changed: bool
    settings: list[SettingChangeOut]
    dimensions: list[DimensionChangeOut]


class CompareParams(Schema):
    # Optional here so that the profile is looked up first: another workspace's id answers
    # 404 whatever the query; a missing number then gets 422 naming it.
    from_: int | None = Field(None, alias="from", ge=1, description="The older version's number.")
    to: int | None = Field(None, ge=1, description="The newer version's number.")


class Page(Schema):
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = None


class DeleteOut(Schema):
    deleted: int
    accounts_rescored: int = Field(
        ...,
        description="Accounts the profile scored, now scored by the next profile or the default.",
    )


# --- Reading -------------------------------------------------------------------------------


def version_out(version: ProfileVersion, profile: HealthProfile, *, definition=False) -> dict:
    member = version.created_by
    out = {
        "id": version.pk,
        "number": version.number,
        "note": version.note,
        "created_at": version.created_at,
        "created_by": {"id": member.pk, "name": member.name} if member else None,
        "is_current": version.pk == profile.current_version_id,
    }
    if definition:
        out["definition"] = version.definition
    return out


def profile_out(profile: HealthProfile, accounts: int) -> dict:
    version = profile.current_version
    return {
        "id": profile.pk,
        "name": profile.name,
        "description": profile.description,
        "position": profile.position,
        "is_default": profile.is_default,
        "condition": profile.condition,
        "current_version": version_out(version, profile) if version else None,
        "definition": version.definition if version else None,
        "accounts": accounts,
        "created_at": profile.created_at,
        "updated_at": profile.updated_at,
    }


def _profiles(actor):
    return HealthProfile.objects.select_related("current_version__created_by__user").filter(
        workspace=actor.workspace
    )


def _profile(request, id: int, right: str = READ) -> HealthProfile:
    return get_for(request.auth, _profiles(request.auth), right, pk=id)


def _one(profile: HealthProfile) -> dict:
    return profile_out(profile, scored_counts(profile.workspace, [profile.pk]).get(profile.pk, 0))


def _cursor(value: str | None) -> dict | None:
    if not value:
        return None
    try:
        after = decode_cursor(value)
    except InvalidCursor as exc:
        raise InvalidInput("cursor", str(exc)) from exc
    if not isinstance(after, dict) or not all(isinstance(after.get(k), int) for k in "dpi"):
        raise InvalidInput("cursor", "cursor is not one this API issued")
    return after


@router.get(
    "/health/profiles",
    response={200: ProfileList, **ERRORS},
    summary="List health profiles in the order they are tried",
    description="The default profile, which scores every account no other profile claims, comes last.",
)
def list_profiles(request, page: Query[Page]):
    actor = request.auth
    actor.require(READ)
    queryset = _profiles(actor).order_by("is_default", "position", "id")
    after = _cursor(page.cursor)
    if after:
        d, p, i = bool(after["d"]), after["p"], after["i"]
        queryset = queryset.filter(
            Q(is_default__gt=d)
            | Q(is_default=d, position__gt=p)
            | Q(is_default=d, position=p, id__gt=i)
        )
    rows = list(queryset[: page.limit + 1])
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    counts = scored_counts(actor.workspace, [p.pk for p in rows])
    last = rows[-1] if more else None
    return {
        "items": [profile_out(p, counts.get(p.pk, 0)) for p in rows],
        "next_cursor": encode_cursor({"d": int(last.is_default), "p": last.position, "i": last.pk})
        if last
        else None,
    }


@router.get(
    "/health/profiles/{int:id}", response={200: ProfileOut, **ERRORS}, summary="Get a profile"
)
def get_profile(request, id: int):
    return _one(_profile(request, id))


# --- Changing ------------------------------------------------------------------------------


@router.post(
    "/health/profiles",
    response={201: ProfileOut, **ERRORS},
    summary="Create a health profile",
    description="Admin scope. The definition is saved as version 1; the workspace is rescored.",
)
def create_profile(request, payload: ProfileIn):
    data = payload.dict(exclude_unset=True)
    if data.get("position") is None:
        data.pop("position", None)
    profile = actions.create_profile(request.auth, data)
    return Status(201, _one(_profile(request, profile.pk)))


@router.patch(
    "/health/profiles/{int:id}",
    response={200: ProfileOut, **ERRORS},
    summary="Change, move, or save a new version of a profile",
    description=(
        "Admin scope. A `definition` saves a new version (with `note`); `position` moves the "
        "profile among the others; `condition: null` removes its condition."
    ),
)
def update_profile(request, id: int, payload: ProfilePatch):
    profile = _profile(request, id, ADMIN)
    changes = payload.dict(exclude_unset=True)
    for name in ("name", "description", "position", "definition", "note"):
        if name in changes and changes[name] is None:
            raise InvalidInput(name, "must not be null")
    actions.update_profile(request.auth, profile, changes)
    return _one(_profile(request, id))


@router.delete(
    "/health/profiles/{int:id}",
    response={200: DeleteOut, **ERRORS},
    summary="Delete a profile",
    description=(
        "Admin scope. The accounts it scored are scored again at once by the next profile "
        "whose condition they meet, or the default. The default profile cannot be deleted."
    ),
)
def delete_profile(request, id: int):
    profile = _profile(request, id, ADMIN)
    rescored = actions.delete_profile(request.auth, profile)
    return {"deleted": id, "accounts_rescored": rescored}


@router.post(
    "/health/profiles/{int:id}/default",
    response={200: ProfileOut, **ERRORS},
    summary="Make a profile the default",
    description=(
        "Admin scope. The default scores every account no other profile claims; the old "
        "default becomes an ordinary profile without a condition, tried first."
    ),
)
def make_default(request, id: int):
    profile = _profile(request, id, ADMIN)
    actions.make_default(request.auth, profile)
    return _one(_profile(request, id))


# --- Versions ------------------------------------------------------------------------------


def _version(profile: HealthProfile, number: int, field: str | None = None) -> ProfileVersion:
    """Version ``number`` of ``profile``: 404 when the number came in the path, 422 naming
    ``field`` when it came in the query."""
    version = (
        ProfileVersion.objects.select_related("created_by__user")
        .filter(profile=profile, number=number)
        .first()
    )
    if version is None:
        if field:
            raise InvalidInput(field, f"the profile has no version {number}")
        raise Http404(f"The profile has no version {number}.")
    return version


@router.get(
    "/health/profiles/{int:id}/versions",
    response={200: VersionList, **ERRORS},
    summary="List a profile's versions, newest first",
)
def list_versions(request, id: int, page: Query[Page]):
    profile = _profile(request, id)
    queryset = ProfileVersion.objects.select_related("created_by__user").filter(profile=profile)
    if page.cursor:
        try:
            after = decode_cursor(page.cursor).get("n")
        except InvalidCursor as exc:
            raise InvalidInput("cursor", str(exc)) from exc
        if not isinstance(after, int):
            raise InvalidInput("cursor", "cursor is not one this API issued")
        queryset = queryset.filter(number__lt=after)
    rows = list(queryset.order_by("-number")[: page.limit + 1])
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return {
        "items": [version_out(v, profile) for v in rows],
        "next_cursor": encode_cursor({"n": rows[-1].number}) if more else None,
    }


@router.get(
    "/health/profiles/{int:id}/versions/compare",
    response={200: CompareOut, **ERRORS},
    by_alias=True,  # "from"
    summary="Compare two versions of a profile",
    description=(
        "A structured difference: the settings that changed (kind, points, rank thresholds, "
        "parent mode) and each dimension and metric added, removed or changed, with the "
        "fields that changed (weights, thresholds, grading, missing-value rule) before and after."
    ),
)
def compare_versions(request, id: int, params: Query[CompareParams]):
    profile = _profile(request, id)
    for name, value in (("from", params.from_), ("to", params.to)):
        if value is None:
            raise InvalidInput(name, "is required: the number of a version")
    old = _version(profile, params.from_, "from")
    new = _version(profile, params.to, "to")
    return {
        "from": version_out(old, profile),
        "to": version_out(new, profile),
        **comparing.compare(old.definition, new.definition),
    }


@router.get(
    "/health/profiles/{int:id}/versions/{int:number}",
    response={200: VersionDetailOut, **ERRORS},
    summary="Get one version of a profile, with its definition",
)
def get_version(request, id: int, number: int):
    profile = _profile(request, id)
    return version_out(_version(profile, number), profile, definition=True)


@router.post(
    "/health/profiles/{int:id}/versions/{int:number}/rollback",
    response={201: VersionDetailOut, **ERRORS},
    summary="Roll a profile back to an earlier version",
    description=(
        "Admin scope. Saves that version's definition as a new version (history is kept). "
        "Refused with 422 naming the field when the old definition uses a metric that no "
        "longer exists."
    ),
)
def roll_back(request, id: int, number: int):
    profile = _profile(request, id, ADMIN)
    version = _version(profile, number)
    new = actions.roll_back(request.auth, profile, version)
    profile.current_version_id = new.pk
    return Status(201, version_out(new, profile, definition=True))


# --- Preview -------------------------------------------------------------------------------


@router.post(
    "/health/profiles/{int:id}/preview",
    response={200: PreviewOut, **ERRORS},
    by_alias=True,  # transitions' "from"
    summary="Preview a draft of a profile on every account",
    description=(
        "Read scope; nothing is saved. Body: a draft `definition` and/or `condition`. "
        "Answer: the Good/Average/Poor/unscored distribution under the draft and under the "
        "current version, for paying accounts and for all; how many accounts would change "
        "rank; and the accounts that would move most, biggest change first."
    ),
)
def preview(request, id: int, payload: PreviewIn):
    profile = _profile(request, id)
    draft = payload.dict(exclude_unset=True)
    movers = draft.pop("movers", previewing.MOVERS)
    if "definition" in draft and draft["definition"] is None:
        raise InvalidInput("definition", "must not be null")
    result = previewing.preview(request.auth, profile, draft, movers=movers)
    return {
        **result.__dict__,
        "movers": [
            {**m.__dict__, "before": m.before.__dict__, "after": m.after.__dict__}
            for m in result.movers
        ],
    }
