"""How segments show up in the accounts app's pages (accounts may not import segments):

* the condition builder names the ``segment`` field's options — segment ids — by the names
  of the segments the actor sees, and offers only those (``add_option_source``);
* the accounts list offers "Save as segment" beside its condition (``add_condition_link``),
  to those who may create a segment (a private one needs the contribute right).

Upper apps add controls to the segment page's header through ``add_page_action`` (alerts
adds "Follow").
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from tend.accounts.condition_builder import add_option_source
from tend.accounts.extensions import ConditionLink, add_condition_link
from tend.segments.conditions import FIELD
from tend.segments.queries import segment_choices
from tend.workspaces.access import CONTRIBUTE


def new_segment_url(where: str) -> str:
    return f"{reverse('segments:new')}?{urlencode({'where': where})}"


def register() -> None:
    add_option_source(FIELD, segment_choices)
    add_condition_link(
        ConditionLink("segments.save", "Save as segment", url=new_segment_url, right=CONTRIBUTE)
    )


# --- Actions on the segment page, added by upper apps (alerts adds "Follow") -------------


@dataclass(frozen=True)
class PageAction:
    """A control in the segment page's header: ``template`` rendered with
    ``context(request, segment)`` merged into the page's context."""

    key: str
    template: str
    context: Callable[[object, object], dict] = lambda request, segment: {}
    position: int = 100


_page_actions: dict[str, PageAction] = {}


def add_page_action(action: PageAction) -> None:
    _page_actions[action.key] = action


def page_actions(request, segment) -> list[dict]:
    """The registered actions, each as ``{"template", "context"}``, ready for the page."""
    return [
        {"template": a.template, **a.context(request, segment)}
        for a in sorted(_page_actions.values(), key=lambda a: (a.position, a.key))
    ]
