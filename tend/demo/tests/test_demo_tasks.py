"""The demo's tasks: every CSM, the contributor and the admin open an inbox with work due
today, some overdue and some done; renewal prep comes from the play, once per account.
(The package's shared build, a week of usage: see ``conftest.py``.)"""

import datetime

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from tend.accounts.models import Account, Assignment
from tend.demo import vocabulary as v
from tend.demo.generate import ascii_slug
from tend.outbox.models import Message
from tend.plays.models import Play, PlayRun
from tend.work.models import Project, Task, TaskComment, Touchpoint
from tend.work.queries import local_today
from tend.workspaces.models import Member

pytestmark = pytest.mark.django_db


def test_the_demo_team_has_overdue_today_upcoming_and_done_tasks(built_demo):
    result = built_demo.result
    _the_biggest_accounts_have_touchpoints(result)
    workspace = result.workspace
    today = local_today(workspace)
    tasks = Task.objects.filter(workspace=workspace)
    # Projects: the two templates, each started on a trial account with its tasks.
    assert result.counts["project_templates"] == 2 and result.counts["projects"] == 2
    projects = Project.objects.filter(workspace=workspace).with_progress()
    assert sorted(p.template.name for p in projects) == [
        "Enterprise onboarding",
        "Onboarding — mid-market",
    ]
    assert all(p.total == p.template.task_count and p.open_count for p in projects)
    assert sum(p.done for p in projects) > 0
    tasks = tasks.filter(project=None)
    assert result.counts["tasks"] == tasks.filter(play_id=None).count() > 100

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
    by_hand = tasks.filter(play_id=None)
    assert (result.counts["tasks_done"], result.counts["tasks_cancelled"]) == (
        by_hand.filter(status="done").count(),
        by_hand.filter(status="cancelled").count(),
    )
    # Done tasks say when and by whom, at or before today; none was done before it existed.
    for task in tasks.filter(status="done"):
        assert task.completed_by_id == task.assignee_id
        assert task.created_at <= task.completed_at

    # Renewal prep is the real play's work now: one task per account, owned by the play.
    renewals = tasks.filter(source="Play: Renewal prep")
    assert renewals.exists()
    assert all(
        t.play_id and t.key.startswith("play-run:") and t.type == "renewal" for t in renewals
    )
    assert renewals.values("account").distinct().count() == renewals.count()
    _assert_plays_have_history(workspace, tasks)
    assert (
        TaskComment.objects.filter(workspace=workspace).count()
        == result.counts["task_comments"]
        > 0
    )


def _assert_plays_have_history(workspace, tasks):
    """The three demo plays are active, have run in the past, and made each task once."""
    plays = {p.name: p for p in Play.objects.filter(workspace=workspace)}
    assert set(plays) == {"Onboarding kickoff", "Risk outreach", "Renewal prep"}
    today = local_today(workspace)
    for play in plays.values():
        assert play.status == "active", play.name
        runs = PlayRun.objects.filter(play=play)
        assert runs.filter(status="done").exists(), play.name
        assert not runs.filter(status="failed").exists(), list(
            runs.values_list("reason", flat=True)
        )
        # History: runs started on earlier days, not all at build time, ids following time.
        assert runs.filter(started_at__date__lt=today).exists(), play.name
        started = list(runs.order_by("id").values_list("started_at", flat=True))
        assert started == sorted(started), play.name
        assert play.activated_at < started[0], play.name
    play_tasks = tasks.filter(play_id__isnull=False)
    assert set(play_tasks.values_list("play_id", flat=True)) == {p.pk for p in plays.values()}
    assert all(t.source == f"Play: {Play.objects.get(pk=t.play_id).name}" for t in play_tasks[:20])
    # No account got two tasks from one play occurrence (one run per occurrence, one task per run).
    assert play_tasks.values("key").distinct().count() == play_tasks.count()
    occurrences = PlayRun.objects.filter(workspace=workspace).values(
        "play", "account", "occurrence_key"
    )
    assert occurrences.distinct().count() == PlayRun.objects.filter(workspace=workspace).count()
    runs_with_tasks = {int(k.split(":")[1]) for k in play_tasks.values_list("key", flat=True)}
    assert len(runs_with_tasks) == play_tasks.count()
    # Each task is due as many days after its run as the step says, and the log says so.
    for task in play_tasks.filter(source="Play: Onboarding kickoff"):
        run = PlayRun.objects.get(pk=int(task.key.split(":")[1]))
        assert task.due_date == timezone.localdate(run.started_at) + datetime.timedelta(days=3)
        logged = run.log.get(position=1).reason
        assert f"due {task.due_date:%Y-%m-%d}" in logged, logged
    # The kickoff emailed the Success Manager: kept in the outbox (no EMAIL_URL in the demo).
    kickoff_runs = PlayRun.objects.filter(play=plays["Onboarding kickoff"], status="done")
    emails = Message.objects.filter(workspace=workspace, key__startswith="play-run:")
    assert emails.count() == kickoff_runs.count() > 0
    # Risk outreach tagged its accounts.
    risky = PlayRun.objects.filter(play=plays["Risk outreach"], status="done").values("account")
    assert not Account.objects.filter(pk__in=risky).exclude(tags__name="at risk").exists()



def _the_biggest_accounts_have_touchpoints(result):
    """Checked within the tasks test: a second demo build would double the file's time."""
    touchpoints = Touchpoint.objects.filter(workspace=result.workspace)
    assert result.counts["touchpoints"] == touchpoints.count() >= 80
    now = timezone.now()
    assert all(now - datetime.timedelta(days=92) < t.occurred_at < now for t in touchpoints)
    # Logged by the account's CSM, through the write path.
    assert not touchpoints.filter(author=None).exists()
    assert touchpoints.filter(sentiment="negative").exists()
    assert touchpoints.exclude(contacts=None).exists()


def test_the_team_follows_accounts_and_segments_and_two_alert_rules_watch(built_demo):
    """Home, the digest and the Following page open with something in them."""
    from tend.alerts.models import AlertRule, Follow

    workspace = built_demo.result.workspace
    follows = Follow.objects.filter(workspace=workspace)
    assert follows.count() == built_demo.result.counts["follows"] > 50
    admin = Member.objects.get(workspace=workspace, user__email=f"admin@{v.DOMAIN}")
    assert follows.filter(member=admin, account__isnull=False).count() == 6
    assert set(
        follows.filter(member=admin, segment__isnull=False).values_list("segment__name", flat=True)
    ) == {"Poor health, paying", "Enterprise renewing in 90 days"}
    for email in (f"{ascii_slug(n)}@{v.DOMAIN}" for n in v.CSMS):
        theirs = follows.filter(member__user__email=email, account__isnull=False)
        assert 1 <= theirs.count() <= 6, email
        book = set(
            Assignment.objects.filter(
                workspace=workspace, role__key="success_manager", member__user__email=email
            ).values_list("account_id", flat=True)
        )
        assert set(theirs.values_list("account_id", flat=True)) <= book, email
    rules = AlertRule.objects.filter(workspace=workspace, is_active=True)
    assert set(rules.values_list("name", flat=True)) == {"Health turned Poor", "New paying customer"}
