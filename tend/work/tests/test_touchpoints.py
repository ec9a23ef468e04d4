"""Touchpoints through the write path: logging one with participants, a follow-up task in
the same transaction, mentions of members of the same workspace only, Markdown that cannot
run script, custom types, and who may change what."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tend.accounts.models import Contact
from tend.lib.errors import InvalidInput
from tend.notifications.models import Notification
from tend.test import make_member
from tend.work import actions
from tend.work.markdown import render_markdown
from tend.work.models import Task, Touchpoint, TouchpointMention

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(workspace):
    return make_member(workspace, "practitioner", "ana@acme.test", name="Ana Lima")


@pytest.fixture
def vera(acme, workspace):
    return Contact.objects.create(workspace=workspace, account=acme, external_id="c1", name="Vera")


def test_a_touchpoint_with_participants_and_a_follow_up_task(owner, acme, ana, vera, today):
    when = timezone.now() - datetime.timedelta(hours=2)
    touchpoint = actions.log_touchpoint(
        owner.actor,
        acme,
        {
            "type": "meeting",
            "occurred_at": when,
            "subject": "  Kickoff  ",
            "body": "Agreed on the **rollout**.",
            "sentiment": "positive",
            "members": [ana.pk],
            "contacts": [vera.pk],
            "follow_up": {"title": "Send the plan", "due_date": today, "assignee": ana},
        },
    )
    touchpoint.refresh_from_db()
    assert (touchpoint.type, touchpoint.subject, touchpoint.sentiment) == (
        "meeting",
        "Kickoff",
        "positive",
    )
    assert touchpoint.occurred_at == when
    assert touchpoint.author == owner.member
    assert list(touchpoint.members.all()) == [ana]
    assert list(touchpoint.contacts.all()) == [vera]
    task = touchpoint.follow_up_task
    assert (task.title, task.assignee, task.account, task.due_date) == (
        "Send the plan",
        ana,
        acme,
        today,
    )


def test_a_bad_follow_up_saves_neither(owner, acme):
    with pytest.raises(InvalidInput) as caught:
        actions.log_touchpoint(owner.actor, acme, {"subject": "Call", "follow_up": {"title": ""}})
    assert caught.value.field == "follow_up.title"
    assert not Touchpoint.objects.exists() and not Task.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "Hi", "type": "séance"}, "type"),
        ({"subject": "Hi", "sentiment": "ecstatic"}, "sentiment"),
        ({"subject": "Hi", "occurred_at": datetime.datetime(2026, 1, 1)}, "occurred_at"),
        ({"subject": "Hi", "members": ["nobody"]}, "members"),
        ({"subject": "Hi", "members": [999999]}, "members"),
        ({"subject": "Hi", "contacts": [999999]}, "contacts"),
        ({"subject": "Hi", "body": "x" * (actions.BODY_MAX + 1)}, "body"),
    ],
)
def test_bad_input_names_the_field(owner, acme, data, field):
    with pytest.raises(InvalidInput) as caught:
        actions.log_touchpoint(owner.actor, acme, data)
    assert caught.value.field == field
    assert not Touchpoint.objects.exists()


def test_participants_of_another_workspace_or_account_are_refused(
    owner, outsider, acme, globex, workspace
):
    elsewhere = Contact.objects.create(
        workspace=workspace, account=globex, external_id="g", name="G"
    )
    with pytest.raises(InvalidInput, match="no member"):
        actions.log_touchpoint(
            owner.actor, acme, {"subject": "Hi", "members": [outsider.member.pk]}
        )
    with pytest.raises(InvalidInput, match="no contact"):
        actions.log_touchpoint(owner.actor, acme, {"subject": "Hi", "contacts": [elsewhere.pk]})


def test_mentions_are_recorded_for_members_of_the_same_workspace_only(
    owner, acme, ana, outsider, workspace
):
    # ``outsider@globex.test`` is a member of another workspace; ``bob`` names nobody.
    gone = make_member(workspace, "practitioner", "gone@acme.test")
    gone.is_active = False
    gone.save()
    touchpoint = actions.log_touchpoint(
        owner.actor,
        acme,
        {
            "subject": "Renewal risk",
            "body": "@ana please call. cc @outsider@globex.test @bob @gone, and "
            "mail ana@acme.test (not a mention). @owner@acme.test.",
        },
    )
    mentioned = set(
        TouchpointMention.objects.filter(touchpoint=touchpoint).values_list(
            "member__user__email", flat=True
        )
    )
    assert mentioned == {"ana@acme.test", "owner@acme.test"}
    assert all(m.workspace_id == workspace.pk for m in TouchpointMention.objects.all())
    # Only Ana is told: the owner wrote it, the others are not members here.
    told = Notification.objects.all()
    assert [(n.member.user.email, n.kind, n.account_id) for n in told] == [
        ("ana@acme.test", "mention", acme.pk)
    ]
    assert told[0].url == f"/touchpoints/{touchpoint.pk}/"
    assert told[0].title.endswith(f"mentioned you on {acme.name}: Renewal risk")
    notified = dict(touchpoint.mentions.values_list("member__user__email", "notified_at"))
    assert notified["ana@acme.test"] is not None and notified["owner@acme.test"] is None


def test_an_edit_records_new_mentions_once_and_drops_removed_ones(owner, acme, ana):
    touchpoint = actions.log_touchpoint(owner.actor, acme, {"subject": "S", "body": "@ana"})
    actions.update_touchpoint(owner.actor, touchpoint, {"body": "@ana and @owner"})
    assert sorted(touchpoint.mentions.values_list("member__user__email", flat=True)) == [
        "ana@acme.test",
        "owner@acme.test",
    ]
    actions.update_touchpoint(owner.actor, touchpoint, {"body": "@owner only"})
    assert list(touchpoint.mentions.values_list("member__user__email", flat=True)) == [
        "owner@acme.test"
    ]
    actions.update_touchpoint(owner.actor, touchpoint, {"body": "@ana again"})
    assert Notification.objects.filter(member=ana).count() == 1, "one notification per touchpoint"


def test_markdown_with_script_renders_inert():
    html = render_markdown(
        "Hello <script>alert(1)</script> [x](javascript:alert(2)) "
        '<img src=x onerror="alert(3)"> **bold**'
    )
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "<strong>bold</strong>" in html


def test_custom_types_are_added_by_admins_and_accepted(owner, practitioner, acme):
    with pytest.raises(PermissionDenied):
        actions.create_touchpoint_type(practitioner.actor, "Site visit")
    created = actions.create_touchpoint_type(owner.actor, "Site visit")
    assert created.key == "site_visit"
    with pytest.raises(InvalidInput) as caught:
        actions.create_touchpoint_type(owner.actor, "Again", key="site_visit")
    assert caught.value.field == "key"
    with pytest.raises(InvalidInput) as caught:
        actions.create_touchpoint_type(owner.actor, "Call", key="call")
    assert caught.value.field == "key"
    touchpoint = actions.log_touchpoint(
        practitioner.actor, acme, {"subject": "On site", "type": "site_visit"}
    )
    assert touchpoint.type == "site_visit"


def test_viewer_cannot_log_and_contributor_changes_only_their_own(owner, contributor, viewer, acme):
    with pytest.raises(PermissionDenied):
        actions.log_touchpoint(viewer.actor, acme, {"subject": "Hi"})
    mine = actions.log_touchpoint(contributor.actor, acme, {"subject": "Mine"})
    theirs = actions.log_touchpoint(owner.actor, acme, {"subject": "Theirs"})
    actions.update_touchpoint(contributor.actor, mine, {"subject": "Mine, edited"})
    with pytest.raises(PermissionDenied):
        actions.update_touchpoint(contributor.actor, theirs, {"subject": "No"})
    with pytest.raises(PermissionDenied):
        actions.delete_touchpoint(viewer.actor, mine)
    actions.delete_touchpoint(owner.actor, mine)
    assert list(Touchpoint.objects.values_list("subject", flat=True)) == ["Theirs"]


def test_automation_logs_once_per_key(acme):
    first, created = actions.log_account_touchpoint(
        acme, subject="Welcome sent", source="Play: Onboarding", key="play:1:run:1:step:1"
    )
    again, created_again = actions.log_account_touchpoint(
        acme, subject="Welcome sent", source="Play: Onboarding", key="play:1:run:1:step:1"
    )
    assert created and not created_again and first.pk == again.pk
    assert first.author is None and first.author_name == "Play: Onboarding"
