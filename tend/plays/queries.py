"""Reading plays: the access chokepoint and the lists pages and the API share.

Every member of a workspace sees its plays (read right); changing one needs the write right
(admin, practitioner; a token with the ``write`` scope). :func:`get_play` answers 404 for an
id of another workspace and 403 when the actor lacks the right asked for.
"""

from django.db.models import Count, Max, Q, QuerySet

from tend.plays.models import Play, PlayRun, RunStatus
from tend.workspaces.access import READ, Actor, get_for


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
