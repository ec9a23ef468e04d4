"""Work: the tasks a CS team does for its accounts, the comments on them, and touchpoints —
the record of each interaction with a customer.

A task records the play that created it by id and a readable ``source`` label rather than
by foreign key: plays sit above work in the layers (DESIGN "Imports run one way"), so work
cannot import them, and a task outlives the play that made it.
"""

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager

from tend.accounts.models import Account, Contact
from tend.workspaces.models import Member, Workspace


class TaskType(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    FOLLOW_UP = "follow_up", "Follow-up"
    ONBOARDING = "onboarding", "Onboarding"
    RENEWAL = "renewal", "Renewal"
    OTHER = "other", "Other"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


# Most pressing first: the inbox sorts by due date, then by this rank.
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class TaskQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=TaskStatus.OPEN)

    def closed(self):
        return self.exclude(status=TaskStatus.OPEN)

    def assigned_to(self, member: Member | None):
        return self.filter(assignee=member) if member else self.filter(assignee__isnull=True)

    def by_urgency(self):
        """Due first, then most pressing, then oldest: the order a CSM works through them."""
        rank = models.Case(
            *(models.When(priority=p, then=models.Value(r)) for p, r in PRIORITY_RANK.items()),
            default=models.Value(9),
            output_field=models.IntegerField(),
        )
        return self.annotate(priority_rank=rank).order_by("due_date", "priority_rank", "id")


class Task(models.Model):
    """A CSM to-do about one account: call them, send the renewal quote, run the kickoff."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown; sanitised when shown.")
    type = models.CharField(max_length=12, choices=TaskType.choices, default=TaskType.OTHER)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The play that created the task (plays sit above work: an id, not a foreign key).
    play_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    source = models.CharField(
        max_length=200, blank=True, help_text='Where the task came from, e.g. "Play: Renewal prep".'
    )
    # Set by callers that may run twice (a play step is at-least-once): one task per key.
    key = models.CharField(max_length=200, blank=True, default="")
    # A task made by starting a project from a template belongs to one of its milestones.
    project = models.ForeignKey(
        "Project", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    milestone = models.ForeignKey(
        "ProjectMilestone", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(models.Manager.from_queryset(TaskQuerySet), workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "key"], condition=~Q(key=""), name="task_unique_key"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "due_date"], name="task_ws_status_due"),
            models.Index(fields=["assignee", "status", "due_date"], name="task_assignee_due"),
            models.Index(fields=["account", "status", "due_date"], name="task_account_due"),
            # The account timeline reads tasks newest first by creation and by completion.
            models.Index(fields=["account", "created_at"], name="task_account_created"),
            models.Index(fields=["account", "completed_at"], name="task_account_completed"),
        ]
        ordering = ["due_date", "id"]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    def is_overdue(self, today: datetime.date) -> bool:
        return self.is_open and self.due_date < today

    def when(self, today: datetime.date) -> str:
        """``overdue``, ``today`` or ``upcoming`` (open tasks), by the workspace's today."""
        if self.due_date < today:
            return "overdue"
        return "today" if self.due_date == today else "upcoming"


class TaskComment(models.Model):
    """A note on a task, in Markdown. ``author`` is empty for API tokens and plays;
    ``author_label`` says who wrote it then."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "created_at"], name="task_comment_by_task")]

    def __str__(self):
        return f"comment on task {self.task_id}"

    @property
    def author_name(self) -> str:
        return self.author.name if self.author else (self.author_label or "Someone")


# --- touchpoints -------------------------------------------------------------------------------


class TouchpointKind(models.TextChoices):
    """The built-in touchpoint types; admins add their own (:class:`TouchpointType`)."""

    NOTE = "note", "Note"
    MEETING = "meeting", "Meeting"
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    QBR = "qbr", "QBR"
    ESCALATION = "escalation", "Support escalation"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class TouchpointType(models.Model):
    """A workspace's own kind of touchpoint ("Executive dinner", "Site visit"), beside the
    built-in ones; ``key`` is what a touchpoint's ``type`` holds. Archived types stay on the
    touchpoints that used them but are no longer offered."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=40)
    name = models.CharField(max_length=80)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="touchpoint_type_key"),
        ]
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Touchpoint(models.Model):
    """One interaction with a customer: a call, a meeting, a QBR, a note.

    ``body`` is Markdown, sanitised when shown (``tend.work.markdown``). ``author`` is empty
    for API tokens and plays; ``author_label`` says who wrote it then. A touchpoint made by
    a play records the play by id (plays sit above work) and an idempotency ``key``.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="touchpoints")
    type = models.CharField(max_length=40, default=TouchpointKind.NOTE)
    occurred_at = models.DateTimeField(default=timezone.now)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown; sanitised when shown.")
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    author = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    members = models.ManyToManyField(Member, blank=True, related_name="touchpoints")
    contacts = models.ManyToManyField(Contact, blank=True, related_name="touchpoints")
    follow_up_task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints"
    )
    play_id = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "key"], condition=~Q(key=""), name="touchpoint_unique_key"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "occurred_at"], name="touchpoint_account_time"),
            models.Index(fields=["workspace", "id"], name="touchpoint_ws_id"),
        ]
        ordering = ["-occurred_at", "-id"]

    def __str__(self):
        return self.subject

    @property
    def author_name(self) -> str:
        return self.author.name if self.author else (self.author_label or "Someone")


class TouchpointAttachment(models.Model):
    """A file attached to a touchpoint. The bytes are on disk under
    ``settings.TEND_ATTACHMENT_DIR`` (``stored_name``: ``<workspace>/<random hex>``, never
    the uploader's name); they are served only through the touchpoint's workspace check, as
    a download."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, related_name="attachments")
    file_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=100, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.file_name


class TouchpointMention(models.Model):
    """A member ``@mentioned`` in a touchpoint; ``notified_at`` is when they were notified
    in the app (never for the touchpoint's own author)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, related_name="mentions")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="mentions")
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["touchpoint", "member"], name="mention_once"),
        ]
        indexes = [
            models.Index(fields=["member", "notified_at"], name="mention_member_pending"),
        ]

    def __str__(self):
        return f"member {self.member_id} in touchpoint {self.touchpoint_id}"


# --- projects from templates -------------------------------------------------------------------


class ProjectTemplate(models.Model):
    """A reusable plan, e.g. "Onboarding — mid-market": milestones in order, each with tasks
    due a number of days after the project's start and owned by an assignment role.

    ``milestones`` is a list of ``{"name", "tasks": [{"title", "offset_days", "role",
    "description", "type"}]}``, validated by ``tend.work.actions.projects`` (the one write
    path); a project copies what it needs when it starts, so editing a template never moves
    the dates of projects already running.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    milestones = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="project_template_name"),
        ]
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def duration_days(self) -> int:
        """Days from start to the last task's due date: the expected go-live."""
        return max(
            (t["offset_days"] for m in self.milestones for t in m.get("tasks", [])), default=0
        )

    @property
    def task_count(self) -> int:
        return sum(len(m.get("tasks", [])) for m in self.milestones)


class ProjectQuerySet(models.QuerySet):
    def with_progress(self):
        """``total`` (tasks not cancelled), ``done``, ``open_count`` and ``last_done``
        annotated in the same query."""
        return self.annotate(
            total=models.Count("tasks", filter=~Q(tasks__status=TaskStatus.CANCELLED)),
            done=models.Count("tasks", filter=Q(tasks__status=TaskStatus.DONE)),
            open_count=models.Count("tasks", filter=Q(tasks__status=TaskStatus.OPEN)),
            last_done=models.Max("tasks__completed_at", filter=Q(tasks__status=TaskStatus.DONE)),
        )

    def active(self):
        """Projects with an open task, not cancelled (annotate ``with_progress`` first)."""
        return self.filter(open_count__gt=0, cancelled_at=None)


class Project(models.Model):
    """A template started on an account: its milestones and tasks with real dates and owners.

    It is live while a task is open; ``actual go-live`` is when its last task was done.
    Cancelling it (``cancelled_at``) cancels its open tasks and keeps it, for the record.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="projects")
    template = models.ForeignKey(
        ProjectTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    name = models.CharField(max_length=200)
    start_date = models.DateField()
    expected_go_live = models.DateField()
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    play_id = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)
    # One project per key: a play step that runs twice starts one project.
    key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(models.Manager.from_queryset(ProjectQuerySet), workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "key"], condition=~Q(key=""), name="project_unique_key"
            ),
        ]
        indexes = [models.Index(fields=["account", "created_at"], name="project_account_created")]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class ProjectMilestone(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    due_date = models.DateField()

    objects = ScopedManager(workspace="workspace")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name
