"""The ingestion log and the usage settings through the API: what each source sent per hour,
what was refused, trait names the data model lacks, whether the rollups keep up.

``GET``s need the ``read`` scope; ``PATCH /usage-settings`` needs ``admin`` (the action
checks it). The numbers are the ones Data → Ingestion shows (``tend.usage.ingestion_log``).
"""

from datetime import datetime

from django.conf import settings
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict, StrictBool, StrictInt, StrictStr

from tend.accounts.models import ObjectType
from tend.lib.api_schemas import ERRORS
from tend.usage import ingestion_log
from tend.usage.actions.settings import update_usage_settings
from tend.usage.models import Source, UsageSettings
from tend.workspaces.access import READ

router = Router(tags=["usage ingestion log"])


# --- schemas ----------------------------------------------------------------------------------


class CountsQuery(Schema):
    hours: int = Field(
        48, ge=1, le=ingestion_log.MAX_HOURS, description="How many hours back, this one included."
    )
    source: Source | None = None


class HourCountOut(Schema):
    hour: datetime = Field(..., description="The start of the hour (UTC).")
    source: str
    received: int
    stored: int
    duplicates: int
    rejected: int


class CountsOut(Schema):
    hours: int
    items: list[HourCountOut] = Field(
        ..., description="Oldest first; an hour in which a source sent nothing has no row."
    )


class PageQuery(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class RejectionsQuery(PageQuery):
    source: Source | None = None
    reason: str | None = Field(
        None, max_length=40, description="A reason code, e.g. invalid_timestamp."
    )


class RejectionOut(Schema):
    id: int
    source: str
    received_at: datetime
    reason: str
    field: str
    message: str
    index: int | None = Field(..., description="The item's position in its request.")
    sample: str = Field(..., description="The start of the item as received.")


class RejectionPage(Schema):
    items: list[RejectionOut]
    next_cursor: str | None


class UnmappedQuery(PageQuery):
    object_type: ObjectType | None = None


class UnmappedOut(Schema):
    id: int
    name: str
    object_type: str
    source: str = Field(..., description="The source that sent it first.")
    seen: int
    sample: str
    first_seen_at: datetime
    last_seen_at: datetime


class UnmappedPage(Schema):
    items: list[UnmappedOut]
    next_cursor: str | None


class SourceActivityOut(Schema):
    source: str
    last_received_hour: datetime
    last_stored_hour: datetime | None


class StatusOut(Schema):
    events_waiting: int = Field(..., description="This workspace's events not yet counted.")
    events_waiting_capped: bool = Field(
        ..., description=f"True when more than {ingestion_log.WAITING_CAP:,} are waiting."
    )
    last_counted_at: datetime | None = Field(
        ..., description="When the rollups last counted new events."
    )
    last_run_at: datetime | None = Field(..., description="When a rollup run last finished.")
    last_run_error: str = Field(..., description="Why that run failed; empty when it succeeded.")
    next_run_at: datetime | None
    sources: list[SourceActivityOut]


class UsageSettingsOut(Schema):
    create_unknown: bool
    module_property: str
    licence_attribute: str
    retention_days: int


class UsageSettingsPatch(Schema):
    """Only the fields sent change. Strict types: ``"yes"`` is not a boolean here."""

    model_config = ConfigDict(extra="forbid")

    create_unknown: StrictBool = None
    module_property: StrictStr = None
    licence_attribute: StrictStr = None
    retention_days: StrictInt = None


# --- handlers ---------------------------------------------------------------------------------


def _reader(request):
    actor = request.auth
    actor.require(READ)
    return actor


@router.get(
    "/ingestion/counts",
    response={200: CountsOut, **ERRORS},
    summary="Hourly ingestion counts per source",
)
def ingestion_counts(request, query: Query[CountsQuery]):
    actor = _reader(request)
    rows = ingestion_log.hourly_counts(actor.workspace, query.hours, query.source)
    return {"hours": query.hours, "items": rows}


@router.get(
    "/ingestion/rejections",
    response={200: RejectionPage, **ERRORS},
    summary="Refused items, newest first",
)
def ingestion_rejections(request, query: Query[RejectionsQuery]):
    actor = _reader(request)
    rows, next_cursor = ingestion_log.rejections(
        actor.workspace,
        source=query.source,
        reason=query.reason,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get(
    "/ingestion/unmapped",
    response={200: UnmappedPage, **ERRORS},
    summary="Traits sent that the data model does not define",
)
def ingestion_unmapped(request, query: Query[UnmappedQuery]):
    actor = _reader(request)
    rows, next_cursor = ingestion_log.unmapped_traits(
        actor.workspace, object_type=query.object_type, cursor=query.cursor, limit=query.limit
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get(
    "/ingestion/status",
    response={200: StatusOut, **ERRORS},
    summary="Whether the rollups keep up, and what each source sent last",
)
def ingestion_status(request):
    actor = _reader(request)
    status = ingestion_log.rollup_status(actor.workspace)
    return {
        "events_waiting": status.waiting,
        "events_waiting_capped": status.waiting_capped,
        "last_counted_at": status.last_counted_at,
        "last_run_at": status.last_run_at,
        "last_run_error": status.last_run_error,
        "next_run_at": status.next_run_at,
        "sources": [
            {
                "source": s.source,
                "last_received_hour": s.last_received,
                "last_stored_hour": s.last_stored,
            }
            for s in status.sources
        ],
    }


def _settings_of(workspace) -> UsageSettings:
    return UsageSettings.objects.filter(workspace=workspace).first() or UsageSettings(
        workspace=workspace
    )


@router.get(
    "/usage-settings",
    response={200: UsageSettingsOut, **ERRORS},
    summary="The workspace's usage settings",
)
def get_usage_settings(request):
    actor = _reader(request)
    return _settings_of(actor.workspace)


@router.patch(
    "/usage-settings",
    response={200: UsageSettingsOut, **ERRORS},
    summary="Change usage settings (admin scope)",
    description="Send only the settings to change. `retention_days` is 30 to 3650; "
    "`licence_attribute` is the key of a numeric account attribute.",
)
def patch_usage_settings(request, payload: UsageSettingsPatch):
    return update_usage_settings(request.auth, payload.model_dump(exclude_unset=True))
