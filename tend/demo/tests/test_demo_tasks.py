"""The demo's tasks: every CSM, the contributor and the admin open an inbox with work due
today, some overdue and some done; renewal prep comes from the play, once per account.
(A week of usage, as in ``test_demo_segments.py``, to stay quick.)"""

import pytest
from django.db.models import Count, Q

from tend.demo import usage
from tend.demo import vocabulary as v
from tend.demo.actions import rebuild_demo_workspace
from tend.demo.generate import ascii_slug
from tend.work.models import Task, TaskComment
from tend.work.queries import local_today
from tend.workspaces.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def _a_week_of_usage():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(usage, "DAYS", 7)
        yield


def test_the_demo_team_has_overdue_today_upcoming_and_done_tasks(_a_week_of_usage):
    result = rebuild_demo_workspace()
    workspace = result.workspace
    today = local_today(workspace)
    tasks = Task.objects.filter(workspace=workspace)
    assert result.counts["tasks"] == tasks.count() > 100

    emails = [f"{ascii_slug(n)}@{v.DOMAIN}" for n in v.CSMS]
    emails += [f"contributor@{v.DOMAIN}", f"admin@{v.DOMAIN}"]
    for email in emails:
        member = Member.objects.get(workspace=workspace, user__email=email)
        theirs = tasks.filter(assignee=member)
        assert theirs.filter(status="open", due_date=today).exists(), email
        assert theirs.filter(status="open", due_date__gt=today).exists(), email

    counts = tasks.aggregate(
        overdue=Count("id", filter=Q(status="open", due_date__lt=today)),
        done=Count("id", filter=Q(status="done")),
        cancelled=Count("id", filter=Q(status="cancelled")),
    )
    assert counts["overdue"] > 5 and counts["done"] > 5 and counts["cancelled"] >= 1
    assert (result.counts["tasks_done"], result.counts["tasks_cancelled"]) == (
        counts["done"],
        counts["cancelled"],
    )
    # Done tasks say when and by whom, at or before today; none was done before it existed.
    for task in tasks.filter(status="done"):
        assert task.completed_by_id == task.assignee_id
        assert task.created_at <= task.completed_at

    renewals = tasks.filter(source="Play: Renewal prep")
    assert renewals.exists()
    assert all(t.key.startswith("demo:renewal-prep:") and t.type == "renewal" for t in renewals)
    assert renewals.values("account").distinct().count() == renewals.count()
    assert (
        TaskComment.objects.filter(workspace=workspace).count()
        == result.counts["task_comments"]
        > 0
    )
