"""Product usage: the raw event log, its rollups, the per-account metrics derived from them,
custom time-series metrics, and the ingestion log that says what was received and refused.

Tables written in bulk (events, dedupe keys, rollups, metric rows) have no foreign-key
constraints in the database: on PostgreSQL each would be a deferred trigger per row at
commit, costing as much as the write itself. Deletion still cascades through the ORM, and
the nightly prune removes rows of accounts deleted while their events were arriving (see
docs/decisions.md).

Raw events (:class:`UsageEvent`) are append-only and read only inside this app
(``queries/events.py``, ``rollups/counting.py``: DESIGN rule 7). Everything else reads the rollups and the
metric rows. Times of events are stored as integer epoch milliseconds (UTC) and days as
integer day numbers (days since 1970-01-01 in the workspace's time zone): the hot tables
stay small, and the rollups are plain integer arithmetic in SQL on both databases.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.accounts.models import Account, EndUser, ObjectType
from tend.lib.dates import from_ms
from tend.workspaces.models import Workspace


def scoped():
    return ScopedManager(workspace="workspace")


class Source(models.TextChoices):
    API = "api", "REST API"
    SEGMENT = "segment", "Segment"
    TOTANGO = "totango", "Totango collector"
    PLANHAT = "planhat", "Planhat"
    DEMO = "demo", "Demo data"


class VisitFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    OCCASIONALLY = "occasionally", "Occasionally"
    INACTIVE = "inactive", "Inactive"


class UsageSettings(models.Model):
    """How a workspace's incoming usage is interpreted. Created on first use with defaults."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, primary_key=True, related_name="usage_settings"
    )
    create_unknown = models.BooleanField(
        default=True,
        help_text="Create accounts and end users the first time an event or call names them.",
    )
    module_property = models.CharField(
        max_length=100,
        default="module",
        help_text="The event property (Segment track, page and screen) that names the module.",
    )
    licence_attribute = models.CharField(
        max_length=63,
        default="licenses",
        help_text="The numeric account attribute holding the seats a customer pays for.",
    )
    retention_days = models.PositiveIntegerField(
        default=400, help_text="Raw events older than this are deleted; rollups are kept."
    )
    # The workspace-local day number on which every account's metrics were last refreshed:
    # metrics over rolling windows change at midnight even when no event arrives.
    metrics_day = models.IntegerField(null=True, blank=True, editable=False)

    objects = scoped()

    class Meta:
        verbose_name_plural = "usage settings"

    def __str__(self):
        return f"usage settings of workspace {self.workspace_id}"


class UsageEvent(models.Model):
    """One thing an end user did in the customer's product. Append-only.

    Indexed only by (account, ts): every further index on this table costs ingest speed.
    ``end_user`` has no database constraint, so deleting an end user does not rewrite
    their events; readers join it with a LEFT JOIN.
    """

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    end_user = models.ForeignKey(
        EndUser,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    ts = models.BigIntegerField(help_text="When it happened: epoch milliseconds, UTC.")
    activity = models.CharField(max_length=200)
    module = models.CharField(max_length=200, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds spent, when sent.")
    properties = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    message_id = models.CharField(max_length=255, blank=True)

    objects = scoped()

    class Meta:
        indexes = [models.Index(fields=["account", "ts"], name="usage_event_account_ts")]

    def __str__(self):
        return f"{self.activity} by account {self.account_id} at {self.ts}"


class ReceivedMessage(models.Model):
    """Message ids already stored, so that a re-sent message is stored once per workspace.

    ``key`` is a 64-bit hash of the message id: an integer unique index costs a fraction of
    one on text. The id itself is kept, and compared whenever a key is already taken, so a
    hash collision never drops an event. Rows are purged after ``DEDUPE_DAYS``.
    """

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    key = models.BigIntegerField()
    message_id = models.CharField(max_length=255)
    received_at = models.BigIntegerField(help_text="Epoch milliseconds.")

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="usage_message_unique_key")
        ]
        indexes = [models.Index(fields=["received_at"], name="usage_message_received")]

    def __str__(self):
        return self.message_id


class IngestCount(models.Model):
    """What one source sent a workspace in one hour: the volumes on the ingestion page."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    hour = models.DateTimeField()
    received = models.PositiveIntegerField(default=0)
    stored = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "hour", "source"], name="usage_count_unique_hour"
            )
        ]
        ordering = ["-hour", "source"]

    def __str__(self):
        return f"{self.source} {self.hour:%Y-%m-%d %H:00}: {self.received} received"


class IngestRejection(models.Model):
    """One item an ingestion endpoint refused, with the reason and a sample of what was sent."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    received_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=40, help_text="A stable code, e.g. invalid_timestamp.")
    field = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=500)
    index = models.IntegerField(
        null=True, blank=True, help_text="The item's position in its request."
    )
    sample = models.TextField(blank=True, help_text="The start of the item as received.")

    objects = scoped()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "-received_at", "-id"], name="usage_rejection_recent")
        ]
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.source}: {self.reason}"


class UnmappedTrait(models.Model):
    """A trait or attribute name that clients send but the data model does not define.

    Its values are not stored (attributes are typed and defined first); this tally tells an
    admin what is arriving, so they can define the attribute.
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    object_type = models.CharField(max_length=10, choices=ObjectType.choices)
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=Source.choices)
    sample = models.CharField(max_length=200, blank=True)
    seen = models.PositiveBigIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "object_type", "name"], name="usage_unmapped_unique"
            )
        ]
        ordering = ["-last_seen_at", "name"]

    def __str__(self):
        return f"{self.object_type}.{self.name}"


# --- Rollups: maintained from the event log by tend.usage.rollups -----------------------------


class RollupState(models.Model):
    """How far the rollups have read the event log: every event with an id up to
    ``last_event_id`` is counted in them, and no other."""

    name = models.CharField(max_length=40, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.name}: {self.last_event_id}"


class AccountDay(models.Model):
    """Events and time spent per account and day (the day in the workspace's time zone)."""

    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    day = models.IntegerField(help_text="Days since 1970-01-01.")
    events = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="usage_account_day_unique")
        ]
        indexes = [models.Index(fields=["workspace", "day"], name="usage_account_day_ws")]

    def __str__(self):
        return f"account {self.account_id} day {self.day}: {self.events}"


class AccountActivityDay(models.Model):
    """Events per account, day, activity and module: module adoption and activity charts."""

    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    day = models.IntegerField()
    activity = models.CharField(max_length=200)
    module = models.CharField(max_length=200, blank=True)
    events = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "activity", "module"], name="usage_activity_day_unique"
            )
        ]

    def __str__(self):
        return f"account {self.account_id} day {self.day}: {self.activity}"


class UserDay(models.Model):
    """Events and time spent per account, end user and day: active users and per-user usage."""

    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    end_user = models.ForeignKey(
        EndUser, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    day = models.IntegerField()
    events = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "end_user"], name="usage_user_day_unique"
            )
        ]
        indexes = [
            models.Index(fields=["end_user", "day"], name="usage_user_day_user"),
            # Active users of a whole workspace over a past window: change filters and
            # health's past metrics read a range of days of one workspace.
            models.Index(fields=["workspace", "day"], name="usage_user_day_ws"),
        ]

    def __str__(self):
        return f"user {self.end_user_id} day {self.day}: {self.events}"


class UsageMetrics(models.Model):
    """What every usage number of one account or end user is now. Abstract: the two share it.

    Refreshed by the rollup job for the accounts and users that had new events, and for
    everyone once a day (windows roll forward at midnight in the workspace's time zone).
    """

    # Database defaults too: the rollup inserts a row with only its seen times and lets the
    # refresh fill in the rest.
    events_today = models.PositiveIntegerField(default=0, db_default=0)
    events_yesterday = models.PositiveIntegerField(default=0, db_default=0)
    events_3d = models.PositiveIntegerField(default=0, db_default=0)
    events_7d = models.PositiveIntegerField(default=0, db_default=0)
    events_14d = models.PositiveIntegerField(default=0, db_default=0)
    events_30d = models.PositiveIntegerField(default=0, db_default=0)
    events_90d = models.PositiveIntegerField(default=0, db_default=0)
    seconds_7d = models.FloatField(default=0, db_default=0)
    seconds_30d = models.FloatField(default=0, db_default=0)
    active_days_14d = models.PositiveSmallIntegerField(default=0, db_default=0)
    # Epoch ms of the first and the latest event: kept by the rollup itself, exact to the
    # millisecond (the windows above are whole days).
    first_seen_ms = models.BigIntegerField(null=True, blank=True)
    last_seen_ms = models.BigIntegerField(null=True, blank=True)
    visit_frequency = models.CharField(
        max_length=12,
        choices=VisitFrequency.choices,
        default=VisitFrequency.INACTIVE,
        db_default=VisitFrequency.INACTIVE,
    )
    day = models.IntegerField(
        default=0, db_default=0, help_text="The local day number the windows end on."
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # Bumped by the rollup whenever new events touch this row and by the daily roll-forward;
    # a refresh writes back only if it is still the value it read (see rollups/refreshing.py).
    dirty = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True

    @property
    def first_seen_at(self):
        return from_ms(self.first_seen_ms) if self.first_seen_ms is not None else None

    @property
    def last_seen_at(self):
        return from_ms(self.last_seen_ms) if self.last_seen_ms is not None else None


class AccountUsage(UsageMetrics):
    account = models.OneToOneField(
        Account,
        db_constraint=False,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="usage",
    )
    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    active_users_7d = models.PositiveIntegerField(default=0, db_default=0)
    active_users_14d = models.PositiveIntegerField(default=0, db_default=0)
    active_users_30d = models.PositiveIntegerField(default=0, db_default=0)
    modules_30d = models.JSONField(null=True, blank=True, help_text="Modules used in 30 days.")
    engagement = models.PositiveSmallIntegerField(
        default=0, db_default=0, help_text="0–100; see docs/usage.md."
    )
    licence_utilisation = models.FloatField(
        null=True, blank=True, help_text="Active users in 14 days ÷ licences, when known."
    )

    objects = scoped()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "last_seen_ms"], name="usage_account_last_seen"),
            models.Index(fields=["workspace", "engagement"], name="usage_account_engagement"),
            models.Index(fields=["workspace", "active_users_14d"], name="usage_account_users"),
            models.Index(
                fields=["workspace"], condition=models.Q(dirty__gt=0), name="usage_account_dirty"
            ),
            # Health asks "did any account's usage change since I last scored?"
            models.Index(fields=["workspace", "refreshed_at"], name="usage_account_refreshed"),
        ]

    def __str__(self):
        return f"usage of account {self.account_id}"


class UserUsage(UsageMetrics):
    end_user = models.OneToOneField(
        EndUser,
        db_constraint=False,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="usage",
    )
    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )

    objects = scoped()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "last_seen_ms"], name="usage_user_last_seen"),
            models.Index(
                fields=["workspace"], condition=models.Q(dirty__gt=0), name="usage_user_dirty"
            ),
        ]

    def __str__(self):
        return f"usage of end user {self.end_user_id}"


# --- Custom time-series metrics --------------------------------------------------------------


class Metric(models.Model):
    """A custom metric pushed by API (``POST /api/v1/metrics``, Planhat ``dimensiondata``)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="usage_metric_unique_key")
        ]
        ordering = ["label", "key"]

    def __str__(self):
        return self.label


class MetricValue(models.Model):
    """A custom metric's value for one account on one day; a later value for the day replaces it."""

    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    metric = models.ForeignKey(
        Metric, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="values"
    )
    day = models.IntegerField()
    value = models.FloatField()
    updated_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "metric", "day"], name="usage_metric_value_unique"
            )
        ]
        indexes = [
            models.Index(fields=["metric", "day"], name="usage_metric_value_by_day"),
            # Health asks "did any custom metric change since I last scored?"
            models.Index(fields=["workspace", "updated_at"], name="usage_metric_value_updated"),
        ]

    def __str__(self):
        return f"{self.metric_id} of account {self.account_id} on day {self.day}: {self.value}"


class MetricLatest(models.Model):
    """One account's latest value of a custom metric, kept beside its series (``MetricValue``)
    by every write of it, so that "the latest value up to a day" is one row per account rather
    than an anti-join over the whole series.

    ``day`` is the latest day with a value on or before the day the row was last written
    (the workspace's today then), ``value`` that day's value, and ``next_day`` the earliest
    day with a value after it — a value sent ahead of time for a later day — or NULL. Both
    are days with a value and no day between them has one, so the row answers "the latest
    value on or before D" exactly for every D with ``day <= D < next_day`` (NULLs meaning no
    bound); for any other D (a past day before ``day``, or a day on or after ``next_day``,
    which the day passing makes today) readers fall back to the series
    (:func:`tend.usage.queries.metrics.latest_metric_values`), and the rollup job moves rows
    whose ``next_day`` has come (:func:`tend.usage.actions.metrics.advance_latest_values`).
    ``day`` and ``value`` are NULL while the only values are ahead of today.
    """

    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    metric = models.ForeignKey(
        Metric, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    day = models.IntegerField(null=True)
    value = models.FloatField(null=True)
    next_day = models.IntegerField(null=True)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "metric"], name="usage_metric_latest_unique")
        ]
        indexes = [
            # Every account's latest value of one metric: conditions and health.
            models.Index(fields=["metric"], name="usage_metric_latest_metric"),
            # Rows whose next value has come, for the rollup job to move: few or none.
            models.Index(
                fields=["workspace", "next_day"],
                condition=models.Q(next_day__isnull=False),
                name="usage_metric_latest_next",
            ),
        ]

    def __str__(self):
        return f"{self.metric_id} of account {self.account_id}: {self.value} on day {self.day}"


# --- Usage imported from files ------------------------------------------------------------------


class ImportedDay(models.Model):
    """A day total imported from a file (a data warehouse's export, Data → Imports): events
    and time spent per account, end user, activity and module on one local day.

    Its values are also in the day tables (``AccountDay``, ``AccountActivityDay`` and, with an
    end user, ``UserDay``), which every metric reads: importing a row adds the difference
    between its value and the one this table held for the same key, so that a file's value
    *replaces* the day's imported total and importing the same file twice counts it once
    (:func:`tend.usage.actions.imports.import_usage_days`). Events counted from the event log
    are separate and add up with it.

    ``end_user_id`` is 0 for a row about the account as a whole (an integer rather than a
    nullable key, so the unique constraint holds on both databases).
    """

    workspace = models.ForeignKey(
        Workspace, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, db_constraint=False, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    end_user_id = models.BigIntegerField(default=0, help_text="0: no end user named.")
    day = models.IntegerField(help_text="Days since 1970-01-01 (the file's local date).")
    activity = models.CharField(max_length=200)
    module = models.CharField(max_length=200, blank=True)
    events = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    source = models.CharField(max_length=40, blank=True, help_text="The import's source.")
    updated_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "end_user_id", "day", "activity", "module"],
                name="usage_imported_day_unique",
            )
        ]

    def __str__(self):
        return f"imported {self.activity} of account {self.account_id} on day {self.day}: {self.events}"
