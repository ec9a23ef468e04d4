"""Reading SFTP sources: the access chokepoint (404 outside the workspace, 403 without the
right) and the lists pages and the API share."""

from tend.hub.sftp.models import RemoteFile, SftpSource
from tend.workspaces.access import READ, Actor, get_for


def get_source(actor: Actor, source_id: int, right: str = READ) -> SftpSource:
    return get_for(actor, SftpSource.objects.select_related("mapping"), right, pk=source_id)


def sources_of(actor: Actor):
    return SftpSource.objects.filter(workspace=actor.workspace).select_related("mapping")


def files_of(source: SftpSource):
    return RemoteFile.objects.filter(
        workspace_id=source.workspace_id, source=source
    ).select_related("import_run")
