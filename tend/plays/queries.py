"""Reading plays: the access chokepoint and the lists pages and the API share.

Every member of a workspace sees its plays (read right); changing one needs the write right
(admin, practitioner; a token with the ``write`` scope). :func:`get_play` answers 404 for an
id of another workspace and 403 when the actor lacks the right asked for.
"""

from django.db.models import Count, Max, Q, QuerySet

from tend.plays.models import Play, PlayRun, RunStatus
from tend.segments.queries import visible_segments
from tend.workspaces.access import READ, WRITE, Actor, get_for


def get_play(actor: Actor, pk, right: str = READ) -> Play:
    return get_for(actor, Play.objects.select_related("owner__user", "workspace"), right, pk=pk)


def plays_with_counts(actor: Actor) -> QuerySet:
    """The workspace's plays with their run counts and last run, in one query."""
    return (
        Play.objects.filter(workspace=actor.workspace)
        .select_related("owner__user")
        .annotate(
            runs_total=Count("runs", filter=~Q(runs__status=RunStatus.SKIPPED)),
            runs_open=Count("runs", filter=Q(runs__status__in=[RunStatus.RUNNING, RunStatus.WAITING])),
            runs_failed=Count("runs", filter=Q(runs__status=RunStatus.FAILED)),
            last_run_at=Max("runs__started_at"),
        )
    )


def runs_of(play: Play) -> QuerySet:
    return PlayRun.objects.filter(play=play).select_related("account")


RUN_NOW_SEGMENTS = 500  # offered in "Run now…"; more are reachable through the API


def run_now_segments(actor: Actor, play: Play) -> list[tuple[int, str]]:
    """``(id, name)`` of the segments "Run now…" offers: only for an active play and a
    member who may run it (no query otherwise)."""
    if not play.is_active or not actor.can(WRITE):
        return []
    return list(visible_segments(actor).order_by("name", "id").values_list("id", "name")[:RUN_NOW_SEGMENTS])
