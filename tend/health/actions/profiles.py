"""Every change to health profiles: creating, saving new versions, rolling back, deleting.

A definition is checked by :func:`tend.health.scoring.parse_definition` against the
workspace's metrics before anything is written; saving a definition always makes a new
version, so every score can say which version produced it. Changes ask for a rescore of the
workspace when they commit.
"""

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tend.health import sources
from tend.health.conditions import profile_catalog
from tend.health.models import AccountHealth, HealthProfile, ProfileVersion
from tend.health.scoring import DefinitionError, parse_definition
from tend.jobs.registry import enqueue
from tend.lib.conditions import require_valid
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, Actor, system_actor
from tend.workspaces.models import Workspace

RESCORE_JOB = "health.rescore"

# Totango's classic rule for paying accounts (docs/health.md): Good when someone uses the
# product a few times each week — at least 4 active days in the last 14 — Poor when nobody
# used it in 14 days, Average otherwise. An account never seen counts as no use.
CLASSIC_DEFINITION = {
    "kind": "rules",
    "metrics": [
        {
            "source": "usage.active_days_14d",
            "label": "Active days, last 14 days",
            "grading": "thresholds",
            "direction": "higher",
            "good": 4,
            "poor": 1,
            "missing": "poor",
        }
    ],
}
DEFAULT_NAME = "Classic usage rank"
DEFAULT_DESCRIPTION = (
    "Good: used on 4 or more of the last 14 days. Poor: no use in 14 days. Average: the rest."
)


def check_definition(workspace: Workspace, definition) -> dict:
    """The definition if it can be scored in this workspace; else :class:`InvalidInput`
    naming the field as ``definition.<path>``."""
    try:
        parse_definition(definition, source_exists=sources.exists(workspace))
    except DefinitionError as exc:
        raise InvalidInput(f"definition.{exc.field}", exc.message) from exc
    return definition


def check_condition(workspace: Workspace, condition):
    """The condition if it can pick accounts in this workspace (None or ``{}``: none, which
    a profile other than the default needs before it scores anyone); else
    :class:`InvalidInput` naming the clause as ``condition.<path>`` (``condition.all.0.value``)."""
    if condition is None or condition == {}:
        return None
    require_valid(condition, profile_catalog(workspace), prefix="condition")
    return condition


def _name(workspace: Workspace, value, exclude_pk=None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("name", "is required")
    name = value.strip()
    if len(name) > 120:
        raise InvalidInput("name", "is longer than 120 characters")
    clash = HealthProfile.objects.filter(workspace=workspace, name=name).exclude(pk=exclude_pk)
    if clash.exists():
        raise InvalidInput("name", f"another profile is already called {name!r}")
    return name


def _new_version(
    actor: Actor, profile: HealthProfile, definition: dict, note: str = ""
) -> ProfileVersion:
    latest = profile.versions.aggregate(n=Max("number"))["n"] or 0
    version = ProfileVersion.objects.create(
        workspace=profile.workspace,
        profile=profile,
        number=latest + 1,
        definition=definition,
        note=note[:300],
        created_by=actor.member,
    )
    profile.current_version = version
    profile.updated_at = timezone.now()
    profile.save(update_fields=["current_version", "updated_at"])
    return version


def request_rescore(workspace: Workspace) -> None:
    """Score the workspace again soon (collapses with a queued rescore)."""
    enqueue(RESCORE_JOB, {"workspace_id": workspace.pk}, workspace_id=workspace.pk,
            unique_key=f"{RESCORE_JOB}:{workspace.pk}")  # fmt: skip


@transaction.atomic
def ensure_default_profile(workspace: Workspace) -> HealthProfile:
    """The workspace's default profile, created with the classic rule if it has none."""
    profile = HealthProfile.objects.filter(workspace=workspace, is_default=True).first()
    if profile is not None:
        return profile
    profile = HealthProfile.objects.create(
        workspace=workspace,
        name=DEFAULT_NAME,
        description=DEFAULT_DESCRIPTION,
        is_default=True,
        position=0,
    )
    _new_version(system_actor(workspace), profile, CLASSIC_DEFINITION, "The classic usage rule")
    return profile


def set_up_workspace(sender=None, *, workspace, actor: Actor, **kwargs) -> None:
    """A new workspace starts with the classic profile (``workspace_created`` receiver)."""
    ensure_default_profile(workspace)


@transaction.atomic
def create_profile(actor: Actor, data: Mapping) -> HealthProfile:
    """A new profile from ``name``, ``description``, ``condition``, ``position`` (default: the
    last before the default profile) and ``definition``."""
    actor.require(ADMIN)
    workspace = actor.workspace
    unknown = sorted(set(data) - {*PROFILE_FIELDS, "note"})
    if unknown:
        raise InvalidInput(unknown[0], "is not a field of a health profile")
    name = _name(workspace, data.get("name"))
    condition = check_condition(workspace, data.get("condition"))
    definition = check_definition(workspace, data.get("definition"))
    others = _ordered(workspace)
    position = _position(data.get("position", len(others)))
    profile = HealthProfile.objects.create(
        workspace=workspace,
        name=name,
        description=_description(data.get("description")),
        condition=condition,
        position=len(others),
    )
    _place(workspace, profile, position)
    _new_version(actor, profile, definition, str(data.get("note") or "First version"))
    transaction.on_commit(lambda: request_rescore(workspace))
    return profile


PROFILE_FIELDS = ("name", "description", "condition", "position", "definition")


def _position(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("position", "expected a whole number, 0 or more")
    return value


def _description(value) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput("description", "expected text")
    if value and len(value) > 500:
        raise InvalidInput("description", "is longer than 500 characters")
    return (value or "").strip()


def _ordered(workspace: Workspace, exclude_pk=None) -> list[HealthProfile]:
    """The profiles other than the default in the order they are tried."""
    return list(
        HealthProfile.objects.filter(workspace=workspace, is_default=False)
        .exclude(pk=exclude_pk)
        .order_by("position", "name", "pk")
    )


def _place(workspace: Workspace, profile: HealthProfile, position: int) -> None:
    """Put ``profile`` at ``position`` (0: tried first) among the profiles other than the
    default, and number them all 0, 1, 2 … again, so that positions stay dense and unique.
    The default profile is always tried last, whatever its position."""
    if profile.is_default:
        return
    others = _ordered(workspace, exclude_pk=profile.pk)
    others.insert(min(position, len(others)), profile)
    for number, item in enumerate(others):
        if item.position != number or item.pk == profile.pk:
            HealthProfile.objects.filter(pk=item.pk).update(position=number)
            item.position = number
    profile.position = others.index(profile)


@transaction.atomic
def update_profile(actor: Actor, profile: HealthProfile, data: Mapping) -> HealthProfile:
    """Change name, description, condition or position (moving the others around it); a
    ``definition`` saves a new version, with ``note``."""
    actor.require(ADMIN)
    unknown = sorted(set(data) - {*PROFILE_FIELDS, "note"})
    if unknown:
        raise InvalidInput(unknown[0], "is not a field of a health profile")
    profile = HealthProfile.objects.select_for_update().get(pk=profile.pk)
    workspace = profile.workspace
    if "name" in data:
        profile.name = _name(workspace, data["name"], exclude_pk=profile.pk)
    if "description" in data:
        profile.description = _description(data["description"])
    if "condition" in data:
        condition = check_condition(workspace, data["condition"])
        if condition is not None and profile.is_default:
            raise InvalidInput(
                "condition",
                "the default profile scores every account no other profile claims; "
                "it takes no condition",
            )
        profile.condition = condition
    if "definition" in data:
        check_definition(workspace, data["definition"])
    position = _position(data["position"]) if "position" in data else None
    profile.updated_at = timezone.now()
    profile.save()
    if position is not None:
        _place(workspace, profile, position)
    if "definition" in data:
        _new_version(actor, profile, data["definition"], _note(data.get("note")))
    transaction.on_commit(lambda: request_rescore(workspace))
    return profile


def _note(value) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput("note", "expected text")
    if value and len(value) > 300:
        raise InvalidInput("note", "is longer than 300 characters")
    return (value or "").strip()


@transaction.atomic
def roll_back(actor: Actor, profile: HealthProfile, version: ProfileVersion) -> ProfileVersion:
    """Save an earlier version's definition as the newest version (history is never lost).
    Refused, naming the field, when the old definition uses a metric that no longer exists."""
    actor.require(ADMIN)
    if version.profile_id != profile.pk:
        raise InvalidInput("version", "is a version of another profile")
    check_definition(profile.workspace, version.definition)
    new = _new_version(
        actor, profile, version.definition, f"Rolled back to version {version.number}"
    )
    transaction.on_commit(lambda: request_rescore(profile.workspace))
    return new


@transaction.atomic
def make_default(actor: Actor, profile: HealthProfile) -> HealthProfile:
    """Make ``profile`` the one that scores every account no other profile claims; the old
    default becomes an ordinary profile, tried first, without a condition (so it scores no
    account until it is given one). The new default's condition is dropped: a default
    takes every account left, and a condition kept there would only mislead."""
    actor.require(ADMIN)
    if profile.is_default:
        return profile
    workspace = profile.workspace
    now = timezone.now()
    old = HealthProfile.objects.filter(workspace=workspace, is_default=True).first()
    if old is not None:
        HealthProfile.objects.filter(pk=old.pk).update(
            is_default=False, condition=None, updated_at=now
        )
        old.is_default = False
    HealthProfile.objects.filter(pk=profile.pk).update(
        is_default=True, condition=None, updated_at=now
    )
    if old is not None:
        _place(workspace, old, 0)
    profile.refresh_from_db()
    transaction.on_commit(lambda: request_rescore(workspace))
    return profile


def delete_profile(actor: Actor, profile: HealthProfile) -> int:
    """Delete a profile and rescore the workspace at once, so that its accounts are scored
    by the next profile whose condition they meet, or the default, before this returns (no
    account is left showing a deleted profile). Returns how many accounts it scored. The
    default profile cannot be deleted."""
    actor.require(ADMIN)
    if profile.is_default:
        raise InvalidInput(
            "profile", "the default profile scores every other account and cannot be deleted"
        )
    workspace = profile.workspace
    with transaction.atomic():
        scored = AccountHealth.objects.filter(workspace=workspace, profile=profile).count()
        profile.delete()
        for number, item in enumerate(_ordered(workspace)):
            if item.position != number:
                HealthProfile.objects.filter(pk=item.pk).update(position=number)
    # Imported here: scoring builds on this module (it creates the default profile).
    from tend.health.actions.scoring import score_workspace

    score_workspace(workspace)
    return scored
