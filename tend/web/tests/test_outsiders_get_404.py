"""Generated from the URL configuration: every route that takes an object id answers 404 to a
member (or token) of another workspace, for every method, and changes nothing.

A new route whose parameter is not in ``PARAM_OBJECTS`` fails this test until it is mapped,
so no route can escape the walk.
"""

import datetime

import pytest
from django.core import serializers
from django.utils import timezone

from tend.accounts.models import (
    Account,
    AccountStatus,
    Assignment,
    AssignmentRole,
    AttributeDefinition,
    Contact,
    EndUser,
    Stage,
    StageChange,
    Tag,
)
from tend.health.models import HealthProfile, ProfileVersion
from tend.hub.export_schedules.models import ExportRun, ExportSchedule
from tend.hub.models import Import, RejectedRow, SavedMapping
from tend.hub.sftp.models import RemoteFile, SftpSource
from tend.outbox.actions import queue_email
from tend.outbox.models import DeliveryAttempt, Message
from tend.segments.models import Segment, SegmentMember
from tend.segments.scorecard_models import KpiCard, KpiValue, Scorecard
from tend.segments.view_models import SavedView
from tend.test import make_member, make_token
from tend.usage.models import Metric, MetricValue
from tend.web.routes import all_routes
from tend.work.models import (
    Project,
    ProjectMilestone,
    ProjectTemplate,
    Task,
    TaskComment,
    Touchpoint,
    TouchpointAttachment,
    TouchpointMention,
)
from tend.workspaces.models import ApiToken, Member, Team

# Route parameter name → the kind of victim object whose id goes there.
PARAM_OBJECTS = {
    "notification_id": "notification",
    "rule_id": "alert_rule",
    "account_id": "account",
    "user_id": "end_user",
    "end_user_id": "end_user",
    "contact_id": "contact",
    "attribute_id": "attribute",
    "definition_id": "attribute",
    "stage_id": "stage",
    "role_id": "role",
    "tag_id": "tag",
    "member_id": "member",
    "team_id": "team",
    "token_id": "token",
    "job_id": "job",
    "metric": "metric",
    "profile_id": "health_profile",
    "number": "health_version",
    "segment_id": "segment",
    "scorecard_id": "scorecard",
    "card_id": "card",
    "view_id": "saved_view",
    "message_id": "message",
    "task_id": "task",
    "touchpoint_id": "touchpoint",
    "note_id": "touchpoint",  # Totango's PUT /api/v3/touchpoints/{note_id}
    "attachment_id": "attachment",
    "project_id": "project",
    "template_id": "project_template",
    "play_id": "play",
    "import_id": "import",
    "subscription_id": "webhook",
    "delivery_id": "webhook_delivery",
    "source_id": "sftp_source",
    "schedule_id": "export_schedule",
}
# Parameters that name an object by another field than its id.
PARAM_FIELDS = {"metric": "key", "number": "number"}
# Parameters that are credentials, not object ids (Planhat's ingest key in the path): an
# outsider holds none of ours, and tend/usage/tests/test_wire_ingestion_keys.py shows that
# another workspace's key writes only into its own workspace.
# The digest's unsubscribe ``token`` is signed for one member: tend/digest/tests/test_pages.py
# shows that an edited or foreign token answers 400 and changes nothing.
CREDENTIAL_PARAMS = {"key", "token"}
# API routes name their parameter ``id``; the collection in the path says what it is.
API_COLLECTIONS = {
    "accounts": "account",
    "users": "end_user",
    "contacts": "contact",
    "attributes": "attribute",
    "stages": "stage",
    "roles": "role",
    "tags": "tag",
    "members": "member",
    "teams": "team",
    "tokens": "token",
    "jobs": "job",
    "profiles": "health_profile",
    "segments": "segment",
    "scorecards": "scorecard",
    "views": "saved_view",
    "outbox": "message",
    "tasks": "task",
    "touchpoints": "touchpoint",
    "projects": "project",
    "project-templates": "project_template",
    "plays": "play",
    "imports": "import",
    "webhooks": "webhook",
    "sftp-sources": "sftp_source",
    "export-schedules": "export_schedule",
}
METHODS = ("get", "post", "put", "patch", "delete")


def build_victim_world(workspace):
    """One of every kind of object, in the victim's workspace."""
    stage = Stage.objects.create(workspace=workspace, name="Onboarding")
    role = AssignmentRole.objects.create(
        workspace=workspace, key="success_manager", name="Success Manager"
    )
    tag = Tag.objects.create(workspace=workspace, name="strategic")
    attribute = AttributeDefinition.objects.create(workspace=workspace, key="plan", label="Plan")
    parent = Account.objects.create(workspace=workspace, external_id="parent", name="Parent Co")
    account = Account.objects.create(
        workspace=workspace,
        external_id="victim",
        name="Victim Co",
        status=AccountStatus.PAYING,
        parent=parent,
        stage=stage,
        stage_entered_at=timezone.now(),
        attributes={"plan": "gold"},
    )
    account.tags.add(tag)
    member = make_member(workspace, "viewer", "victim-viewer@acme.test")
    Assignment.objects.create(workspace=workspace, account=account, role=role, member=member)
    StageChange.objects.create(workspace=workspace, account=account, to_stage=stage)
    end_user = EndUser.objects.create(
        workspace=workspace, external_id="u-1", account=account, name="Vic"
    )
    contact = Contact.objects.create(
        workspace=workspace, external_id="c-1", account=account, name="Vera"
    )
    team = Team.objects.create(workspace=workspace, name="EMEA")
    team.members.add(member)
    make_token(workspace, ("read",), name="victim token")
    token = ApiToken.objects.filter(workspace=workspace).latest("id")
    metric = Metric.objects.create(workspace=workspace, key="victim_metric", label="Victim metric")
    MetricValue.objects.create(workspace=workspace, account=account, metric=metric, day=0, value=1)
    from tend.health.actions.profiles import ensure_default_profile

    health_profile = ensure_default_profile(workspace)
    # A shared static segment holding the account: every member of the victim's workspace
    # sees it, so only the workspace's boundary keeps the outsider out.
    segment = Segment.objects.create(
        workspace=workspace, name="Victims", kind="static", visibility="shared"
    )
    SegmentMember.objects.create(workspace=workspace, segment=segment, account=account)
    # A shared scorecard with a card counting that segment, and a shared saved view of it.
    scorecard = Scorecard.objects.create(workspace=workspace, name="Victims", visibility="shared")
    card = KpiCard.objects.create(
        workspace=workspace, scorecard=scorecard, title="Victims", source="segment", segment=segment
    )
    KpiValue.objects.create(workspace=workspace, card=card, day=timezone.localdate(), value=1)
    saved_view = SavedView.objects.create(
        workspace=workspace,
        name="Victims",
        visibility="shared",
        source="segment",
        segment=segment,
        columns=["status"],
        sort=["name"],
    )
    from tend.plays.models import Play, PlayStep

    play = Play.objects.create(
        workspace=workspace,
        name="Victims",
        trigger_kind="segment_entered",
        trigger_config={"segment_id": segment.pk},
    )
    PlayStep.objects.create(
        workspace=workspace, play=play, position=1, kind="add_tag", config={"tag": "x"}
    )
    # A failed email: the one state "Retry now" would change.
    message = queue_email(
        workspace, to=["vic@victim.test"], subject="Renewal", text="Hi", account_id=account.pk
    )
    Message.objects.filter(pk=message.pk).update(status="failed", reason="550 no such user")
    DeliveryAttempt.objects.create(
        workspace=workspace, message=message, number=1, outcome="failed", smtp_code=550
    )
    # A task on the account, assigned to the victim's member, with a comment.
    task = Task.objects.create(
        workspace=workspace,
        account=account,
        title="Call Victim Co",
        due_date=timezone.localdate(),
        assignee=member,
    )
    TaskComment.objects.create(workspace=workspace, task=task, body="Left a voicemail")
    # A finished dry run with a rejected row: "Run the import" is the change it invites.
    victim_import = Import.objects.create(
        workspace=workspace, object="account", dry_run=True, status="partial", file_name="victims.csv",
        stored_name="missing.csv", format="csv", encoding="utf-8", delimiter=",",
        headers=["external_id", "name"], mapping={"external_id": "external_id", "name": "name"},
        rows_total=1, rows_done=1, rejected=1,
    )
    RejectedRow.objects.create(
        workspace=workspace, import_run=victim_import, row_number=2, key="v", reason="name: is required", cells=["v", ""]
    )
    # An SFTP source (pointing nowhere reachable: the outsider is refused before any poll).
    mapping = SavedMapping.objects.create(
        workspace=workspace, object="account", name="Victim mapping", columns={"id": "external_id"}
    )
    sftp_source = SftpSource(
        workspace=workspace, name="Victim feed", host="sftp.victim.test", username="feeds",
        object="account", mapping=mapping, password="hunter2",
    )  # fmt: skip
    sftp_source.save()
    RemoteFile.objects.create(
        workspace=workspace, source=sftp_source, path="/out/a.csv", size=10, mtime=0
    )
    # A scheduled export and a run of it (likewise pointing nowhere reachable).
    export_schedule = ExportSchedule(
        workspace=workspace, name="Victim export", dataset="accounts", host="sftp.victim.test",
        username="feeds", password="hunter2", time_of_day=datetime.time(6, 30),
    )  # fmt: skip
    export_schedule.save()
    ExportRun.objects.create(
        workspace=workspace, schedule=export_schedule, trigger="schedule", status="failed"
    )
    touchpoint = Touchpoint.objects.create(
        workspace=workspace, account=account, subject="Kickoff", body="Went well", author=member
    )
    touchpoint.contacts.add(contact)
    TouchpointMention.objects.create(workspace=workspace, touchpoint=touchpoint, member=member)
    # A file's row (its bytes are never reached: the outsider is refused first).
    attachment = TouchpointAttachment.objects.create(
        workspace=workspace, touchpoint=touchpoint, file_name="victim.pdf",
        stored_name=f"{workspace.pk}/victim", size=10, uploaded_by=member,
    )  # fmt: skip
    from tend.alerts.models import AlertRule
    from tend.notifications.actions import notify

    alert_rule = AlertRule.objects.create(
        workspace=workspace, name="Victim alert", trigger_kind="health_changed", trigger_config={}
    )
    notification = notify(member, kind="alert", title="Victim Co turned Poor", key="victim", account=account)
    from tend.webhooks.tests.helpers import make_delivery, make_subscription

    webhook = make_subscription(workspace)
    webhook_delivery = make_delivery(webhook, "failed")
    from tend.work.actions.projects import start_account_project

    project_template = ProjectTemplate.objects.create(
        workspace=workspace,
        name="Victim onboarding",
        milestones=[{"name": "Kickoff", "tasks": [{"title": "Kickoff call", "offset_days": 0, "role": "success_manager"}]}],
    )
    project, _ = start_account_project(account, project_template, start_date=timezone.localdate())
    objects = {
        "sftp_source": sftp_source,
        "export_schedule": export_schedule,
        "webhook": webhook,
        "webhook_delivery": webhook_delivery,
        "project": project,
        "project_template": project_template,
        "import": victim_import,
        "touchpoint": touchpoint,
        "attachment": attachment,
        "notification": notification,
        "alert_rule": alert_rule,
        "play": play,
        "message": message,
        "task": task,
        "scorecard": scorecard,
        "card": card,
        "saved_view": saved_view,
        "segment": segment,
        "health_profile": health_profile,
        "health_version": health_profile.current_version,
        "metric": metric,
        "account": account,
        "end_user": end_user,
        "contact": contact,
        "attribute": attribute,
        "stage": stage,
        "role": role,
        "tag": tag,
        "member": member,
        "team": team,
        "token": token,
    }
    try:
        from tend.jobs.models import Job
    except ImportError:
        pass
    else:
        objects["job"] = Job.objects.create(
            workspace=workspace, kind="test.victim", status="failed", due_at=timezone.now()
        )
    return objects


def snapshot(workspace) -> str:
    """Everything the victim's workspace holds, serialised, to prove nothing changed."""
    querysets = [
        Account.objects.filter(workspace=workspace),
        EndUser.objects.filter(workspace=workspace),
        Contact.objects.filter(workspace=workspace),
        AttributeDefinition.objects.filter(workspace=workspace),
        Stage.objects.filter(workspace=workspace),
        AssignmentRole.objects.filter(workspace=workspace),
        Tag.objects.filter(workspace=workspace),
        Assignment.objects.filter(workspace=workspace),
        Member.objects.filter(workspace=workspace),
        Team.objects.filter(workspace=workspace),
        ApiToken.objects.filter(workspace=workspace).exclude(last_used_at__isnull=False),
        HealthProfile.objects.filter(workspace=workspace),
        ProfileVersion.objects.filter(workspace=workspace),
        Segment.objects.filter(workspace=workspace),
        SegmentMember.objects.filter(workspace=workspace),
        Scorecard.objects.filter(workspace=workspace),
        KpiCard.objects.filter(workspace=workspace),
        KpiValue.objects.filter(workspace=workspace),
        SavedView.objects.filter(workspace=workspace),
        Message.objects.filter(workspace=workspace),
        DeliveryAttempt.objects.filter(workspace=workspace),
        Task.objects.filter(workspace=workspace),
        TaskComment.objects.filter(workspace=workspace),
        Import.objects.filter(workspace=workspace),
        RejectedRow.objects.filter(workspace=workspace),
        SavedMapping.objects.filter(workspace=workspace),
        SftpSource.objects.filter(workspace=workspace),
        RemoteFile.objects.filter(workspace=workspace),
        ExportSchedule.objects.filter(workspace=workspace),
        ExportRun.objects.filter(workspace=workspace),
        Touchpoint.objects.filter(workspace=workspace),
        TouchpointMention.objects.filter(workspace=workspace),
        TouchpointAttachment.objects.filter(workspace=workspace),
        ProjectTemplate.objects.filter(workspace=workspace),
        Project.objects.filter(workspace=workspace),
        ProjectMilestone.objects.filter(workspace=workspace),
        *_play_querysets(workspace),
        *_alert_querysets(workspace),
        *_webhook_querysets(workspace),
    ]
    try:
        from tend.jobs.models import Job
    except ImportError:
        pass
    else:
        querysets.append(Job.objects.filter(workspace=workspace))
    return "\n".join(serializers.serialize("json", qs.order_by("pk")) for qs in querysets)


def _play_querysets(workspace):
    from tend.plays.models import Play, PlayRun, PlayStep

    return [
        Play.objects.filter(workspace=workspace),
        PlayStep.objects.filter(workspace=workspace),
        PlayRun.objects.filter(workspace=workspace),
    ]


def _alert_querysets(workspace):
    from tend.alerts.models import AlertRule, Follow
    from tend.notifications.models import Notification

    return [
        AlertRule.objects.filter(workspace=workspace),
        Follow.objects.filter(workspace=workspace),
        Notification.objects.filter(workspace=workspace),
    ]


def _webhook_querysets(workspace):
    from tend.webhooks.models import Attempt, Delivery, Subscription

    return [
        Subscription.objects.filter(workspace=workspace),
        Delivery.objects.filter(workspace=workspace),
        Attempt.objects.filter(workspace=workspace),
    ]


def object_for(route, param, objects):
    kind = PARAM_OBJECTS.get(param)
    if kind is None and param in ("id", "pk"):
        # The collection just before the id names it: /segments/<id>/members is a segment.
        parts = route.route.split("/")
        at = next(
            i for i, p in enumerate(parts) if p.startswith("<") and p[1:-1].split(":")[-1] == param
        )
        kind = next(
            (API_COLLECTIONS[p] for p in reversed(parts[:at]) if p in API_COLLECTIONS), None
        )
    if kind is None:
        return None
    return objects.get(kind)


def routes_with_ids():
    return [r for r in all_routes() if r.params and not set(r.params) & CREDENTIAL_PARAMS]


def test_every_route_with_an_id_is_walked():
    unmapped = []
    for route in routes_with_ids():
        for param in route.params:
            if param not in PARAM_OBJECTS and not (
                param in ("id", "pk") and any(p in API_COLLECTIONS for p in route.route.split("/"))
            ):
                unmapped.append(f"{route.route} ({param})")
    assert not unmapped, "map these route parameters in PARAM_OBJECTS: " + ", ".join(unmapped)


@pytest.mark.django_db
def test_outsiders_get_404_on_every_route_and_nothing_changes(owner, outsider):
    objects = build_victim_world(owner.workspace)
    before = snapshot(owner.workspace)
    checked = 0
    failures = []
    for route in routes_with_ids():
        values = {}
        for param in route.params:
            obj = object_for(route, param, objects)
            if obj is None:
                break
            values[param] = getattr(obj, PARAM_FIELDS.get(param, "pk"))
        else:
            url = route.fill(values)
            client = outsider.api if url.startswith("/api/") else outsider.browser
            for method in METHODS:
                if method == "get":
                    response = client.get(url)
                else:
                    response = getattr(client, method)(
                        url, data=b"{}", content_type="application/json"
                    )
                checked += 1
                if response.status_code not in (404, 405):
                    failures.append(f"{method.upper()} {url} → {response.status_code}")
    assert checked > 0
    assert not failures, "outsider was not refused with 404:\n" + "\n".join(failures)
    assert snapshot(owner.workspace) == before
