"""A hand-built usage history with known answers, shared by the read tests.

``NOW`` is noon (UTC) of the day the tests run, so "today" is the same local day for the
events, the rollup and the reads made at the real current time. Events are ingested
through the one write path and counted with ``roll_up(now=NOW)``.

Accounts: **Acme** (licences 4) and its child **Acme EU** (licences 6). End users: u1 and u2
belong to Acme, u3 to Acme EU; u1 also used Acme EU yesterday.

=========  ===============================================  ===================================
account    events (user, days ago × count, module)          notes
=========  ===============================================  ===================================
Acme       u1: today ×3 Reports (60 s each), 1 ×2 Reports,   two of today's share a timestamp
           5 ×1 Core; u2: 10 ×4 Core, 20 ×1 Admin;
           no user: 40 ×2 (no module)
Acme EU    u3: today ×1 Reports, 2 ×2 Core; u1: 1 ×1 Core
=========  ===============================================  ===================================
"""

import datetime

from django.utils import timezone

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import AttributeDefinition, AttributeType
from tend.lib.dates import to_ms
from tend.usage import rollups
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import EventFact, Intake, MetricFact
from tend.usage.models import Source

NOW = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)

# (account, user, activity, module, days ago, minutes earlier, duration)
HISTORY = [
    ("acme", "u1", "Viewed report", "Reports", 0, 0, 60.0),
    ("acme", "u1", "Exported report", "Reports", 0, 0, 60.0),
    ("acme", "u1", "Viewed report", "Reports", 0, 30, 60.0),
    ("acme", "u1", "Viewed report", "Reports", 1, 0, None),
    ("acme", "u1", "Shared report", "Reports", 1, 5, None),
    ("acme", "u1", "Logged in", "Core", 5, 0, None),
    *[("acme", "u2", "Logged in", "Core", 10, i, None) for i in range(4)],
    ("acme", "u2", "Invited user", "Admin", 20, 0, None),
    ("acme", None, "Nightly sync", "", 40, 0, None),
    ("acme", None, "Nightly sync", "", 40, 1, None),
    ("acme-eu", "u3", "Viewed report", "Reports", 0, 10, None),
    ("acme-eu", "u3", "Logged in", "Core", 2, 0, None),
    ("acme-eu", "u3", "Logged in", "Core", 2, 1, None),
    ("acme-eu", "u1", "Logged in", "Core", 1, 20, None),
]


def ts_of(days_ago: int, minutes: int = 0) -> int:
    return to_ms(NOW - datetime.timedelta(days=days_ago, minutes=minutes))


def send_events(workspace, events) -> None:
    facts = [
        EventFact(
            index,
            account,
            user,
            activity,
            module,
            ts_of(days, minutes),
            duration=duration,
        )
        for index, (account, user, activity, module, days, minutes, duration) in enumerate(events)
    ]
    report = ingest(workspace, Intake(source=Source.API, received=len(facts), events=facts))
    assert report.stored == len(facts), report.as_json()


def send_metric(workspace, account: str, metric: str, values: dict[int, float]) -> None:
    """Values of a custom metric by days ago."""
    today = (NOW.date() - datetime.date(1970, 1, 1)).days
    facts = [
        MetricFact(index, account, metric, value, today - days)
        for index, (days, value) in enumerate(values.items())
    ]
    ingest(workspace, Intake(source=Source.API, received=len(facts), metrics=facts))


def build_history(owner) -> dict:
    """The accounts above with their events counted; returns the accounts by external id."""
    workspace = owner.workspace
    AttributeDefinition.objects.create(
        workspace=workspace, key="licenses", label="Licences", type=AttributeType.NUMBER
    )
    acme = create_account(
        owner.actor,
        {"external_id": "acme", "name": "Acme", "status": "paying", "attributes": {"licenses": 4}},
    )
    acme_eu = create_account(
        owner.actor,
        {
            "external_id": "acme-eu",
            "name": "Acme EU",
            "status": "paying",
            "parent_external_id": "acme",
            "attributes": {"licenses": 6},
        },
    )
    # Users first, so each belongs to the account its first event names.
    send_events(workspace, [e for e in HISTORY if e[1] != "u1" or e[0] == "acme"])
    send_events(workspace, [e for e in HISTORY if e[1] == "u1" and e[0] == "acme-eu"])
    rollups.roll_up(now=NOW)
    return {"acme": acme, "acme-eu": acme_eu}
