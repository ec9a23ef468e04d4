"""The task form (new and edit) and the comment form. Forms parse; the actions validate."""

from django import forms

from tend.work.actions import COMMENT_MAX, DESCRIPTION_MAX, TITLE_MAX
from tend.work.models import Priority, TaskType
from tend.work.queries import assignable_members


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
