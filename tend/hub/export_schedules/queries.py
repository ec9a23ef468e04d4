"""Reading scheduled exports: the access chokepoint (404 outside the workspace, 403 without
the right) and the lists the pages and the API share."""

from tend.hub.export_schedules.models import ExportRun, ExportSchedule
from tend.workspaces.access import READ, Actor, get_for


def get_schedule(actor: Actor, schedule_id: int, right: str = READ) -> ExportSchedule:
    return get_for(actor, ExportSchedule.objects.select_related("workspace"), right, pk=schedule_id)


def schedules_of(actor: Actor):
    return ExportSchedule.objects.filter(workspace=actor.workspace)


def runs_of(schedule: ExportSchedule):
    return ExportRun.objects.filter(workspace_id=schedule.workspace_id, schedule=schedule)
