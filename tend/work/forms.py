"""The task form (new and edit), the comment form and the touchpoint form. Forms parse; the actions validate."""

from django import forms
from django.conf import settings

from tend.accounts.models import Contact
from tend.work.actions import (
    BODY_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    SUBJECT_MAX,
    TITLE_MAX,
    touchpoint_types,
)
from tend.work.models import Priority, Sentiment, TaskType
from tend.work.queries import assignable_members
from tend.workspaces.models import Member


class TaskForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX)
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown: **bold**, lists, links.",
    )
    type = forms.ChoiceField(choices=TaskType.choices, initial=TaskType.FOLLOW_UP)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Due")
    assignee = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Unassigned", label="Assignee"
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_members(workspace)
        self.fields["assignee"].label_from_instance = lambda m: m.name


class NewTaskForm(TaskForm):
    """A new task also names its account, by external id or name (the page suggests them)."""

    account = forms.CharField(
        max_length=255,
        label="Account",
        help_text="Type a name or external id and pick from the suggestions.",
        widget=forms.TextInput(attrs={"list": "account-options", "autocomplete": "off"}),
    )
    field_order = ["account", "title", "type", "priority", "due_date", "assignee", "description"]


class CommentForm(forms.Form):
    body = forms.CharField(
        max_length=COMMENT_MAX,
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Add a note (Markdown)"}),
    )


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class TouchpointForm(forms.Form):
    """Log (or edit) a touchpoint. ``occurred_at`` is in the workspace's time zone; the
    follow-up task's fields are read only when ``follow_up`` is ticked."""

    type = forms.ChoiceField(choices=())
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    subject = forms.CharField(max_length=SUBJECT_MAX)
    body = forms.CharField(
        required=False,
        max_length=BODY_MAX,
        label="Notes",
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "What was said, agreed, promised…"}),
        help_text="Markdown. Mention a teammate with @ and their email, e.g. @ana@example.com.",
    )
    sentiment = forms.ChoiceField(
        choices=Sentiment.choices, initial=Sentiment.NEUTRAL, widget=forms.RadioSelect
    )
    members = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label="Teammates present",
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    contacts = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label="Customer contacts",
        widget=forms.CheckboxSelectMultiple,
    )
    # Rendered here, read by the views from request.FILES and checked by the action.
    attachments = forms.FileField(
        required=False,
        label="Attach files",
        widget=MultipleFileInput(attrs={"multiple": True}),
        help_text=f"Up to {settings.TEND_ATTACHMENTS_PER_TOUCHPOINT} files on a touchpoint, "
        f"each at most {settings.TEND_ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB.",
    )
    follow_up = forms.BooleanField(required=False, label="Create a follow-up task")
    follow_up_title = forms.CharField(max_length=TITLE_MAX, required=False, label="Task")
    follow_up_due = forms.DateField(
        required=False, label="Due", widget=forms.DateInput(attrs={"type": "date"})
    )
    follow_up_assignee = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Me", label="Assignee"
    )

    def __init__(self, *args, workspace, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = touchpoint_types(workspace)
        members = Member.objects.filter(workspace=workspace, is_active=True).select_related("user")
        self.fields["members"].queryset = members.order_by("user__full_name", "user__email")
        self.fields["members"].label_from_instance = lambda m: m.name
        self.fields["contacts"].queryset = Contact.objects.filter(account=account).order_by(
            "-is_key_contact", "name"
        )
        self.fields["contacts"].label_from_instance = lambda c: (
            f"{c.name} ({c.role})" if c.role else c.name
        )
        self.fields["follow_up_assignee"].queryset = assignable_members(workspace)
        self.fields["follow_up_assignee"].label_from_instance = lambda m: m.name

    def clean(self):
        data = super().clean()
        if data.get("follow_up"):
            if not data.get("follow_up_title"):
                self.add_error("follow_up_title", "Name the follow-up task.")
            if not data.get("follow_up_due"):
                self.add_error("follow_up_due", "Give the follow-up task a due date.")
        return data
