"""Work: the tasks a CS team does for its accounts, and the comments on them.

A task records the play that created it by id and a readable ``source`` label rather than
by foreign key: plays sit above work in the layers (DESIGN "Imports run one way"), so work
cannot import them, and a task outlives the play that made it.
"""

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager

from tend.accounts.models import Account
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
