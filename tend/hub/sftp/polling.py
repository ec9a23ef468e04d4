"""Polling an SFTP source: the body of the ``hub.sftp_poll`` job.

Steps of :func:`poll_source` (safe to run again after a kill; two polls of one source never
run at once — the job claims the source first):

1. connect (host key trusted on first use, refused if changed: ``tend.hub.sftp.client``) and
   list the folder;
2. for each regular file matching the pattern (``*.done`` markers excepted), compare with the
   newest :class:`RemoteFile` row of its path:

   * seen before with the same size and mtime and already dealt with: nothing to import;
     with "archive" it is moved (again: a poll killed between the import and the move);
   * new, or changed since last seen: a row waiting, with the time it took this shape;
   * waiting and unchanged since an earlier poll (and for at least ``SETTLE_SECONDS``), or
     ``<name>.done`` present: **complete**;
3. each complete file is downloaded into ``TEND_IMPORT_DIR`` (hashed while it streams; a
   download cut short is deleted), and then either

   * its content hash was already imported from this source → marked a duplicate, no import;
   * otherwise handed to the hub's own upload → saved mapping → run path, exactly as a file
     uploaded in the browser (so its report, rejected rows, alerts and webhooks are the same).
     A file the saved mapping does not fit becomes a failed import with the reason;

4. record the poll's outcome on the source. A failure (connection refused, login refused,
   host key changed, connection lost mid-transfer…) is recorded on the source and raised, so
   the job runner retries it with its backoff; the last attempt's failure alerts the admins
   once per run of failures (in-app, email and the ``import.failed`` webhook event).
"""

from __future__ import annotations

import fnmatch
import logging
import posixpath
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tend.events import emit
from tend.hub import actions as hub_actions
from tend.hub import alerts
from tend.hub.jobs import PERMANENT
from tend.hub.running import fail_import
from tend.hub.sftp.actions import credentials, remember_host_key
from tend.hub.sftp.client import Connection, Entry, Gone, SftpError
from tend.hub.sftp.models import (
    DONE_STATES,
    AfterImport,
    PollStatus,
    RemoteFile,
    RemoteFileState,
    SftpSource,
)
from tend.lib.errors import InvalidInput
from tend.workspaces.access import system_actor

log = logging.getLogger("tend.hub.sftp")
MARKER = ".done"
CLAIM = timedelta(minutes=30)


def settle_seconds() -> int:
    """How long a file must keep its size and mtime (besides being seen by two polls)."""
    return getattr(settings, "TEND_SFTP_SETTLE_SECONDS", 30)


class PollOutcome:
    def __init__(self):
        self.imported: list[RemoteFile] = []
        self.duplicates: list[RemoteFile] = []
        self.rejected: list[RemoteFile] = []
        self.waiting = 0

    def __repr__(self):
        return (
            f"<poll imported={len(self.imported)} duplicates={len(self.duplicates)} "
            f"rejected={len(self.rejected)} waiting={self.waiting}>"
        )


def claim(source_id: int, holder: str) -> bool:
    now = timezone.now()
    return bool(
        SftpSource.objects.filter(pk=source_id)
        .filter(Q(polling_until__isnull=True) | Q(polling_until__lt=now) | Q(poll_claim=holder))
        .update(polling_until=now + CLAIM, poll_claim=holder)
    )


def release(source_id: int, holder: str) -> None:
    SftpSource.objects.filter(pk=source_id, poll_claim=holder).update(
        polling_until=None, poll_claim=""
    )


def poll_source(
    source_id: int, *, holder: str | None = None, last_attempt: bool = True
) -> PollOutcome | None:
    """Poll one source (see the module docstring). None when another poll holds it."""
    holder = holder or uuid.uuid4().hex
    if not claim(source_id, holder):
        log.info("sftp source %s: another poll is running", source_id)
        return None
    try:
        source = SftpSource.objects.select_related("workspace", "mapping").get(pk=source_id)
        try:
            with Connection(credentials(source)) as conn:
                remember_host_key(source, conn.fingerprint)
                outcome = _poll(source, conn, holder)
        except Exception as exc:
            # Whatever stopped the poll is told on the source, then the runner retries it.
            message = exc.message if isinstance(exc, SftpError) else f"{type(exc).__name__}: {exc}"
            record_failure(source, message, last_attempt=last_attempt)
            raise
        record_success(source)
        log.info("sftp source %s polled: %r", source.pk, outcome)
        return outcome
    finally:
        release(source_id, holder)


def _poll(source: SftpSource, conn: Connection, holder: str) -> PollOutcome:
    outcome = PollOutcome()
    entries = {e.name: e for e in conn.listdir(source.folder) if e.is_file}
    markers = {name[: -len(MARKER)] for name in entries if name.endswith(MARKER)}
    names = sorted(
        n for n in entries if not n.endswith(MARKER) and fnmatch.fnmatchcase(n, source.pattern)
    )
    now = timezone.now()
    settle = timedelta(seconds=settle_seconds())
    for name in names:
        entry = entries[name]
        path = posixpath.join(source.folder, name)
        latest = RemoteFile.objects.filter(source=source, path=path).order_by("-id").first()
        same = latest is not None and (latest.size, latest.mtime) == (entry.size, entry.mtime)
        if same and latest.state in DONE_STATES:
            RemoteFile.objects.filter(pk=latest.pk).update(last_seen_at=now)
            if latest.state != RemoteFileState.REJECTED:
                _after_import(source, conn, latest, has_marker=name in markers)
            continue
        if latest is None or latest.state in DONE_STATES:
            latest = RemoteFile.objects.create(
                workspace=source.workspace,
                source=source,
                path=path,
                size=entry.size,
                mtime=entry.mtime,
                first_seen_at=now,
                last_seen_at=now,
                stable_since=now,
            )
            complete = name in markers
        elif not same:
            latest.size, latest.mtime, latest.stable_since, latest.last_seen_at = (
                entry.size,
                entry.mtime,
                now,
                now,
            )
            latest.save(update_fields=["size", "mtime", "stable_since", "last_seen_at"])
            complete = name in markers
        else:
            RemoteFile.objects.filter(pk=latest.pk).update(last_seen_at=now)
            complete = name in markers or now - latest.stable_since >= settle
        if not complete:
            outcome.waiting += 1
            continue
        # Each download may take a while: keep the claim on the source fresh.
        SftpSource.objects.filter(pk=source.pk, poll_claim=holder).update(
            polling_until=timezone.now() + CLAIM
        )
        _take(source, conn, latest, entry, has_marker=name in markers, outcome=outcome)
    return outcome


def _take(
    source: SftpSource,
    conn: Connection,
    rf: RemoteFile,
    entry: Entry,
    *,
    has_marker: bool,
    outcome: PollOutcome,
) -> None:
    """Download a complete file and import it, unless its content was imported already."""
    folder = hub_actions.import_dir() / str(source.workspace_id)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"sftp-{uuid.uuid4().hex}.part"
    try:
        try:
            got = conn.download(
                rf.path, partial, size=entry.size, limit=settings.TEND_IMPORT_MAX_BYTES
            )
        except Gone:
            return  # moved away since the listing: nothing to import; a new name is a new file
        if got.size != entry.size:
            # Written to since it was listed: wait for it to settle again.
            RemoteFile.objects.filter(pk=rf.pk).update(size=got.size, stable_since=timezone.now())
            outcome.waiting += 1
            return
        now = timezone.now()
        earlier = RemoteFile.objects.filter(
            source=source, state=RemoteFileState.IMPORTED, sha256=got.sha256
        ).first()
        if earlier is not None:
            RemoteFile.objects.filter(pk=rf.pk).update(
                state=RemoteFileState.DUPLICATE,
                sha256=got.sha256,
                duplicate_of=earlier,
                import_run=earlier.import_run_id,
                done_at=now,
            )
            rf.refresh_from_db()
            outcome.duplicates.append(rf)
        else:
            _import(source, rf, partial, got.sha256, outcome)
    finally:
        partial.unlink(missing_ok=True)
    if rf.state != RemoteFileState.REJECTED:
        _after_import(source, conn, rf, has_marker=has_marker)


def _import(source: SftpSource, rf: RemoteFile, partial, sha256: str, outcome: PollOutcome) -> None:
    """The browser's path: upload the file, apply the saved mapping, start the run."""
    actor = system_actor(source.workspace)
    with open(partial, "rb") as fh:
        try:
            imp = hub_actions.upload_file(
                actor, File(fh, name=rf.name), object=source.object, source=source.source_name
            )
        except PERMANENT as exc:
            reason = getattr(exc, "message", None) or str(exc)
            RemoteFile.objects.filter(pk=rf.pk).update(
                state=RemoteFileState.REJECTED,
                sha256=sha256,
                error=reason[:4000],
                done_at=timezone.now(),
            )
            rf.refresh_from_db()
            outcome.rejected.append(rf)
            tell_admins(
                source,
                subject=f"SFTP source {source.name}: {rf.name} could not be read",
                text=f"The file {rf.path} on {source.host} could not be imported: {reason}\n\nIt is left where it is.",
                key=f"hub.sftp.file.{rf.pk}",
            )
            return
    try:
        with transaction.atomic():
            saved = source.mapping
            hub_actions.set_mapping(
                actor,
                imp,
                hub_actions.mapping_from_saved(saved, imp.headers),
                unknown=saved.unknown_columns,
            )
            imp = hub_actions.start_import(actor, imp, dry_run=False)
            RemoteFile.objects.filter(pk=rf.pk).update(
                state=RemoteFileState.IMPORTED,
                sha256=sha256,
                import_run=imp,
                done_at=timezone.now(),
                error="",
            )
    except InvalidInput as exc:
        # The saved mapping does not fit this file: a failed import with the reason tells
        # the admins (and the import.failed webhook) like any other failed import.
        reason = f"the saved mapping “{source.mapping.name}” does not fit this file: {exc.field}: {exc.message}"
        with transaction.atomic():
            fail_import(imp.pk, reason)
            RemoteFile.objects.filter(pk=rf.pk).update(
                state=RemoteFileState.REJECTED,
                sha256=sha256,
                import_run=imp,
                error=reason,
                done_at=timezone.now(),
            )
        rf.refresh_from_db()
        outcome.rejected.append(rf)
        return
    except BaseException:
        hub_actions.discard_draft(imp)
        raise
    rf.refresh_from_db()
    outcome.imported.append(rf)


def _after_import(
    source: SftpSource, conn: Connection, rf: RemoteFile, *, has_marker: bool
) -> None:
    """Move a file dealt with (and its marker) to the archive folder, if so configured. A
    name already taken there gets the file's first-seen time added."""
    if source.after_import != AfterImport.ARCHIVE or rf.archived_to:
        return
    conn.makedirs(source.archive_folder)
    target = posixpath.join(source.archive_folder, rf.name)
    if conn.exists(target):
        stem, dot, ext = rf.name.rpartition(".")
        stamp = rf.first_seen_at.strftime("%Y%m%dT%H%M%S")
        target = posixpath.join(
            source.archive_folder,
            f"{stem}-{stamp}-{rf.pk}.{ext}" if dot else f"{rf.name}-{stamp}-{rf.pk}",
        )
    conn.rename(rf.path, target)
    RemoteFile.objects.filter(pk=rf.pk).update(archived_to=target)
    rf.archived_to = target
    if has_marker:
        marker_target = target + MARKER
        if conn.exists(marker_target):
            marker_target = f"{target}-{uuid.uuid4().hex[:8]}{MARKER}"
        conn.rename(rf.path + MARKER, marker_target)


def record_success(source: SftpSource) -> None:
    now = timezone.now()
    SftpSource.objects.filter(pk=source.pk).update(
        last_poll_at=now,
        last_poll_status=PollStatus.OK,
        last_error="",
        last_success_at=now,
        failures=0,
        failing_since=None,
    )


def record_failure(source: SftpSource, error: str, *, last_attempt: bool) -> None:
    """Record a failed attempt on the source (shown on its page and in the API); when the job
    has no attempt left, count a failed poll and, the first time in a run of failures, alert."""
    now = timezone.now()
    with transaction.atomic():
        source = (
            SftpSource.objects.select_for_update().select_related("workspace").get(pk=source.pk)
        )
        source.last_poll_at, source.last_poll_status, source.last_error = (
            now,
            PollStatus.FAILED,
            error[:4000],
        )
        fields = ["last_poll_at", "last_poll_status", "last_error"]
        if last_attempt:
            source.failures += 1
            source.failing_since = source.failing_since or now
            fields += ["failures", "failing_since"]
        source.save(update_fields=fields)
        if last_attempt and source.failures == 1:
            alert_failing(source)


def alert_failing(source: SftpSource) -> None:
    stamp = source.failing_since.strftime("%Y%m%dT%H%M%S")
    tell_admins(
        source,
        subject=f"SFTP source {source.name} failed",
        text=(
            f"Polling the SFTP source {source.name} ({source.address}, folder {source.folder}) failed, "
            f"after retries:\n\n{source.last_error}\n\nIt will be tried again on its schedule (every "
            f"{source.every_minutes} minutes); you are told once until it works again. "
            f"Details: Data → Imports → SFTP sources (/data/imports/sftp/{source.pk}/)."
        ),
        key=f"hub.sftp.{source.pk}.failing.{stamp}",
    )
    emit(
        source.workspace_id,
        "import.failed",
        {
            "import": None,
            "source": {
                "id": source.pk,
                "kind": "sftp",
                "name": source.name,
                "host": source.host,
                "folder": source.folder,
                "error": source.last_error,
                "failing_since": source.failing_since.isoformat(),
            },
        },
    )


def tell_admins(source: SftpSource, *, subject: str, text: str, key: str) -> None:
    """In-app and email, to the workspace's admins (as ``tend.hub.running.tell_admins``)."""
    alerts.tell_admins(
        source.workspace,
        subject=subject,
        text=text,
        key=key,
        url=f"/data/imports/sftp/{source.pk}/",
        cause=f"SFTP source {source.name}",
        kind="import",
        source="Imports",
    )
