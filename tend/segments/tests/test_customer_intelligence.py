"""The built-in Customer Intelligence scorecard: in every new workspace, counting the
accounts whose data is incomplete, each card clicking through to exactly those accounts;
and the hourly job that records every card's value for its trend."""

import datetime
import json
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from tend.accounts.conditions import matching_accounts
from tend.jobs.models import Job
from tend.jobs.registry import enqueue
from tend.jobs.runner import claim_next, run_job
from tend.schedule import SCHEDULE
from tend.segments.actions.evaluation import local_day
from tend.segments.actions.scorecards import install_customer_intelligence, record_card_values
from tend.segments.cards import show_cards
from tend.segments.customer_intelligence import CHECKS, TOLERANCE
from tend.segments.kpis import AT_RISK, NO_TARGET, NO_VALUE, ON_TRACK
from tend.segments.scorecard_models import KpiValue, Scorecard
from tend.segments.scorecard_queries import cards_of
from tend.segments.tests.scorecard_world import build_book, names
from tend.test import PASSWORD
from tend.workspaces.actions import create_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(owner):
    return build_book(owner)


def shown_by_title(workspace) -> dict:
    scorecard = Scorecard.objects.get(workspace=workspace, template="customer_intelligence")
    return {s.card.title: s for s in show_cards(workspace, cards_of(scorecard))}


def test_a_new_workspace_starts_with_the_customer_intelligence_scorecard(db):
    workspace, _owner = create_workspace(
        "Initech CS", owner_email="boss@initech.test", owner_password=PASSWORD
    )
    scorecard = Scorecard.objects.get(workspace=workspace)
    assert (scorecard.name, scorecard.visibility, scorecard.template) == (
        "Customer Intelligence",
        "shared",
        "customer_intelligence",
    )
    assert [c.title for c in cards_of(scorecard)] == [check["title"] for check in CHECKS]


def test_in_a_new_workspace_cards_needing_attributes_say_which_to_add(db):
    workspace, _owner = create_workspace(
        "Initech CS", owner_email="boss@initech.test", owner_password=PASSWORD
    )
    shown = shown_by_title(workspace)
    renewal = shown["Paying, without a renewal date"]
    assert renewal.status == NO_VALUE
    assert renewal.reading.problem.startswith(
        "Needs the account attribute 'renewal_date', which this workspace does not have"
    )
    # The checks that need no attribute count from the start: nothing to fix yet.
    assert shown["Without a journey stage"].status == ON_TRACK
    assert shown["Customers"].status == NO_TARGET


def test_installing_it_again_keeps_the_one_there(owner):
    first = install_customer_intelligence(owner.workspace)
    assert install_customer_intelligence(owner.workspace) == first
    assert Scorecard.objects.filter(workspace=owner.workspace).count() == 1


def test_it_counts_the_accounts_missing_each_piece_of_data(owner, book):
    install_customer_intelligence(owner.workspace)
    shown = shown_by_title(owner.workspace)
    counts = {title: s.reading.value for title, s in shown.items()}
    assert counts == {
        "Customers": 5.0,  # all but stark, churned
        "Without a journey stage": 2.0,  # initech, hooli
        "Without a Success Manager": 2.0,  # initech, hooli
        "Paying, without a renewal date": 1.0,  # globex
        "Paying, without a contract value": 1.0,  # initech
        "Paying, no usage in 30 days": 2.0,  # globex (40 days ago), initech (never)
        "Never sent usage": 2.0,  # initech, hooli
    }
    assert {s.status for title, s in shown.items() if title != "Customers"} == {AT_RISK}
    assert shown["Without a journey stage"].target == f"at most 0 · at risk to {TOLERANCE}"


def test_each_card_clicks_through_to_the_accounts_it_counts(owner, book):
    install_customer_intelligence(owner.workspace)
    shown = shown_by_title(owner.workspace)
    expected = {
        "Without a journey stage": {"initech", "hooli"},
        "Paying, without a renewal date": {"globex"},
        "Paying, no usage in 30 days": {"globex", "initech"},
    }
    for title, accounts in expected.items():
        url = urlparse(shown[title].url)
        assert url.path == "/accounts/"
        where = json.loads(parse_qs(url.query)["where"][0])
        assert names(matching_accounts(owner.workspace, where)) == accounts


def run_jobs() -> None:
    while (job := claim_next("test")) is not None:
        run_job(job, "test")


def test_card_values_are_recorded_every_hour(db):
    entry = next(e for e in SCHEDULE if e.kind == "segments.record_card_values")
    assert entry.every == datetime.timedelta(hours=1)


def test_the_hourly_job_records_every_cards_value_of_the_day(owner, book):
    scorecard = install_customer_intelligence(owner.workspace)
    KpiValue.objects.filter(workspace=owner.workspace).delete()
    job = enqueue("segments.record_card_values", {})
    run_jobs()
    assert Job.objects.get(pk=job.pk).status == "succeeded"
    today = local_day(owner.workspace, timezone.now())
    recorded = dict(
        KpiValue.objects.filter(card__scorecard=scorecard).values_list("card__title", "value")
    )
    assert recorded["Without a journey stage"] == 2.0
    assert set(KpiValue.objects.values_list("day", flat=True)) == {today}


def test_recording_again_the_same_day_keeps_the_days_last_value(owner, book):
    scorecard = install_customer_intelligence(owner.workspace)
    card = next(c for c in cards_of(scorecard) if c.title == "Without a journey stage")
    later = timezone.now() + datetime.timedelta(minutes=1)
    book["initech"].stage_id = book["acme"].stage_id
    book["initech"].save(update_fields=["stage"])
    assert record_card_values(owner.workspace, now=later) == len(CHECKS)
    assert list(KpiValue.objects.filter(card=card).values_list("value", flat=True)) == [1.0]


def test_a_card_without_a_value_records_nothing(db):
    workspace, _owner = create_workspace(
        "Initech CS", owner_email="boss@initech.test", owner_password=PASSWORD
    )
    recorded = set(
        KpiValue.objects.filter(workspace=workspace).values_list("card__title", flat=True)
    )
    assert "Paying, without a renewal date" not in recorded
    assert "Without a journey stage" in recorded


def test_a_card_waiting_for_its_attribute_still_takes_a_new_target(db):
    from tend.segments.actions.scorecards import update_card
    from tend.workspaces.access import Actor

    workspace, owner = create_workspace(
        "Initech CS", owner_email="boss@initech.test", owner_password=PASSWORD
    )
    scorecard = Scorecard.objects.get(workspace=workspace)
    card = scorecard.cards.get(title="Paying, without a renewal date")
    update_card(Actor(workspace=workspace, member=owner), card, {"target": 2})
    card.refresh_from_db()
    assert card.target == 2
