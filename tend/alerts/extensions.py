"""The follow button on the account profile (a side panel, through the accounts extension
point) and in the segment page's header (through the segments one)."""

from django.urls import reverse

from tend.accounts.extensions import ProfilePanel, add_profile_panel
from tend.segments.extensions import PageAction, add_page_action


def account_follow_context(request, account) -> dict:
    from tend.alerts.queries import is_following

    member = request.actor.member
    return {
        "follow": {
            "following": is_following(member, account=account),
            "url": reverse("alerts:follow_account", args=[account.pk]),
            "what": "account",
        }
        if member is not None
        else None,
        "follows_url": reverse("alerts:following"),
    }


def segment_follow_context(request, segment) -> dict:
    from tend.alerts.queries import is_following

    member = request.actor.member
    return {
        "follow": {
            "following": is_following(member, segment=segment),
            "url": reverse("alerts:follow_segment", args=[segment.pk]),
            "what": "segment",
        }
        if member is not None
        else None
    }


def register() -> None:
    add_profile_panel(
        ProfilePanel(
            key="follow",
            template="alerts/panel.html",
            context=account_follow_context,
            column="side",
            position=-10,
        )
    )
    add_page_action(
        PageAction(key="follow", template="alerts/_segment_follow.html", context=segment_follow_context)
    )
