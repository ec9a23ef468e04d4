"""Building the Demo workspace: the demo app's one write path.

``rebuild_demo_workspace`` removes any workspace with the demo slug and creates it again
from :mod:`tend.demo.generate` and :mod:`tend.demo.usage`, through the same actions, bulk
upserts and ingestion the API uses, so the demo exercises the real write path and cannot
hold data the API would refuse. It rolls the usage up, so every usage metric is ready when
the demo starts, and ends with health (:mod:`tend.demo.health`): profiles, 90 days of
history and today's scores, then segments with three months of membership history
(:mod:`tend.demo.segments`), scorecards and saved views (:mod:`tend.demo.scorecards`),
the CS team's tasks (:mod:`tend.demo.tasks`), three active plays with their history
(:mod:`tend.demo.plays`), and what the team follows with two alert rules
(:mod:`tend.demo.follows`).
"""

import datetime
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tend.accounts.actions.definitions import create_attribute, create_tag
from tend.accounts.bulk import upsert_accounts, upsert_contacts, upsert_end_users
from tend.accounts.models import Account, StageChange, StatusChange
from tend.demo import generate, usage
from tend.demo import vocabulary as v
from tend.demo.follows import build_follows
from tend.demo.health import build_health
from tend.demo.plays import build_plays
from tend.demo.scorecards import build_scorecards
from tend.demo.segments import build_segments
from tend.demo.tasks import build_tasks
from tend.demo.touchpoints import build_touchpoints
from tend.lib.dates import to_ms
from tend.usage.actions.ingest import ingest
from tend.usage.actions.metrics import rename_metric
from tend.usage.ingest.facts import Intake
from tend.usage.models import Metric, Source
from tend.usage.rollups import roll_up
from tend.workspaces.access import Actor, system_actor
from tend.workspaces.actions import create_member, create_workspace
from tend.workspaces.models import Member, User, Workspace

# The first three are the account list's default columns: what a CSM scans for first.
ACCOUNT_ATTRIBUTES = [
    {
        "key": "plan",
        "label": "Plan",
        "type": "enum",
        "options": v.PLANS,
        "description": "The subscription plan the customer is on.",
    },
    {
        "key": "contract_value",
        "label": "Contract value",
        "type": "currency",
        "description": "Annual contract value in USD.",
    },
    {
        "key": "renewal_date",
        "label": "Renewal date",
        "type": "date",
        "description": "When the contract (or the trial) ends.",
    },
    {
        "key": "company_size",
        "label": "Company size",
        "type": "enum",
        "options": [s[0] for s in v.COMPANY_SIZES],
        "description": "Employees at the customer.",
    },
    {"key": "industry", "label": "Industry", "type": "enum", "options": sorted(v.INDUSTRIES)},
    {"key": "region", "label": "Region", "type": "enum", "options": list(v.REGIONS)},
    {
        # The key the usage app reads licence utilisation from by default.
        "key": "licenses",
        "label": "Licenses",
        "type": "number",
        "description": "Seats the customer pays for.",
    },
    {"key": "website", "label": "Website", "type": "url"},
]
END_USER_ATTRIBUTES = [{"key": "job_title", "label": "Job title", "type": "text"}]
# What the demo's custom metrics are called on the pages (they arrive named by their keys).
METRIC_LABELS = {"api_calls": "API calls", "storage_gb": "Storage (GB)"}
# Events (and metric values) per ingestion: the size of a large API batch, a few MB at most.
INGEST_BATCH = 20_000


@dataclass(frozen=True)
class DemoResult:
    workspace: Workspace
    admin_email: str
    password: str
    counts: dict
    seconds: float


class DemoBuildError(RuntimeError):
    """The generated data was refused by an upsert: a bug in the generator, never user input."""


def remove_demo_workspace() -> None:
    """Delete the demo workspace and the demo people who belong to no other workspace."""
    with scopes_disabled():
        Workspace.objects.filter(slug=v.WORKSPACE_SLUG).delete()
        demo_users = User.objects.filter(email__endswith=f"@{v.DOMAIN}")
        demo_users.exclude(pk__in=Member.objects.values("user_id")).delete()


def _batches(items) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, INGEST_BATCH)):
        yield batch


def _ingest(workspace: Workspace, events=(), metrics=()) -> int:
    """One batch through the usage app's write path; the demo's data must all be stored."""
    intake = Intake(source=Source.DEMO, received=len(events) + len(metrics))
    intake.events = [event.fact(i) for i, event in enumerate(events)]
    intake.metrics = list(metrics)
    for i, fact in enumerate(intake.metrics, start=len(events)):
        fact.index = i
    report = ingest(workspace, intake)
    if report.rejections:
        raise DemoBuildError(
            f"{report.rejected} demo usage items were refused; first: {report.rejections[0]}"
        )
    return report.stored


def _load_usage(workspace: Workspace, plan: usage.DemoUsage) -> dict:
    """Ingest the plan's events and metric values in batches, then roll them up."""
    counts = {"events": 0, "metric_values": 0}
    for batch in _batches(plan.events()):
        counts["events"] += _ingest(workspace, events=batch)
    for batch in _batches(plan.metrics()):
        counts["metric_values"] += _ingest(workspace, metrics=batch)
    actor = system_actor(workspace)
    for metric in Metric.objects.filter(workspace=workspace, key__in=METRIC_LABELS):
        rename_metric(actor, metric, METRIC_LABELS[metric.key])
    roll_up()
    return counts


def _check(kind: str, result) -> None:
    failed = [r for r in result.results if r.get("status") == "error"]
    if failed:
        raise DemoBuildError(f"{len(failed)} demo {kind} were refused; first: {failed[0]}")


def _backdate(workspace: Workspace, history: dict, today: datetime.date) -> None:
    """Give accounts a customer-since date and a time in stage, as real data would have.

    The upserts stamp everything "now"; a demo where every account entered its stage today
    would make time-in-stage meaningless, so the generator's ages are applied here.
    """
    midday = timezone.make_aware(datetime.datetime.combine(today, datetime.time(12)))
    accounts = list(
        Account.objects.filter(workspace=workspace).only("id", "external_id", "stage_id")
    )
    for account in accounts:
        age, in_stage = history[account.external_id]
        account.created_at = midday - datetime.timedelta(days=age)
        account.stage_entered_at = (
            midday - datetime.timedelta(days=in_stage) if account.stage_id else None
        )
    Account.objects.bulk_update(accounts, ["created_at", "stage_entered_at"], batch_size=500)
    entered = {a.pk: a.stage_entered_at for a in accounts if a.stage_entered_at}
    changes = list(StageChange.objects.filter(workspace=workspace, account_id__in=list(entered)))
    for change in changes:
        change.changed_at = entered[change.account_id]
    StageChange.objects.bulk_update(changes, ["changed_at"], batch_size=500)


def _change_statuses(actor: Actor, data: generate.DemoData) -> None:
    """Trials that converted and customers that churned change status through the bulk
    upsert, like any sync would, one pass per step of their history; then each change is
    dated when it happened (midday, as ``_backdate`` does)."""
    passes: list[list[dict]] = []
    step: dict[str, int] = {}
    for external_id, _date, status in data.status_changes:
        n = step.get(external_id, 0)
        step[external_id] = n + 1
        if n == len(passes):
            passes.append([])
        passes[n].append({"external_id": external_id, "status": status})
    for items in passes:
        _check("status changes", upsert_accounts(actor, items, source="demo"))
    when = {
        (external_id, status): timezone.make_aware(
            datetime.datetime.combine(date, datetime.time(12))
        )
        for external_id, date, status in data.status_changes
    }
    changes = list(StatusChange.objects.filter(workspace=actor.workspace).select_related("account"))
    for change in changes:
        change.changed_at = when[(change.account.external_id, change.to_status)]
    StatusChange.objects.bulk_update(changes, ["changed_at"], batch_size=500)


@transaction.atomic
def rebuild_demo_workspace(
    seed: int = v.DEFAULT_SEED, today: datetime.date | None = None
) -> DemoResult:
    """Replace the Demo workspace with the one ``seed`` generates. Same seed, same data."""
    started = time.monotonic()
    now = timezone.now()
    today = today or timezone.localdate(now)
    data = generate.build(seed, today)
    # Up to this moment when the demo is built today; a day built for another date is whole.
    plan = usage.build(
        data, seed, today, now_ms=to_ms(now) if today == timezone.localdate(now) else None
    )
    admin = data.admin
    remove_demo_workspace()
    workspace, owner = create_workspace(
        v.WORKSPACE_NAME,
        owner_email=admin.email,
        owner_password=v.PASSWORD,
        owner_name=admin.full_name,
        slug=v.WORKSPACE_SLUG,
    )
    with scope(workspace=workspace.id):
        actor = Actor(workspace=workspace, member=owner)
        for person in data.members:
            if person.email != admin.email:
                create_member(
                    actor,
                    email=person.email,
                    full_name=person.full_name,
                    password=v.PASSWORD,
                    seat=person.seat,
                )
        for spec in ACCOUNT_ATTRIBUTES:
            create_attribute(actor, {"object_type": "account", "required": False, **spec})
        for spec in END_USER_ATTRIBUTES:
            create_attribute(actor, {"object_type": "user", "required": False, **spec})
        for name, color in v.TAGS.items():
            create_tag(actor, {"name": name, "color": color})

        # Parents come first in the generated list; upsert them alone so children can point at them.
        # Each account starts with the status it had first; its history is replayed below.
        accounts = [
            {**a, "status": data.first_status.get(a["external_id"], a["status"])}
            for a in data.accounts
        ]
        parents = [a for a in accounts if not a["parent_external_id"]]
        children = [a for a in accounts if a["parent_external_id"]]
        _check("accounts", upsert_accounts(actor, parents, source="demo"))
        _check("accounts", upsert_accounts(actor, children, source="demo"))
        _check("end users", upsert_end_users(actor, data.end_users))
        _check("contacts", upsert_contacts(actor, data.contacts))
        _backdate(workspace, data.history, today)
        _change_statuses(actor, data)
        loaded = _load_usage(workspace, plan)
        health = build_health(actor, today)
        segments = build_segments(actor, today)
        scorecards = build_scorecards(actor)
        tasks = build_tasks(actor, today, seed)
        touchpoints = build_touchpoints(actor, today, seed)
        plays = build_plays(actor, today, seed)
        follows = build_follows(actor, today)

    counts = {
        "accounts": len(data.accounts),
        "end_users": len(data.end_users),
        "contacts": len(data.contacts),
        "members": len(data.members),
        "status_changes": len(data.status_changes),
        **loaded,
        **health,
        **segments,
        **scorecards,
        **tasks,
        **touchpoints,
        **plays,
        **follows,
    }
    return DemoResult(workspace, admin.email, v.PASSWORD, counts, time.monotonic() - started)
