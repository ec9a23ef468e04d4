"""Touchpoint attachments: files attached when a touchpoint is logged or later, and removed.

The bytes go to ``settings.TEND_ATTACHMENT_DIR/<workspace id>/<random hex>`` (the uploaded
name is kept on the row only, so no path a user typed ever reaches the disk), copied in
blocks. Every file of a request is checked before any is written: each at most
``TEND_ATTACHMENT_MAX_BYTES``, not empty, at most ``TEND_ATTACHMENTS_PER_TOUCHPOINT`` on
the touchpoint; a refusal names ``attachments``. Rights are the touchpoint's: those who may
change it add and remove its files.

Files leave the disk when their row's deletion commits, however it was deleted — the file
alone, its touchpoint, its account or workspace — through a ``post_delete`` receiver
(:func:`file_deleted`, connected in ``WorkConfig.ready``). A transaction that fails after a file was written removes the files it wrote before
the error goes on; only a rollback decided later by an enclosing caller could leave a file
without a row, and no caller of these actions does so.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction

from tend.lib.errors import InvalidInput
from tend.work.models import Touchpoint, TouchpointAttachment
from tend.workspaces.access import Actor

__all__ = [
    "attachment_path",
    "add_attachments",
    "delete_attachment",
    "forget_files",
]

NAME_MAX = 255


def attachment_dir() -> Path:
    path = Path(settings.TEND_ATTACHMENT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def attachment_path(attachment: TouchpointAttachment) -> Path:
    return Path(settings.TEND_ATTACHMENT_DIR) / attachment.stored_name


def _clean_name(raw) -> str:
    name = Path(str(raw or "")).name  # no directories, whatever the client sent
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[-NAME_MAX:] or "attachment"


def check_uploads(touchpoint: Touchpoint | None, uploads) -> list:
    """The uploads, refused as a whole (naming ``attachments``) if any is not acceptable."""
    uploads = [u for u in uploads or [] if u is not None]
    limit = settings.TEND_ATTACHMENT_MAX_BYTES
    most = settings.TEND_ATTACHMENTS_PER_TOUCHPOINT
    present = touchpoint.attachments.count() if touchpoint is not None and touchpoint.pk else 0
    if present + len(uploads) > most:
        raise InvalidInput(
            "attachments",
            f"at most {most} files on a touchpoint ({present} already, {len(uploads)} sent)",
        )
    for upload in uploads:
        name = _clean_name(upload.name)
        if upload.size > limit:
            raise InvalidInput(
                "attachments", f"{name} is {upload.size:,} bytes; the limit is {limit:,} bytes"
            )
        if upload.size == 0:
            raise InvalidInput("attachments", f"{name} is empty")
    return uploads


def _write(workspace_id: int, upload) -> str:
    folder = attachment_dir() / str(workspace_id)
    folder.mkdir(exist_ok=True)
    stored = f"{workspace_id}/{uuid.uuid4().hex}"
    with open(Path(settings.TEND_ATTACHMENT_DIR) / stored, "wb") as out:
        for block in upload.chunks():
            out.write(block)
    return stored


def store_attachments(actor: Actor, touchpoint: Touchpoint, uploads) -> list[TouchpointAttachment]:
    """Write checked uploads and their rows (the caller checked rights and ``check_uploads``)."""
    written: list[str] = []
    try:
        rows = []
        for upload in uploads:
            stored = _write(touchpoint.workspace_id, upload)
            written.append(stored)
            rows.append(
                TouchpointAttachment(
                    workspace_id=touchpoint.workspace_id,
                    touchpoint=touchpoint,
                    file_name=_clean_name(upload.name),
                    stored_name=stored,
                    size=(Path(settings.TEND_ATTACHMENT_DIR) / stored).stat().st_size,
                    content_type=(getattr(upload, "content_type", "") or "")[:100],
                    uploaded_by=actor.member,
                )
            )
        return TouchpointAttachment.objects.bulk_create(rows)
    except BaseException:
        forget_files(written, now=True)
        raise


@transaction.atomic
def add_attachments(actor: Actor, touchpoint: Touchpoint, uploads) -> list[TouchpointAttachment]:
    """Attach files to an existing touchpoint (those who may change it)."""
    from tend.work.actions.touchpoints import _require_change

    _require_change(actor, touchpoint)
    # Locked: two requests at once cannot both pass the count.
    Touchpoint.objects.select_for_update().filter(pk=touchpoint.pk).first()
    uploads = check_uploads(touchpoint, uploads)
    if not uploads:
        raise InvalidInput("attachments", "send at least one file")
    return store_attachments(actor, touchpoint, uploads)


@transaction.atomic
def delete_attachment(actor: Actor, attachment: TouchpointAttachment) -> None:
    from tend.work.actions.touchpoints import _require_change

    _require_change(actor, attachment.touchpoint)
    attachment.delete()


def file_deleted(sender, instance, **kwargs) -> None:
    """``post_delete`` of a TouchpointAttachment: its file goes when the deletion commits."""
    forget_files([instance.stored_name])


def forget_files(stored_names, now: bool = False) -> None:
    """Remove files from the disk: once the transaction deleting their rows commits (or at
    once, for files whose rows were never stored)."""
    names = list(stored_names)

    def remove():
        for name in names:
            (Path(settings.TEND_ATTACHMENT_DIR) / name).unlink(missing_ok=True)

    if now:
        remove()
    else:
        transaction.on_commit(remove)
