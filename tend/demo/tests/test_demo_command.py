"""``tend demo`` builds the Demo workspace through the real write path, the same every run.

These tests read one build with a week of usage rather than 90 days, shared by the package
(``conftest.py``), to stay quick; the full 90 days go through the command once, in
``test_demo_command_loads_usage.py``.
"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tend.accounts.models import Account, Assignment, Contact, EndUser, StageChange, StatusChange
from tend.demo import vocabulary as v
from tend.demo.actions import remove_demo_workspace
from tend.demo.tests.conftest import run_demo
from tend.health.models import HealthSnapshot
from tend.lib.dates import day_number
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    MetricValue,
    ReceivedMessage,
    UsageEvent,
    UserDay,
)
from tend.workspaces.models import Member, User, Workspace

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    """Everything a person sees of the demo, in a form two builds can be compared by."""
    ws = Workspace.objects.get(slug="demo")
    accounts = sorted(
        (
            a.external_id,
            a.name,
            a.status,
            a.parent.external_id if a.parent else None,
            a.stage.name if a.stage else None,
            a.attributes,
            sorted(t.name for t in a.tags.all()),
            a.created_at.date(),
            a.stage_entered_at.date() if a.stage_entered_at else None,
        )
        for a in Account.objects.filter(workspace=ws)
        .select_related("parent", "stage")
        .prefetch_related("tags")
    )
    assignments = sorted(
        Assignment.objects.filter(workspace=ws).values_list(
            "account__external_id", "role__key", "member__user__email"
        )
    )
    users = sorted(
        EndUser.objects.filter(workspace=ws).values_list(
            "external_id", "account__external_id", "email", "name"
        )
    )
    contacts = sorted(
        Contact.objects.filter(workspace=ws).values_list(
            "external_id", "name", "email", "role", "is_key_contact"
        )
    )
    members = sorted(Member.objects.filter(workspace=ws).values_list("user__email", "seat"))
    # Today's usage stops at the moment of the build: compare the days before it.
    today = day_number(timezone.localdate())
    usage_days = sorted(
        AccountDay.objects.filter(workspace=ws, day__lt=today).values_list(
            "account__external_id", "day", "events", "seconds"
        )
    )
    metric_values = sorted(
        MetricValue.objects.filter(workspace=ws).values_list(
            "account__external_id", "metric__key", "day", "value"
        )
    )
    status_changes = sorted(
        (external_id, old, new, moment.date())
        for external_id, old, new, moment in StatusChange.objects.filter(workspace=ws).values_list(
            "account__external_id", "from_status", "to_status", "changed_at"
        )
    )
    # The replayed days, not today's scoring (today's usage stops at the moment of the build).
    health = sorted(
        HealthSnapshot.objects.filter(workspace=ws, day__lt=today).values_list(
            "account__external_id", "day", "rank", "score", "version__number"
        )
    )
    return {
        "status_changes": status_changes,
        "health": health,
        "accounts": accounts,
        "assignments": assignments,
        "users": users,
        "contacts": contacts,
        "members": members,
        "usage_days": usage_days,
        "metric_values": metric_values,
    }


def test_it_builds_about_500_accounts_with_every_status_and_prints_the_login(built_demo):
    output = built_demo.output
    ws = Workspace.objects.get(slug="demo")
    accounts = Account.objects.filter(workspace=ws)
    assert ws.name == "Demo"
    assert accounts.count() == 500
    assert set(accounts.values_list("status", flat=True)) == {"trial", "paying", "churned", "free"}
    assert EndUser.objects.filter(workspace=ws).count() == 5000
    assert Contact.objects.filter(workspace=ws).count() >= 500
    assert "Log in at http://127.0.0.1:8123 as admin@demo.tend.dev / tend-demo" in output
    assert re.search(r"3 active plays with \d+ runs \(\d+ tasks, \d+ emails\)", output), output


def test_it_builds_a_hierarchy_of_parents_with_children(built_demo):
    ws = Workspace.objects.get(slug="demo")
    parents = Account.objects.filter(workspace=ws, children__isnull=False).distinct()
    assert parents.count() == 15
    assert Account.objects.filter(workspace=ws, parent__isnull=False).count() >= 30
    for parent in parents:
        assert all(child.name.startswith(parent.name) for child in parent.children.all())


def test_accounts_have_owners_stages_and_a_time_in_stage(built_demo):
    ws = Workspace.objects.get(slug="demo")
    csms = set(
        Assignment.objects.filter(workspace=ws, role__key="success_manager").values_list(
            "member__user__email", flat=True
        )
    )
    assert len(csms) == 9  # eight CSMs and the contributor's small book
    assert Assignment.objects.filter(workspace=ws, role__key="sales_manager").exists()
    staged = Account.objects.filter(workspace=ws, stage__isnull=False)
    assert staged.count() > 400
    assert max(a.days_in_stage() for a in staged) > 30
    assert StageChange.objects.filter(workspace=ws).count() == staged.count()


def test_running_it_again_gives_identical_data_and_leaves_other_workspaces_alone(
    built_demo, a_week_of_usage, monkeypatch, owner
):
    first = snapshot()
    assert len(first["usage_days"]) > 1000 and len(first["metric_values"]) > 1000
    first_workspace = Workspace.objects.get(slug="demo").pk
    run_demo(monkeypatch)
    assert Workspace.objects.get(slug="demo").pk != first_workspace
    assert Workspace.objects.filter(slug="demo").count() == 1
    assert len(first["status_changes"]) > 50 and len(first["health"]) > 500
    assert snapshot() == first
    assert User.objects.filter(email__endswith="@demo.tend.dev").count() == 13
    assert Workspace.objects.filter(pk=owner.workspace.pk).exists()
    assert Member.objects.filter(pk=owner.member.pk).exists()


def test_the_printed_login_and_the_other_seats_work(built_demo):
    for email, landing in [
        ("admin@demo.tend.dev", "admin"),
        ("viewer@demo.tend.dev", "viewer"),
        ("contributor@demo.tend.dev", "contributor"),
    ]:
        client = Client()
        response = client.post("/login/", {"username": email, "password": v.PASSWORD})
        assert response.status_code == 302, email
        assert Member.objects.get(user__email=email, workspace__slug="demo").seat == landing
        assert client.get("/accounts/").status_code == 200


def test_rebuilding_deletes_the_old_usage_in_bulk_without_reading_it(built_demo):
    old = Workspace.objects.get(slug="demo").pk
    assert UsageEvent.objects.filter(workspace_id=old).count() > 10_000
    with CaptureQueriesContext(connection) as queries:
        remove_demo_workspace()
    statements = [q["sql"] for q in queries.captured_queries]
    # Tables with a row per event (or per day): deleted by set, never loaded into Python.
    bulky = [UsageEvent, AccountDay, AccountActivityDay, UserDay, MetricValue, ReceivedMessage]
    for model in bulky:
        table = connection.ops.quote_name(model._meta.db_table)
        touching = [sql for sql in statements if f"FROM {table}" in sql]
        assert not [sql for sql in touching if not sql.startswith("DELETE")], model
    events = connection.ops.quote_name(UsageEvent._meta.db_table)
    assert any(sql.startswith("DELETE") and f"FROM {events} " in sql for sql in statements)
    assert not UsageEvent.objects.filter(workspace_id=old).exists()
    assert not AccountDay.objects.filter(workspace_id=old).exists()
