"""Manual: run now for chosen accounts or a segment's members (``run_play_now``). Never
polled; each call is a new occurrence."""

from tend.plays.triggers import register
from tend.plays.triggers.base import TriggerKind


@register
class Manual(TriggerKind):
    kind = "manual"
    label = "Manual (run now)"
    polled = False

    def explain(self, play, config, account, now):
        return False, "manual play: it runs only when someone runs it for this account"
