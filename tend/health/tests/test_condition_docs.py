"""The examples in docs/conditions.md are conditions a real catalog accepts and a database
runs. They live with health, the highest app whose fields they use (health, custom metrics,
usage, attributes, stages, roles and tags)."""

import json
import re
from pathlib import Path

import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.actions.definitions.attributes import create_attribute
from tend.accounts.actions.definitions.roles import create_role
from tend.accounts.actions.definitions.stages import create_stage
from tend.accounts.conditions import account_catalog, matching_accounts
from tend.health.actions.profiles import create_profile
from tend.health.tests.populations import weighted
from tend.lib.conditions import validate
from tend.usage.models import Metric

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[3] / "docs" / "conditions.md"


def examples() -> list:
    """Every complete JSON condition in the page (not the overview of the syntax, with … in
    it, nor the API's error answer)."""
    found = []
    for block in re.findall(r"```json\n(.*?)```", DOCS.read_text(), re.S):
        try:
            parsed = json.loads(block)
        except ValueError:
            continue
        if "detail" not in parsed:
            found.append(parsed)
    return found


def test_the_examples_in_the_docs_are_valid_conditions(owner):
    actor = owner.actor
    workspace = owner.workspace
    create_attribute(
        actor,
        {"key": "plan", "label": "Plan", "type": "enum", "options": ["free", "pro", "enterprise"]},
    )
    create_attribute(actor, {"key": "contract_value", "label": "Contract value", "type": "currency"})
    create_attribute(actor, {"key": "renewal_date", "label": "Renewal date", "type": "date"})
    create_stage(actor, {"name": "Onboarding"})
    create_role(actor, {"key": "success_manager", "name": "Success Manager"})
    create_account(actor, {"external_id": "x", "name": "X", "tags": ["renewal-call-done"]})
    Metric.objects.create(workspace=workspace, key="api_calls", label="API calls")
    create_profile(
        actor,
        {
            "name": "Paying",
            "definition": weighted(("adoption", 100, [("usage.active_days_14d", 100, 8, 2)])),
        },
    )
    catalog = account_catalog(workspace)
    found = examples()
    assert len(found) >= 8
    for example in found:
        assert validate(example, catalog) == [], example
        matching_accounts(workspace, example).count()
