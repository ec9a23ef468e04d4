"""The accounts list offers "Save as view" beside its condition (accounts may not import
segments, so it takes the link through its ``add_condition_link`` extension point): the new
view's form opens with that condition, for whoever may make a private view."""

from urllib.parse import urlencode

from django.urls import reverse

from tend.accounts.extensions import ConditionLink, add_condition_link
from tend.workspaces.access import CONTRIBUTE


def new_view_url(where: str) -> str:
    return f"{reverse('views:new')}?{urlencode({'where': where})}"


def register() -> None:
    add_condition_link(
        ConditionLink(
            "views.save", "Save as view", url=new_view_url, right=CONTRIBUTE, position=110
        )
    )
