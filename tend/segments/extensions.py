"""How segments show up in the accounts app's pages (accounts may not import segments):

* the condition builder names the ``segment`` field's options — segment ids — by the names
  of the segments the actor sees, and offers only those (``add_option_source``);
* the accounts list offers "Save as segment" beside its condition (``add_condition_link``),
  to those who may create a segment (a private one needs the contribute right).
"""

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
