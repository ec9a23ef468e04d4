"""Events the accounts app emits (tend/events/registry.py)."""

from tend.events.registry import register

ACCOUNT = {"id": 17, "external_id": "acme", "name": "Acme Inc", "status": "paying"}

register(
    "account.created",
    "Account created",
    group="Accounts",
    description="An account was created: in the UI, through the API, a bulk upsert or an import.",
    example={"account": ACCOUNT, "source": "api"},
)
register(
    "account.updated",
    "Account updated",
    group="Accounts",
    description="An account's name, status, stage, parent, attributes, tags or owners changed.",
    example={"account": ACCOUNT, "changed": ["status", "attributes"], "source": "ui"},
)
