"""Forms for the settings pages. They only parse; the actions validate and write."""

from django import forms

from tend.lib.errors import InvalidInput
from tend.workspaces.models import SEAT_HELP, Member, Scope, Seat

SCOPE_HELP = {
    Scope.READ: "Read accounts, people and definitions.",
    Scope.WRITE: "Create and change accounts, people and tags (includes read).",
    Scope.ADMIN: "Change the data model and settings (includes write).",
    Scope.INGEST: "Send usage events and identify calls.",
}


def show_error(form: forms.Form, error: InvalidInput) -> None:
    """Put an action's message beside its field, or above the form when no field matches."""
    field = error.field.split(".")[0]
    form.add_error(field if field in form.fields else None, error.message)


def seat_choices():
    return [(seat.value, f"{seat.label} — {SEAT_HELP[seat]}") for seat in Seat]


class MemberForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    full_name = forms.CharField(label="Name", max_length=200, required=False)
    seat = forms.ChoiceField(label="Seat", choices=Seat.choices, initial=Seat.PRACTITIONER)
    password = forms.CharField(
        label="Initial password",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="For someone new to Tend; share it with them safely. Ignored if they already have a login.",
    )


class SeatForm(forms.Form):
    seat = forms.ChoiceField(choices=Seat.choices)


class TeamForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)


class TeamMembersForm(forms.Form):
    members = forms.ModelMultipleChoiceField(
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Members",
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["members"]
        field.queryset = Member.objects.filter(workspace=workspace, is_active=True).select_related(
            "user"
        )
        field.label_from_instance = lambda m: f"{m.name} ({m.user.email})"


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=120, help_text="What uses it, e.g. “Warehouse sync”."
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=[(s.value, s.label) for s in Scope],
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.READ],
    )
