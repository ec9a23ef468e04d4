"""Hand-built populations for profile tests: accounts with exactly the usage figures a test
needs, written straight into the metric rows (no events, no rollup)."""

from tend.accounts.models import Account, AttributeDefinition, AttributeType
from tend.health.actions.profiles import CLASSIC_DEFINITION
from tend.usage.models import AccountUsage


def add_accounts(workspace, rows) -> dict[str, Account]:
    """``rows``: (external id, status, active days in 14, attributes or None); an active-days
    figure of None leaves the account without a usage row (never seen)."""
    made = {}
    for external_id, status, active_days, attributes in rows:
        account = Account.objects.create(
            workspace=workspace,
            external_id=external_id,
            name=external_id.title(),
            status=status,
            attributes=attributes or {},
        )
        if active_days is not None:
            AccountUsage.objects.create(
                account=account, workspace=workspace, active_days_14d=active_days
            )
        made[external_id] = account
    return made


def plan_attribute(workspace) -> AttributeDefinition:
    return AttributeDefinition.objects.create(
        workspace=workspace,
        key="plan",
        label="Plan",
        type=AttributeType.ENUM,
        options=["starter", "growth", "enterprise"],
    )


def classic(good: float = 4, poor: float = 1, **changes) -> dict:
    """The classic rule with other bounds (a draft an editor would make)."""
    metric = {**CLASSIC_DEFINITION["metrics"][0], "good": good, "poor": poor, **changes}
    return {"kind": "rules", "metrics": [metric]}


def weighted(*dimensions) -> dict:
    """A weighted definition of ``(key, weight, [(source, weight, good, poor), …])``."""
    return {
        "kind": "weighted",
        "dimensions": [
            {
                "key": key,
                "label": key.title(),
                "weight": weight,
                "metrics": [
                    {"source": source, "weight": w, "good": good, "poor": poor}
                    for source, w, good, poor in metrics
                ],
            }
            for key, weight, metrics in dimensions
        ],
    }
