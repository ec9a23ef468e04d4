"""A workspace's usage settings: read on every ingest request, changed by admins."""

import re
import time
from collections.abc import Mapping

from django.db import transaction

from tend.accounts.models import KEY_PATTERN
from tend.lib.errors import InvalidInput
from tend.usage.models import UsageSettings
from tend.workspaces.access import ADMIN, Actor
from tend.workspaces.models import Workspace

# Ingestion reads the settings on every request; a few seconds of staleness after an admin
# changes them is harmless, and the process that changed them sees the change at once.
CACHE_SECONDS = 10
# Keyed by id and creation time: test databases roll back and hand out the same ids again.
_cache: dict[tuple, tuple[float, UsageSettings]] = {}
EDITABLE = ("create_unknown", "module_property", "licence_attribute", "retention_days")
MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650


def settings_for(workspace: Workspace) -> UsageSettings:
    key = (workspace.pk, workspace.created_at)
    cached = _cache.get(key)
    now = time.monotonic()
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    settings, _ = UsageSettings.objects.get_or_create(workspace=workspace)
    _cache[key] = (now, settings)
    return settings


def forget_settings(workspace: Workspace) -> None:
    _cache.pop((workspace.pk, workspace.created_at), None)


@transaction.atomic
def update_usage_settings(actor: Actor, data: Mapping) -> UsageSettings:
    """Change the given settings (admins only); checks every value before writing."""
    actor.require(ADMIN)
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise InvalidInput(unknown[0], "is not a usage setting")
    settings, _ = UsageSettings.objects.select_for_update().get_or_create(workspace=actor.workspace)
    if "create_unknown" in data:
        if not isinstance(data["create_unknown"], bool):
            raise InvalidInput("create_unknown", "expected true or false")
        settings.create_unknown = data["create_unknown"]
    if "module_property" in data:
        value = data["module_property"]
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
            raise InvalidInput("module_property", "expected a property name of 1 to 100 characters")
        settings.module_property = value.strip()
    if "licence_attribute" in data:
        value = data["licence_attribute"]
        if not isinstance(value, str) or not re.match(KEY_PATTERN, value):
            raise InvalidInput(
                "licence_attribute", "expected an attribute key (lower-case letters, digits, _)"
            )
        settings.licence_attribute = value
    if "retention_days" in data:
        value = data["retention_days"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput("retention_days", "expected a whole number of days")
        if not MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS:
            raise InvalidInput(
                "retention_days",
                f"must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days",
            )
        settings.retention_days = value
    settings.save()
    transaction.on_commit(lambda: forget_settings(actor.workspace))
    return settings
