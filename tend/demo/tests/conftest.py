"""One demo build shared by the tests that only read it.

Building the demo (a week of usage) takes 20-45 s; ten tests each built their own, which
made this package the slowest part of the suite. ``built_demo`` builds it once per test
process, committed, and removes it when the package's tests are done. Each test still runs
in its own transaction, so a test that rebuilds or removes the demo is rolled back and the
next one finds the shared build intact.
"""

import io
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test.utils import override_settings
from django_scopes import scopes_disabled

from tend.demo import usage
from tend.demo.actions import DemoResult, rebuild_demo_workspace, remove_demo_workspace
from tend.demo.management.commands import demo as demo_command
from tend.jobs.models import Job
from tend.usage.models import RollupState

# Thirteen demo logins with the production hasher take seconds; the data is what we test.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PORT = "8123"


@dataclass(frozen=True)
class BuiltDemo:
    output: str  # what ``tend demo`` printed
    result: DemoResult


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def a_week_of_usage(monkeypatch):
    monkeypatch.setattr(usage, "DAYS", 7)


def run_demo(monkeypatch, port=PORT) -> str:
    """``tend demo`` within the calling test (rolled back with it)."""
    monkeypatch.setenv("PORT", port)
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="package")
def built_demo(django_db_setup, django_db_blocker) -> BuiltDemo:
    """``tend demo`` with a week of usage, run once for the package and committed."""
    captured = {}

    def rebuild_and_keep(*args, **kwargs):
        captured["result"] = rebuild_demo_workspace(*args, **kwargs)
        return captured["result"]

    with django_db_blocker.unblock():
        before = _row_counts()
        last_job = Job.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        watermarks = list(RollupState.objects.values())
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(usage, "DAYS", 7)
        patch.setattr(demo_command, "rebuild_demo_workspace", rebuild_and_keep)
        output = run_demo(patch)
    yield BuiltDemo(output=output, result=captured["result"])
    with django_db_blocker.unblock():
        remove_demo_workspace()
        # Global rows no workspace owns, so removing the demo leaves them: the roll-up job
        # ingestion queued, and the roll-ups' watermark, moved past the demo's events.
        Job.objects.filter(pk__gt=last_job).delete()
        RollupState.objects.all().delete()
        RollupState.objects.bulk_create(RollupState(**row) for row in watermarks)
        left = {k: n - before.get(k, 0) for k, n in _row_counts().items() if n != before.get(k, 0)}
    # Later tests in this process expect the database as they would have found it.
    assert not left, f"the shared demo build left rows behind: {left}"


def _row_counts() -> dict[str, int]:
    with scopes_disabled():
        return {m._meta.label: m._base_manager.count() for m in apps.get_models()}
