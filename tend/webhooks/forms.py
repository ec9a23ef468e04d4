"""The form behind Settings → Webhooks' add and edit cards; the action checks the URL."""

from django import forms

from tend.events import registry


def event_type_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for t in registry.all_types():
        groups.setdefault(t.group, []).append((t.key, t.label))
    return list(groups.items())


class SubscriptionForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2048,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/tend"}),
        help_text="Events are POSTed here as JSON, signed with Standard Webhooks headers.",
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event type."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = event_type_choices()
