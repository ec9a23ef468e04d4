"""What the steps of :func:`tend.usage.actions.ingest.ingest` share: the intake being stored
with its refusals so far, and the writes they all make through the accounts app."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from tend.accounts.bulk import upsert_accounts
from tend.accounts.bulk.sql import select_by_keys
from tend.usage.ingest.facts import (
    Intake,
    Reason,
    Rejection,
    sample_of,
)
from tend.usage.models import UsageSettings
from tend.workspaces.access import system_actor
from tend.workspaces.models import Workspace


@dataclass
class IntakeContext:
    """One intake being stored: its workspace and settings, the refusals so far, samples of
    what was sent (for refusals found late), and trait names the data model lacks."""

    workspace: Workspace
    settings: UsageSettings
    intake: Intake
    rejections: list[Rejection]
    # Samples of the items behind each index, for refusals found after parsing.
    samples: dict[int, object]
    unmapped: dict[str, dict[str, tuple[int, str]]]

    def refuse(self, index, reason: str, field: str, message: str) -> None:
        # ``samples`` is a mapping, or any object with ``get`` that makes samples lazily.
        raw = self.samples.get(index, None)
        sample = sample_of(raw) if raw is not None else ""
        self.rejections.append(Rejection(index, reason, field, message, sample))

    def refuse_unknown(self, index, kind: str, external_id: str) -> None:
        """Refuse an item naming an account or end user (``kind``) that does not exist while
        the workspace does not create them from usage data."""
        noun = "account" if kind == "account" else "end user"
        reason = Reason.UNKNOWN_ACCOUNT if kind == "account" else Reason.UNKNOWN_USER
        self.refuse(
            index,
            reason,
            kind,
            f"no {noun} with external id {external_id!r}, and creating {noun}s from usage data "
            "is switched off for this workspace",
        )

    def still_standing(self, facts: list) -> list:
        """The facts whose item no earlier step refused: an item is stored whole or not at
        all, so a group call refused for a bad trait does not create its account through the
        user it links, nor a Totango call through its event."""
        refused = {r.index for r in self.rejections}
        return [fact for fact in facts if fact.index not in refused] if refused else facts


def stored_rows(
    model, workspace: Workspace, keys, columns=("external_id", "id")
) -> dict[str, tuple]:
    return select_by_keys(model, workspace.id, set(keys), columns)


def upsert_as_system(
    context: IntakeContext, upsert, items: list[dict], owners: list[list[int]]
) -> dict[str, int]:
    """Run a bulk upsert as the system; turn its per-item errors into refusals of the items
    behind them. Returns external id → id of what was written."""
    if not items:
        return {}
    result = upsert(system_actor(context.workspace), items, source="ingest")
    written = {}
    for entry, indexes in zip(result.results, owners, strict=True):
        if entry["status"] == "error":
            for index in indexes:
                for error in entry["errors"]:
                    reason = (
                        Reason.INVALID_ATTRIBUTE
                        if error["field"].startswith("attributes.")
                        else Reason.INVALID_FIELD
                    )
                    context.refuse(index, reason, error["field"], error["message"])
        else:
            written[entry["external_id"]] = entry["id"]
    return written


def create_accounts(
    context: IntakeContext, names: dict[str, str | None], owners: dict[str, list[int]]
) -> dict[str, int]:
    """Create accounts first met in events or calls, named ``names[ext]`` or by their id."""
    items = [{"external_id": ext, "name": (name or ext)[:255]} for ext, name in names.items()]
    return upsert_as_system(
        context, upsert_accounts, items, [owners.get(i["external_id"], []) for i in items]
    )


def is_email(text: str) -> bool:
    if "@" not in text:
        return False
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True
