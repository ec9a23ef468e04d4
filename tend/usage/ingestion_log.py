"""Reading the ingestion log: what each source sent, what was refused, and whether the
rollups keep up. The Data → Ingestion page and the ``/ingestion`` API share these functions,
so the two always show the same numbers.

Every function takes the workspace explicitly and filters by it (the scope of the request
would catch a forgotten filter, but the rule is to never rely on that).
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Max, Q
from django.utils import timezone

from tend.jobs.models import Job, JobStatus
from tend.lib.cursor import InvalidCursor, decode_cursor, encode_cursor
from tend.lib.dates import zone
from tend.lib.errors import InvalidInput
from tend.usage.models import (
    IngestCount,
    IngestRejection,
    RollupState,
    Source,
    UnmappedTrait,
)
from tend.usage.queries.events import uncounted_events
from tend.usage.rollups import JOB, STATE
from tend.workspaces.models import ApiToken, Scope, Workspace

MEASURES = ("received", "stored", "duplicates", "rejected")
SOURCE_LABELS = dict(Source.choices)
# Beyond this many uncounted events the page says "more than …": counting further would
# only make the status slower exactly when the rollups are already behind.
WAITING_CAP = 100_000
MAX_HOURS = 24 * 31
INGEST_KEYS_LIMIT = 50


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    buckets: int
    hourly: bool


PERIODS = {
    "24h": Period("24h", "24 hours", 24, hourly=True),
    "7d": Period("7d", "7 days", 7, hourly=False),
    "30d": Period("30d", "30 days", 30, hourly=False),
}
DEFAULT_PERIOD = "24h"


# --- volumes --------------------------------------------------------------------------------


@dataclass
class Volumes:
    """Counts per bucket (hour or local day) and source, ready for a stacked chart."""

    period: Period
    labels: list[str]
    sources: list[dict]  # [{"key", "label"}] of the sources with any count, in Source order
    series: dict[str, dict[str, list[int]]]  # measure → source → one value per bucket
    totals: list[dict]  # per source: received, stored, duplicates, rejected
    total: dict[str, int]

    @property
    def is_empty(self) -> bool:
        return not self.total["received"]

    def chart_data(self) -> dict:
        return {"labels": self.labels, "sources": self.sources, "series": self.series}


def _hour(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def volumes(workspace: Workspace, period: Period, now: datetime.datetime | None = None) -> Volumes:
    """The workspace's counts over ``period``, bucketed per hour or per local day.

    Steps: work out the buckets (the last 24 hours including the current one, or the last
    7 / 30 local days including today, in the workspace's time zone); read the hourly count
    rows since the first bucket began (at most 31 × 24 × sources rows); add each row to its
    bucket, then sum the buckets per source for the totals.
    """
    now = now or timezone.now()
    tz = zone(workspace.time_zone)
    if period.hourly:
        last = _hour(now)
        starts = [last - datetime.timedelta(hours=n) for n in range(period.buckets - 1, -1, -1)]
        labels = [start.astimezone(tz).strftime("%H:00") for start in starts]
        since = starts[0]
        keys = {start: i for i, start in enumerate(starts)}

        def bucket_of(hour):
            return keys.get(hour)

    else:
        today = now.astimezone(tz).date()
        days = [today - datetime.timedelta(days=n) for n in range(period.buckets - 1, -1, -1)]
        labels = [f"{day:%a} {day.day} {day:%b}" for day in days]
        since = datetime.datetime.combine(days[0], datetime.time(), tzinfo=tz)
        keys = {day: i for i, day in enumerate(days)}

        def bucket_of(hour):
            return keys.get(hour.astimezone(tz).date())

    rows = IngestCount.objects.filter(workspace=workspace, hour__gte=since).values_list(
        "hour", "source", *MEASURES
    )
    width = len(labels)
    series: dict[str, dict[str, list[int]]] = {m: {} for m in MEASURES}
    for hour, source, *values in rows:
        index = bucket_of(hour)
        if index is None:
            continue
        for measure, value in zip(MEASURES, values, strict=True):
            series[measure].setdefault(source, [0] * width)[index] += value
    present = [s for s in Source.values if s in series["received"]]
    for measure in MEASURES:
        series[measure] = {s: series[measure].get(s, [0] * width) for s in present}
    totals = [
        {"source": s, "label": SOURCE_LABELS[s], **{m: sum(series[m][s]) for m in MEASURES}}
        for s in present
    ]
    total = {m: sum(t[m] for t in totals) for m in MEASURES}
    return Volumes(
        period=period,
        labels=labels,
        sources=[{"key": s, "label": SOURCE_LABELS[s]} for s in present],
        series=series,
        totals=totals,
        total=total,
    )


def hourly_counts(
    workspace: Workspace, hours: int, source: str | None = None, now=None
) -> list[IngestCount]:
    """The hourly count rows of the last ``hours`` hours (the current one included), oldest
    first. Hours in which a source sent nothing have no row."""
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidInput("hours", f"must be between 1 and {MAX_HOURS}")
    since = _hour(now or timezone.now()) - datetime.timedelta(hours=hours - 1)
    rows = IngestCount.objects.filter(workspace=workspace, hour__gte=since)
    if source:
        rows = rows.filter(source=source)
    return list(rows.order_by("hour", "source"))


# --- newest-first lists: refused items and unmapped traits -----------------------------------


def newest_first(queryset, time_field: str, cursor: str | None, limit: int):
    """Up to ``limit`` rows, newest first, after the cursor's row; and the next cursor.

    Keyset on (time, id) rather than an offset: the log grows at the top while someone
    pages down it, and an offset would then show rows twice. One extra row tells whether
    another page exists, so the last page says ``None``.
    """
    if cursor:
        try:
            values = decode_cursor(cursor)
            moment = datetime.datetime.fromisoformat(values["t"])
            after_id = values["id"]
        except (InvalidCursor, KeyError, TypeError, ValueError) as exc:
            raise InvalidInput("cursor", "cursor is not one this API issued") from exc
        if not isinstance(after_id, int) or moment.tzinfo is None:
            raise InvalidInput("cursor", "cursor is not one this API issued")
        queryset = queryset.filter(
            Q(**{f"{time_field}__lt": moment}) | Q(**{time_field: moment, "id__lt": after_id})
        )
    rows = list(queryset.order_by(f"-{time_field}", "-id")[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor({"t": getattr(last, time_field).isoformat(), "id": last.id})


def rejections(
    workspace: Workspace,
    *,
    source: str | None = None,
    reason: str | None = None,
    cursor: str | None = None,
    limit: int = 25,
):
    """The latest refused items, newest first (see :func:`newest_first`)."""
    queryset = IngestRejection.objects.filter(workspace=workspace)
    if source:
        queryset = queryset.filter(source=source)
    if reason:
        queryset = queryset.filter(reason=reason)
    return newest_first(queryset, "received_at", cursor, limit)


def unmapped_traits(
    workspace: Workspace,
    *,
    object_type: str | None = None,
    cursor: str | None = None,
    limit: int = 25,
):
    """Trait names clients send that no attribute definition matches, latest seen first."""
    queryset = UnmappedTrait.objects.filter(workspace=workspace)
    if object_type:
        queryset = queryset.filter(object_type=object_type)
    return newest_first(queryset, "last_seen_at", cursor, limit)


# --- is the data flowing? --------------------------------------------------------------------


@dataclass
class SourceActivity:
    source: str
    label: str
    last_received: datetime.datetime  # the start of the last hour anything arrived
    last_stored: datetime.datetime | None  # the start of the last hour anything was stored


@dataclass
class RollupStatus:
    waiting: int  # this workspace's events not yet counted into the rollups
    waiting_capped: bool  # True when there are more than ``waiting`` (see WAITING_CAP)
    last_counted_at: datetime.datetime | None  # when the rollups last counted new events
    last_run_at: datetime.datetime | None  # when a rollup run last finished
    last_run_error: str  # the reason, when that run failed
    next_run_at: datetime.datetime | None  # when the next queued run is due
    sources: list[SourceActivity] = field(default_factory=list)

    @property
    def is_flowing(self) -> bool:
        """Events arrived and none waits: metrics are up to date."""
        return bool(self.sources) and not self.waiting and not self.last_run_error


def rollup_status(workspace: Workspace) -> RollupStatus:
    """How far the rollups have got with this workspace's events, and what each source sent
    last (from the hourly counts, so no raw event is read for it)."""
    state = RollupState.objects.filter(name=STATE).first()
    watermark = state.last_event_id if state else 0
    waiting = uncounted_events(workspace, watermark, WAITING_CAP + 1)
    # Rollup jobs are global (one run counts every workspace); the newest rows by id are
    # the latest runs, which the primary key finds without scanning older ones.
    last_run = (
        Job.objects.filter(kind=JOB, finished_at__isnull=False)
        .order_by("-id")
        .only("finished_at", "status", "last_error")
        .first()
    )
    next_run = Job.objects.filter(kind=JOB).pending().order_by("due_at").only("due_at").first()
    activity = (
        IngestCount.objects.filter(workspace=workspace)
        .values("source")
        .annotate(last_received=Max("hour"), last_stored=Max("hour", filter=Q(stored__gt=0)))
        .order_by("source")
    )
    sources = [
        SourceActivity(
            source=row["source"],
            label=SOURCE_LABELS.get(row["source"], row["source"]),
            last_received=row["last_received"],
            last_stored=row["last_stored"],
        )
        for row in activity
    ]
    sources.sort(key=lambda s: s.last_received, reverse=True)
    failed = last_run is not None and last_run.status == JobStatus.FAILED
    return RollupStatus(
        waiting=min(waiting, WAITING_CAP),
        waiting_capped=waiting > WAITING_CAP,
        last_counted_at=state.updated_at if state and state.last_event_id else None,
        last_run_at=last_run.finished_at if last_run else None,
        last_run_error=last_run.error_summary if failed else "",
        next_run_at=next_run.due_at if next_run else None,
        sources=sources,
    )


# --- ingest keys ------------------------------------------------------------------------------


def ingest_keys(workspace: Workspace):
    """The workspace's active API tokens that carry the ``ingest`` scope, newest first.

    ``icontains`` on the JSON text works on SQLite and PostgreSQL alike (``contains`` on a
    JSON list does not exist on SQLite); the quotes make it match the whole scope name.
    """
    return (
        ApiToken.objects.filter(
            workspace=workspace, revoked_at__isnull=True, scopes__icontains=f'"{Scope.INGEST}"'
        )
        .select_related("created_by__user")
        .order_by("-created_at", "-id")
    )
