"""The customer data model: accounts, their people, and the workspace's definitions."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from tend.workspaces.models import Member, Workspace

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
key_validator = RegexValidator(KEY_PATTERN, "Use lower-case letters, digits and _; start with a letter.")


def scoped(queryset_class=models.QuerySet):
    return ScopedManager(models.Manager.from_queryset(queryset_class), workspace="workspace")


class AccountStatus(models.TextChoices):
    TRIAL = "trial", "Trial"
    PAYING = "paying", "Paying"
    CHURNED = "churned", "Churned"
    FREE = "free", "Free"


class ObjectType(models.TextChoices):
    ACCOUNT = "account", "Account"
    USER = "user", "End user"
    CONTACT = "contact", "Contact"


class AttributeType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    CURRENCY = "currency", "Currency"
    DATE = "date", "Date"
    BOOLEAN = "boolean", "Yes / no"
    ENUM = "enum", "One of a list"
    MULTI_ENUM = "multi_enum", "Several of a list"
    URL = "url", "Web address"


class AttributeDefinition(models.Model):
    """A typed custom attribute in the data modeler, for accounts, end users or contacts."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    object_type = models.CharField(max_length=10, choices=ObjectType.choices, default=ObjectType.ACCOUNT)
    key = models.CharField(max_length=63, validators=[key_validator])
    label = models.CharField(max_length=120)
    type = models.CharField(max_length=12, choices=AttributeType.choices, default=AttributeType.TEXT)
    options = models.JSONField(default=list, blank=True, help_text="Allowed values for enum types.")
    required = models.BooleanField(default=False)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "object_type", "key"], name="attribute_unique_key"),
        ]
        ordering = ["object_type", "position", "label"]

    def __str__(self):
        return self.label


class Stage(models.Model):
    """A journey stage (onboarding → adoption → …), ordered by ``position``."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    color = models.CharField(max_length=7, default="#64748b")
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="stage_unique_name")]
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class AssignmentRole(models.Model):
    """Who an account is assigned to, by role: Success Manager, Sales Manager, custom."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=63, validators=[key_validator])
    name = models.CharField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="role_unique_key"),
            models.UniqueConstraint(fields=["workspace", "name"], name="role_unique_name"),
        ]
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Tag(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    color = models.CharField(max_length=7, default="#475569")
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="tag_unique_name")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class AccountQuerySet(models.QuerySet):
    def roots(self):
        return self.filter(parent__isnull=True)

    def search(self, text: str):
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(models.Q(name__icontains=text) | models.Q(external_id__icontains=text))


class Account(models.Model):
    """A customer company. ``external_id`` is the key every import and API call uses.

    External ids are compared case-sensitively: ``ACME`` and ``acme`` are two accounts.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=AccountStatus.choices, default=AccountStatus.TRIAL)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts")
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, through="AccountTag", related_name="accounts", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = scoped(AccountQuerySet)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="account_unique_external_id"),
        ]
        indexes = [
            models.Index(fields=["workspace", "name"], name="account_ws_name"),
            models.Index(fields=["workspace", "status"], name="account_ws_status"),
            models.Index(fields=["workspace", "updated_at"], name="account_ws_updated"),
        ]
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def days_in_stage(self, now=None) -> int | None:
        if self.stage_id is None or self.stage_entered_at is None:
            return None
        return ((now or timezone.now()) - self.stage_entered_at).days


class AccountTag(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "tag"], name="account_tag_unique")]
        indexes = [models.Index(fields=["tag", "account"], name="account_tag_by_tag")]

    def __str__(self):
        return f"{self.account_id} tagged {self.tag_id}"


class StageChange(models.Model):
    """One move of an account between journey stages: the history behind time in stage."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=20, default="ui")

    objects = scoped()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["account", "changed_at"], name="stage_change_account")]

    def __str__(self):
        return f"account {self.account_id}: stage {self.from_stage_id} → {self.to_stage_id}"


class AttributeChange(models.Model):
    """One attribute of an account changed value: what plays' "attribute changed" trigger
    reads (rows after the last id seen) and the timeline shows. Written by the account save
    path and by bulk upserts for each changed key. Creating an account writes one row per
    attribute it is created with, from None (``from_value`` null): an "attribute changed to
    enterprise" play fires for an account created on that plan, as a user expects (unlike
    ``StatusChange``, where a first status has no date we could know)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    key = models.CharField(max_length=63)
    from_value = models.JSONField(null=True, blank=True)
    to_value = models.JSONField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False, related_name="+"
    )
    source = models.CharField(max_length=20, default="ui")

    objects = scoped()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["workspace", "id"], name="attribute_change_recent"),
            models.Index(fields=["account", "id"], name="attribute_change_account"),
        ]

    def __str__(self):
        return f"account {self.account_id}: {self.key} {self.from_value!r} → {self.to_value!r}"


def attribute_changes(workspace_id, account_id, before: dict, after: dict, **fields) -> list:
    """Unsaved ``AttributeChange`` rows for the keys whose value differs."""
    before, after = before or {}, after or {}
    return [
        AttributeChange(
            workspace_id=workspace_id,
            account_id=account_id,
            key=key,
            from_value=before.get(key),
            to_value=after.get(key),
            **fields,
        )
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


class StatusChange(models.Model):
    """One change of an account's status (trial → paying, paying → churned …): when customers
    converted and churned, for the back-test of health profiles and the timeline.

    Written by every path that changes the status of an existing account. Creating an account
    is not a change: an account imported as churned has no churn date we could know.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=AccountStatus.choices)
    to_status = models.CharField(max_length=10, choices=AccountStatus.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=20, default="ui")

    objects = scoped()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["account", "changed_at"], name="status_change_account"),
            # The back-test asks "which accounts churned in the last year?"
            models.Index(fields=["workspace", "to_status", "changed_at"], name="status_change_to"),
        ]

    def __str__(self):
        return f"account {self.account_id}: {self.from_status} → {self.to_status}"


class Assignment(models.Model):
    """The member who holds an assignment role on an account (one per role)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="assignments")
    role = models.ForeignKey(AssignmentRole, on_delete=models.CASCADE, related_name="assignments")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="assignments")
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "role"], name="assignment_unique_role")]
        indexes = [models.Index(fields=["member", "role"], name="assignment_by_member")]

    def __str__(self):
        return f"account {self.account_id}: {self.role_id} → member {self.member_id}"


class EndUser(models.Model):
    """A person who uses the customer's product (identified by the product's own user id)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=255)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="end_users")
    email = models.CharField(max_length=254, blank=True)
    name = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="end_user_unique_external_id"),
        ]
        indexes = [models.Index(fields=["account", "name"], name="end_user_by_account")]
        ordering = ["name", "id"]

    def __str__(self):
        return self.name or self.email or self.external_id


class Contact(models.Model):
    """A person at the customer whom the CS team talks to."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=255)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    role = models.CharField(max_length=120, blank=True, help_text="Their job or role, e.g. Economic buyer.")
    is_key_contact = models.BooleanField(default=False)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = scoped()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="contact_unique_external_id"),
        ]
        indexes = [models.Index(fields=["account", "name"], name="contact_by_account")]
        ordering = ["-is_key_contact", "name", "id"]

    def __str__(self):
        return self.name


class ConditionStamp(models.Model):
    """When an account's row in one of the tables conditions read (the account, its usage, its
    health: ``source``) last changed, written by database triggers (``tend.accounts.stamps``),
    so that the per-process column cache (``tend.accounts.columns``) reloads exactly the
    accounts changed since it read them. ``version``: the workspace's ``ConditionVersion`` at
    the write on SQLite, the writing transaction's id on PostgreSQL."""

    account_id = models.BigIntegerField()
    source = models.PositiveSmallIntegerField()
    workspace_id = models.BigIntegerField()
    version = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account_id", "source"], name="condition_stamp_unique"),
        ]
        indexes = [models.Index(fields=["workspace_id", "version"], name="condition_stamp_version")]

    def __str__(self):
        return f"account {self.account_id} source {self.source} at {self.version}"


class ConditionVersion(models.Model):
    """A workspace's count of writes to the tables conditions read (SQLite; see
    ``ConditionStamp``), bumped by the same triggers inside the writing transaction."""

    workspace_id = models.BigIntegerField(unique=True)
    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"workspace {self.workspace_id} at {self.version}"
