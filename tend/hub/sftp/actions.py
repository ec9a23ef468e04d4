"""The write path of SFTP sources: create, change and delete them (admins), test their
connection, and ask for a poll now. The polling itself is in ``tend.hub.sftp.polling``."""

from __future__ import annotations

import fnmatch
import ipaddress
import posixpath

from django.db import transaction
from django.utils import timezone

from tend.hub.actions import clean_source
from tend.hub.models import ImportObject, SavedMapping
from tend.hub.sftp.client import Connection, Credentials, SftpError, parse_private_key
from tend.hub.sftp.models import (
    MAX_EVERY_MINUTES,
    MIN_EVERY_MINUTES,
    AfterImport,
    AuthMethod,
    SftpLogin,
    SftpSource,
)
from tend.jobs.registry import enqueue
from tend.lib.errors import InvalidInput
from tend.lib.outgoing.targets import allow_list_from_settings, refusal_for_address
from tend.workspaces.access import ADMIN, WRITE, Actor

POLL_JOB = "hub.sftp_poll"
FIELDS = (
    "name",
    "host",
    "port",
    "username",
    "auth_method",
    "password",
    "private_key",
    "folder",
    "pattern",
    "object",
    "mapping",
    "source_name",
    "after_import",
    "archive_folder",
    "every_minutes",
    "enabled",
)


def clean_text(data: dict, field: str, limit: int, *, required: bool = True) -> str:
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(field, "expected text")
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, "is required")
    if len(value) > limit:
        raise InvalidInput(field, f"is longer than {limit} characters")
    return value


def clean_int(data: dict, field: str, low: int, high: int) -> int:
    value = data.get(field)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, "expected a whole number")
    if not low <= value <= high:
        raise InvalidInput(field, f"must be between {low} and {high}")
    return value


def clean_folder(data: dict, field: str, *, required: bool = True) -> str:
    value = clean_text(data, field, 500, required=required)
    if "\x00" in value:
        raise InvalidInput(field, "may not contain NUL")
    return posixpath.normpath(value) if value else ""


def _check_host(host: str) -> None:
    if any(c.isspace() for c in host) or "/" in host or "@" in host:
        raise InvalidInput("host", "expected a host name or an IP address, without user or path")
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return  # a name: its addresses are checked each time it is connected to
    reason = refusal_for_address(ip)
    allow = allow_list_from_settings()
    if reason and not allow.allows_address(ip):
        raise InvalidInput(
            "host",
            f"{host} is {reason}; Tend does not connect there unless TEND_OUTGOING_ALLOW names it",
        )


def clean_login(merged: dict, data: dict, current: SftpLogin | None) -> dict:
    """The log-in fields (host, port, username, auth_method, password, private_key) of an
    SFTP source or export destination, checked; ``merged`` holds the stored values with the
    change over them, ``data`` the change alone (secrets are never read back). A secret is
    required for a new one; left out or blank on a change keeps the stored one."""
    out = {
        "host": clean_text(merged, "host", 255),
        "port": clean_int(merged, "port", 1, 65535) if merged.get("port") not in (None, "") else 22,
        "username": clean_text(merged, "username", 255),
    }
    _check_host(out["host"])
    auth = merged.get("auth_method") or AuthMethod.PASSWORD
    if auth not in AuthMethod.values:
        raise InvalidInput("auth_method", f"must be one of {', '.join(AuthMethod.values)}")
    out["auth_method"] = auth
    # Secrets: required for a new source; left out (or blank) on a change keeps the stored one.
    password = data.get("password") or ""
    key = data.get("private_key") or ""
    if not isinstance(password, str):
        raise InvalidInput("password", "expected text")
    if not isinstance(key, str):
        raise InvalidInput("private_key", "expected text")
    if key:
        try:
            parse_private_key(key)
        except SftpError as exc:
            raise InvalidInput("private_key", exc.message) from None
    if auth == AuthMethod.PASSWORD and not password and not (current and current.password_sealed):
        raise InvalidInput("password", "is required for password authentication")
    if auth == AuthMethod.KEY and not key and not (current and current.private_key_sealed):
        raise InvalidInput("private_key", "is required for key authentication")
    out["password"], out["private_key"] = password, key.strip()
    return out


def apply_values(obj: SftpLogin, values: dict) -> None:
    """Set checked values; a blank secret keeps the stored one, and only the secret in use
    is kept."""
    for field, value in values.items():
        if field in ("password", "private_key"):
            if value:
                setattr(obj, field, value)
        else:
            setattr(obj, field, value)
    if obj.auth_method == AuthMethod.PASSWORD:
        obj.private_key_sealed = ""
    else:
        obj.password_sealed = ""


def forget_host_key_if_moved(obj: SftpLogin, before: tuple[str, int], data: dict) -> None:
    """A new host or port, or ``trust_new_host_key``, forgets the stored fingerprint: the
    next connection trusts the key it meets."""
    if before != (obj.host, obj.port) or data.get("trust_new_host_key") in (
        True,
        "on",
        "true",
        "1",
    ):
        obj.host_key_fingerprint = ""
        obj.host_key_seen_at = None


def _clean(actor: Actor, data: dict, source: SftpSource | None) -> dict:
    """Check every field; for a change, fields not in ``data`` keep their value."""
    current = {}
    if source is not None:
        current = {
            f: getattr(source, f) for f in FIELDS if f not in ("password", "private_key", "mapping")
        }
        current["mapping"] = source.mapping.name
    merged = {**current, **{k: v for k, v in data.items() if k in FIELDS}}
    unknown = sorted(set(data) - set(FIELDS) - {"trust_new_host_key"})
    if unknown:
        raise InvalidInput(unknown[0], "is not a field of an SFTP source")
    out = {
        "name": clean_text(merged, "name", 80),
        "folder": clean_folder(merged, "folder"),
        "pattern": clean_text(merged, "pattern", 200),
        "source_name": clean_source(merged.get("source_name") or "SFTP"),
        "every_minutes": clean_int(merged, "every_minutes", MIN_EVERY_MINUTES, MAX_EVERY_MINUTES)
        if merged.get("every_minutes") not in (None, "")
        else 15,
        "enabled": merged.get("enabled", True),
        **clean_login(merged, data, source),
    }
    if "/" in out["pattern"]:
        raise InvalidInput(
            "pattern", "is a file name pattern such as *.csv; put the folder in folder"
        )
    if fnmatch.fnmatchcase("x.done", out["pattern"]) and out["pattern"].endswith(".done"):
        raise InvalidInput("pattern", "may not match only .done marker files")
    if not isinstance(out["enabled"], bool):
        raise InvalidInput("enabled", "expected true or false")
    after = merged.get("after_import") or AfterImport.ARCHIVE
    if after not in AfterImport.values:
        raise InvalidInput("after_import", f"must be one of {', '.join(AfterImport.values)}")
    out["after_import"] = after
    archive = clean_folder(merged, "archive_folder", required=False)
    if after == AfterImport.ARCHIVE:
        if not archive:
            raise InvalidInput(
                "archive_folder", "is required when imported files are moved to an archive folder"
            )
        if archive == out["folder"]:
            raise InvalidInput("archive_folder", "must differ from the folder polled")
    out["archive_folder"] = archive
    object = merged.get("object")
    if object not in ImportObject.values:
        raise InvalidInput("object", f"must be one of {', '.join(ImportObject.values)}")
    out["object"] = object
    mapping_name = clean_text(merged, "mapping", 80)
    mapping = SavedMapping.objects.filter(
        workspace=actor.workspace, object=object, name=mapping_name
    ).first()
    if mapping is None:
        raise InvalidInput(
            "mapping",
            f"no saved mapping named {mapping_name!r} for {object} imports; save one from an import's mapping page",
        )
    out["mapping"] = mapping
    clash = SftpSource.objects.filter(workspace=actor.workspace, name=out["name"])
    if source is not None:
        clash = clash.exclude(pk=source.pk)
    if clash.exists():
        raise InvalidInput("name", f"another SFTP source is called {out['name']!r}")
    return out


@transaction.atomic
def create_source(actor: Actor, data: dict) -> SftpSource:
    actor.require(ADMIN)
    values = _clean(actor, data, None)
    source = SftpSource(
        workspace=actor.workspace, created_by=actor.member, next_poll_at=timezone.now()
    )
    apply_values(source, values)
    source.save()
    return source


@transaction.atomic
def update_source(actor: Actor, source: SftpSource, data: dict) -> SftpSource:
    """Change a source. A new host or port, or ``trust_new_host_key``, forgets the stored
    host key fingerprint: the next connection trusts the key it meets."""
    actor.require(ADMIN)
    values = _clean(actor, data, source)
    before = (source.host, source.port)
    was_enabled = source.enabled
    apply_values(source, values)
    forget_host_key_if_moved(source, before, data)
    if source.enabled and not was_enabled:
        source.next_poll_at = timezone.now()
    source.updated_at = timezone.now()
    source.save()
    return source


@transaction.atomic
def delete_source(actor: Actor, source: SftpSource) -> None:
    """Delete a source and its record of files (the imports it made stay, with their reports)."""
    actor.require(ADMIN)
    source.delete()


def request_poll(actor: Actor, source: SftpSource):
    """Queue a poll of ``source`` now (one queued poll at most per source)."""
    actor.require(WRITE)
    return enqueue(
        POLL_JOB,
        {"source_id": source.pk},
        workspace_id=source.workspace_id,
        unique_key=f"hub.sftp_poll:{source.pk}",
    )


def credentials(source: SftpLogin) -> Credentials:
    return Credentials(
        host=source.host,
        port=source.port,
        username=source.username,
        password=source.password if source.auth_method == AuthMethod.PASSWORD else "",
        private_key=source.private_key if source.auth_method == AuthMethod.KEY else "",
        fingerprint=source.host_key_fingerprint,
    )


def remember_host_key(source: SftpLogin, fingerprint: str) -> None:
    """Trust on first use: store the fingerprint seen at the first good connection (only if
    none is stored, so two connections racing cannot replace one another's)."""
    if source.host_key_fingerprint or not fingerprint:
        return
    now = timezone.now()
    type(source).objects.filter(pk=source.pk, host_key_fingerprint="").update(
        host_key_fingerprint=fingerprint, host_key_seen_at=now
    )
    source.host_key_fingerprint, source.host_key_seen_at = fingerprint, now


def check_connection(actor: Actor, source: SftpSource) -> str:
    """Connect, log in and list the folder; return what was found (or raise SftpError)."""
    actor.require(WRITE)
    with Connection(credentials(source)) as conn:
        remember_host_key(source, conn.fingerprint)
        entries = conn.listdir(source.folder)
    files = [e for e in entries if e.is_file and not e.name.endswith(".done")]
    matching = [e for e in files if fnmatch.fnmatchcase(e.name, source.pattern)]
    return (
        f"Connected to {source.host}:{source.port} as {source.username} (host key {conn.fingerprint}). "
        f"{source.folder} holds {len(files)} file{'s' if len(files) != 1 else ''}, "
        f"{len(matching)} matching {source.pattern}."
    )
