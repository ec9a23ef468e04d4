"""Scoring whole workspaces: what is stored, what changes, and when a workspace is scored again."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.actions.accounts import create_account, delete_account, update_account
from tend.accounts.models import Account, AttributeDefinition, AttributeType, EndUser
from tend.health import jobs
from tend.health.actions.profiles import (
    CLASSIC_DEFINITION,
    DEFAULT_NAME,
    create_profile,
    delete_profile,
    make_default,
    roll_back,
    update_profile,
)
from tend.health.actions.scoring import score_workspace
from tend.health.models import (
    AccountHealth,
    HealthChange,
    HealthProfile,
    HealthSnapshot,
    ProfileVersion,
)
from tend.lib.dates import to_ms
from tend.lib.errors import InvalidInput
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import EventFact, Intake, MetricFact
from tend.usage.models import Source
from tend.usage.rollups import roll_up
from tend.workspaces.actions import create_workspace

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def use(workspace, account: str, *days_ago: int, user: str = "u"):
    """Events of ``account`` on the given days ago, counted into its metrics."""
    facts = [
        EventFact(
            i,
            account,
            f"{account}-{user}",
            "Logged in",
            "",
            to_ms(NOW - datetime.timedelta(days=d)),
        )
        for i, d in enumerate(days_ago)
    ]
    ingest(workspace, Intake(source=Source.API, received=len(facts), events=facts))
    roll_up(now=NOW)


def ranks(workspace) -> dict[str, str]:
    return dict(
        AccountHealth.objects.filter(workspace=workspace).values_list(
            "account__external_id", "rank"
        )
    )


def test_a_new_workspace_starts_with_the_classic_profile(db):
    workspace, _owner = create_workspace(
        "New Co", owner_email="new@co.test", owner_password="a long passphrase 1"
    )
    profile = HealthProfile.objects.get(workspace=workspace)
    assert (profile.name, profile.is_default) == (DEFAULT_NAME, True)
    assert profile.current_version.definition == CLASSIC_DEFINITION


def test_the_classic_rule_ranks_weekly_use_good_occasional_use_average_and_silence_poor(
    workspace, owner
):
    use(workspace, "busy", 0, 1, 2, 3, 8)
    use(workspace, "light", 2, 9)
    use(workspace, "gone", 20)
    create_account(owner.actor, {"external_id": "never", "name": "Never used"})
    run = score_workspace(workspace)
    assert ranks(workspace) == {"busy": "good", "light": "average", "gone": "poor", "never": "poor"}
    assert (run.accounts, run.changed, run.rank_changes) == (4, 4, 4)
    assert run.distribution == {"good": 1, "average": 1, "poor": 2, "unscored": 0}


def test_scoring_again_with_nothing_new_writes_nothing(workspace):
    use(workspace, "busy", 0, 1, 2, 3)
    score_workspace(workspace)
    again = score_workspace(workspace)
    assert (again.changed, again.rank_changes) == (0, 0)
    assert HealthChange.objects.count() == 1 and HealthSnapshot.objects.count() == 1


def test_a_change_of_rank_is_recorded_with_its_snapshot_and_rank_since(workspace):
    use(workspace, "acme", 2)
    score_workspace(workspace, now=NOW)
    first = AccountHealth.objects.get()
    use(workspace, "acme", 0, 1, 3)
    later = NOW + datetime.timedelta(minutes=5)
    run = score_workspace(workspace, now=later)
    assert run.rank_changes == 1
    health = AccountHealth.objects.get()
    assert (health.rank, health.rank_since) == ("good", later)
    assert first.rank_since < health.rank_since
    change = HealthChange.objects.order_by("-id").first()
    assert (change.from_rank, change.to_rank, change.score) == ("average", "good", 100.0)
    # One snapshot a day: the day's last state.
    assert list(HealthSnapshot.objects.values_list("rank", flat=True)) == ["good"]


def test_deleting_an_account_deletes_its_health_history_and_changes(workspace, owner):
    # The health tables have no foreign-key constraints in the database: the ORM cascades.
    use(workspace, "gone", 2)
    use(workspace, "stays", 2)
    score_workspace(workspace, now=NOW)
    use(workspace, "gone", 0, 1, 3)
    score_workspace(workspace, now=NOW + datetime.timedelta(days=1))
    gone = Account.objects.get(external_id="gone")
    assert HealthSnapshot.objects.filter(account=gone).count() == 2
    delete_account(owner.actor, gone)
    for model in (AccountHealth, HealthSnapshot, HealthChange):
        assert not model.objects.filter(account_id=gone.pk).exists()
        assert model.objects.filter(account__external_id="stays").exists()


def test_health_written_for_an_account_deleted_meanwhile_goes_at_the_next_scoring(workspace):
    use(workspace, "gone", 2)
    use(workspace, "stays", 2)
    score_workspace(workspace, now=NOW)
    gone = Account.objects.get(external_id="gone")
    # As if a scoring had read the account just before it was deleted and written its
    # health after the deletion cascaded: nothing in the database refuses the rows.
    EndUser.objects.filter(account=gone).update(account=None)
    Account.objects.filter(pk=gone.pk)._raw_delete(Account.objects.db)
    assert AccountHealth.objects.filter(account_id=gone.pk).exists()
    score_workspace(workspace, now=NOW)
    for model in (AccountHealth, HealthSnapshot, HealthChange):
        assert not model.objects.filter(account_id=gone.pk).exists()
        assert model.objects.filter(account__external_id="stays").exists()


def test_a_weighted_profile_reads_usage_attributes_and_custom_metrics(workspace, owner):
    AttributeDefinition.objects.create(
        workspace=workspace, key="renewal_date", label="Renewal date", type=AttributeType.DATE
    )
    use(workspace, "acme", 0, 1, 2)
    use(workspace, "beta", 1, user="a")
    use(workspace, "beta", 1, user="b")
    soon = (NOW + datetime.timedelta(days=20)).date().isoformat()
    later = (NOW + datetime.timedelta(days=200)).date().isoformat()
    update_account(
        owner.actor,
        Account.objects.get(external_id="acme"),
        {"attributes": {"renewal_date": later}},
    )
    update_account(
        owner.actor, Account.objects.get(external_id="beta"), {"attributes": {"renewal_date": soon}}
    )
    today = (NOW.date() - datetime.date(1970, 1, 1)).days
    metrics = [
        MetricFact(0, "acme", "api_calls", 900, today),
        MetricFact(1, "beta", "api_calls", 50, today),
    ]
    ingest(workspace, Intake(source=Source.API, received=2, metrics=metrics))
    definition = {
        "kind": "weighted",
        "dimensions": [
            {
                "key": "usage",
                "weight": 50,
                "metrics": [
                    {"source": "usage.active_users_14d", "weight": 100, "good": 2, "poor": 1}
                ],
            },
            {
                "key": "commercial",
                "weight": 50,
                "metrics": [
                    {
                        "source": "attributes.renewal_date",
                        "params": {"as": "days_until"},
                        "weight": 50,
                        "good": 90,
                        "poor": 30,
                    },  # fmt: skip
                    {
                        "source": "metrics.api_calls",
                        "params": {"aggregate": "latest"},
                        "weight": 50,
                        "grading": "linear",
                        "low": 0,
                        "high": 1000,
                    },  # fmt: skip
                ],
            },
        ],
    }
    profile = create_profile(owner.actor, {"name": "Enterprise", "definition": definition})
    make_default(owner.actor, profile)
    score_workspace(workspace)
    health = {h.account.external_id: h for h in AccountHealth.objects.select_related("account")}
    # acme: usage 60 (1 user: average) · commercial (100 + 90) / 2 = 95 → 77.5, good
    assert (health["acme"].score, health["acme"].rank) == (77.5, "good")
    assert health["acme"].dimensions == {"usage": 60.0, "commercial": 95.0}
    # beta: usage 100 (2 users) · commercial (0 + 5) / 2 = 2.5 → 51.25, average
    assert (health["beta"].score, health["beta"].rank) == (51.2, "average")


def test_a_parent_can_be_scored_from_its_children(workspace, owner):
    create_account(owner.actor, {"external_id": "group", "name": "Group"})
    for child, days in (("child-a", (0, 1, 2, 3)), ("child-b", (30,))):
        create_account(
            owner.actor, {"external_id": child, "name": child, "parent_external_id": "group"}
        )
        use(workspace, child, *days)
    definition = {
        "kind": "weighted",
        "parent": {"mode": "mean"},
        "dimensions": [
            {
                "key": "usage",
                "weight": 100,
                "metrics": [
                    {
                        "source": "usage.active_days_14d",
                        "weight": 100,
                        "good": 4,
                        "poor": 1,
                        "missing": "poor",
                    }
                ],
            }
        ],
    }
    default = HealthProfile.objects.get(is_default=True)
    update_profile(owner.actor, default, {"definition": definition})
    score_workspace(workspace)
    # child-a 100, child-b 0 → the group is their mean, 50: average
    assert (
        AccountHealth.objects.get(account__external_id="group").score,
        ranks(workspace)["group"],
    ) == (50.0, "average")


def test_saving_a_definition_makes_a_version_and_rolling_back_makes_another(workspace, owner):
    profile = HealthProfile.objects.get(is_default=True)
    stricter = {**CLASSIC_DEFINITION, "metrics": [{**CLASSIC_DEFINITION["metrics"][0], "good": 8}]}
    update_profile(owner.actor, profile, {"definition": stricter, "note": "Stricter"})
    first = ProfileVersion.objects.get(profile=profile, number=1)
    back = roll_back(owner.actor, profile, first)
    assert back.number == 3 and back.definition == CLASSIC_DEFINITION
    assert "version 1" in back.note
    assert list(profile.versions.values_list("number", flat=True)) == [3, 2, 1]


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        (
            {"kind": "rules", "metrics": [{"source": "usage.nope", "good": 1, "poor": 0}]},
            "definition.metrics.0.source",
        ),
        (
            {"kind": "rules", "metrics": [{"source": "attributes.plan", "good": 1, "poor": 0}]},
            "definition.metrics.0.source",
        ),
        (
            {
                "kind": "weighted",
                "dimensions": [
                    {
                        "key": "a",
                        "weight": 50,
                        "metrics": [
                            {"source": "usage.events_7d", "weight": 100, "good": 1, "poor": 0}
                        ],
                    }
                ],
            },
            "definition.dimensions",
        ),
        ("not a definition", "definition.definition"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field(workspace, owner, definition, field):
    with pytest.raises(InvalidInput) as caught:
        create_profile(owner.actor, {"name": "Bad", "definition": definition})
    assert caught.value.field == field
    assert not HealthProfile.objects.filter(name="Bad").exists()


def test_the_default_profile_cannot_be_deleted_and_only_admins_change_profiles(
    workspace, owner, practitioner
):
    default = HealthProfile.objects.get(is_default=True)
    with pytest.raises(InvalidInput):
        delete_profile(owner.actor, default)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        update_profile(practitioner.actor, default, {"name": "Mine"})


def test_a_workspace_is_scored_again_when_its_inputs_change_or_its_day_moves(workspace, owner):
    assert jobs.needs_scoring(workspace)
    score_workspace(workspace)
    assert not jobs.needs_scoring(workspace)
    use(workspace, "acme", 0)  # the rollup refreshes acme's usage
    assert jobs.needs_scoring(workspace)
    score_workspace(workspace)
    assert not jobs.needs_scoring(workspace)
    assert jobs.needs_scoring(workspace, now=timezone.now() + datetime.timedelta(days=1))
