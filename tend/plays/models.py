"""Plays and their runs.

* :class:`Play` — the definition: trigger kind and config, an optional condition, a run
  policy, a status; ``trigger_cursor`` / ``trigger_state`` remember how far the trigger has
  read (the last change row id seen, the last schedule fire, the last day checked).
* :class:`PlayStep` — the ordered steps, one row each: ``position``, ``kind`` (a module
  under ``tend.plays.steps``) and its ``config``.
* :class:`PlayRun` — one per play × account × trigger occurrence. ``occurrence_key`` is
  unique per (play, account): a duplicate trigger never makes a second run. Decisions not
  to run (condition false, run policy) are runs too, with status ``skipped`` and the reason,
  so the execution log answers "why not?".
* :class:`PlayRunStep` — the log: one row per attempt of a step, with its outcome.

Runs advance through the job runner (``plays.advance_run``), never only in memory.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.accounts.models import Account
from tend.workspaces.models import Member, Workspace


class PlayStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class RunPolicy(models.TextChoices):
    ONCE_PER_OCCURRENCE = "once_per_occurrence", "Once per account per trigger occurrence"
    ONCE_PER_ACCOUNT = "once_per_account", "Once per account, ever"
    EVERY_N_DAYS = "every_n_days", "At most every N days per account"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"  # a step is due now
    WAITING = "waiting", "Waiting"  # a wait step or a retry holds it until next_due_at
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"  # triggered, but the condition or the run policy said no
    CANCELLED = "cancelled", "Cancelled"  # the play was archived


OPEN_RUN_STATUSES = (RunStatus.RUNNING, RunStatus.WAITING)


class Outcome(models.TextChoices):
    DONE = "done", "Done"
    RETRY = "retry", "Will retry"
    FAILED = "failed", "Failed"
    WAIT = "wait", "Waiting"
    BRANCH = "branch", "Branch taken"


class Play(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=1000, blank=True)
    owner = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=PlayStatus.choices, default=PlayStatus.DRAFT)
    trigger_kind = models.CharField(max_length=40)
    trigger_config = models.JSONField(default=dict, blank=True)
    condition = models.JSONField(null=True, blank=True)
    run_policy = models.CharField(
        max_length=24, choices=RunPolicy.choices, default=RunPolicy.ONCE_PER_OCCURRENCE
    )
    policy_days = models.PositiveIntegerField(null=True, blank=True)
    trigger_cursor = models.BigIntegerField(default=0)
    trigger_state = models.JSONField(default=dict, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="play_unique_name")
        ]
        indexes = [models.Index(fields=["workspace", "status"], name="play_ws_status")]
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == PlayStatus.ACTIVE


class PlayStep(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    play = models.ForeignKey(Play, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=40)
    config = models.JSONField(default=dict, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["play", "position"], name="play_step_unique_position")
        ]
        ordering = ["position"]

    def __str__(self):
        return f"step {self.position} ({self.kind}) of play {self.play_id}"


class PlayRun(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    play = models.ForeignKey(Play, on_delete=models.CASCADE, related_name="runs")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    # The trigger occurrence (``segment_change:123``, ``schedule:2026-11-30T09:00``), or
    # ``once`` under the once-per-account policy: unique per (play, account).
    occurrence_key = models.CharField(max_length=200)
    # ``once`` for a run started under the once-per-account policy, else null: unique per
    # (play, account), so two pollers racing can never start it twice.
    policy_key = models.CharField(max_length=20, null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    # What triggered it, for the log: a kind (``segment_change``, ``manual`` …), the id of
    # the change row or event, and a sentence.
    cause_kind = models.CharField(max_length=40)
    cause_id = models.BigIntegerField(null=True, blank=True)
    cause = models.CharField(max_length=300)
    reason = models.CharField(
        max_length=1000, blank=True, help_text="Why it was skipped or failed."
    )
    current_position = models.PositiveIntegerField(null=True, blank=True)
    # When the current step was first reached: wait steps count from it, so a re-run of the
    # same step computes the same time.
    step_entered_at = models.DateTimeField(null=True, blank=True)
    step_attempts = models.PositiveIntegerField(default=0)
    next_due_at = models.DateTimeField(null=True, blank=True)
    # The run is itself the queue row (DESIGN rule 8): a worker claims a due run with a
    # conditional update setting the lease; an expired lease (a killed worker) is reclaimed.
    locked_by = models.CharField(max_length=120, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["play", "account", "occurrence_key"], name="play_run_unique_occurrence"
            ),
            models.UniqueConstraint(
                fields=["play", "account", "policy_key"], name="play_run_unique_policy"
            ),
        ]
        indexes = [
            models.Index(fields=["play", "-started_at"], name="play_run_recent"),
            models.Index(fields=["account", "play", "-started_at"], name="play_run_account"),
            models.Index(fields=["status", "next_due_at"], name="play_run_due"),
        ]
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"run {self.pk} of play {self.play_id} for account {self.account_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RUN_STATUSES


class PlayRunStep(models.Model):
    """One attempt of one step of a run: the execution log."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(PlayRun, on_delete=models.CASCADE, related_name="log")
    step = models.ForeignKey(
        PlayStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=40)
    attempt = models.PositiveIntegerField(default=1)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    permanent = models.BooleanField(default=False, help_text="A failure that will not be retried.")
    reason = models.CharField(max_length=1000, blank=True)
    detail = models.JSONField(default=dict, blank=True, help_text="What was done.")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "position", "attempt"], name="play_run_step_unique_attempt"
            )
        ]
        ordering = ["started_at", "id"]

    def __str__(self):
        return f"run {self.run_id} step {self.position}: {self.outcome}"


from tend.plays.delivery_models import DeliveryStatus, StepDelivery  # noqa: E402, F401
