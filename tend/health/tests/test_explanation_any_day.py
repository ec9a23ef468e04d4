"""The explanation for any account and any day: the version the history recorded that day, on
the inputs as of that day — through the API (``?date=``) and in the profile's health panel
(a day picked, a change of rank, ``?health_date=``), with a clear error naming the date for a
day that cannot be explained."""

import datetime
import re

import pytest
from django.urls import reverse

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account, AttributeDefinition, AttributeType
from tend.health import sources
from tend.health.actions.history import RUN_HOUR, backfill_history
from tend.health.actions.profiles import ensure_default_profile, update_profile
from tend.health.actions.scoring import score_workspace
from tend.health.models import HealthSnapshot
from tend.health.tests.churn_world import use
from tend.lib.dates import date_of
from tend.usage.rollups import roll_up

pytestmark = pytest.mark.django_db
STRICTER_THEN_LAXER = {
    "kind": "rules",
    "metrics": [
        {"source": "usage.active_days_14d", "label": "Active days", "good": 3, "poor": 1,
         "missing": "poor"}
    ],
}  # fmt: skip


@pytest.fixture
def history(workspace, owner):
    """acme: used every day from T-60 to T-31, then not at all; 30 days of history replayed
    (Good from T-30, Average from T-20, Poor from T-17), then scored today."""
    t = sources.local_today(workspace)
    create_account(owner.actor, {"external_id": "acme", "name": "Acme", "status": "paying"})
    use(workspace, "acme", list(range(t - 60, t - 30)))
    roll_up()
    backfill_history(workspace, 30)
    score_workspace(workspace)
    return t


def acme() -> Account:
    return Account.objects.get(external_id="acme")


def explain(persona, day: int | str | None = None):
    query = ""
    if day is not None:
        query = f"?date={day if isinstance(day, str) else date_of(day).isoformat()}"
    return persona.api.get(f"/api/v1/accounts/{acme().pk}/health{query}")


def error_of(response) -> tuple[str, str]:
    assert response.status_code == 422, response.content
    error = response.json()["errors"][0]
    return error["field"], error["message"]


def metric(body) -> dict:
    return body["dimensions"][0]["metrics"][0]


# --- API ---------------------------------------------------------------------------------------


def test_a_past_day_is_explained_on_the_usage_of_that_day(owner, history):
    t = history
    body = explain(owner, t - 20).json()
    assert body["date"] == date_of(t - 20).isoformat()
    assert (body["rank"], body["score"]) == ("average", 60.0)
    assert body["recorded"] == {"rank": "average", "score": 60.0}
    # Used on T-33, T-32 and T-31: 3 of the 14 days up to T-20.
    assert (metric(body)["value"], metric(body)["grade"]) == (3.0, "average")
    assert metric(body)["read_as_now"] is False
    assert body["to_next_rank"] == [
        {"metric": "rules.0", "label": "Active days, last 14 days", "from": 3.0, "to": 4.0,
         "rank": "good"}
    ]  # fmt: skip
    moment = datetime.datetime.combine(date_of(t - 20), datetime.time(RUN_HOUR), datetime.UTC)
    assert datetime.datetime.fromisoformat(body["rank_since"]) == moment
    assert body["computed_at"] is None
    good = explain(owner, t - 25).json()
    assert (good["rank"], metric(good)["value"], good["to_next_rank"]) == ("good", 8.0, [])


def test_today_is_the_default_and_says_what_is_stored(owner, history):
    t = history
    body = explain(owner).json()
    assert body["date"] == date_of(t).isoformat()
    assert (body["rank"], metric(body)["value"]) == ("poor", 0.0)
    assert body["recorded"] == {"rank": "poor", "score": 0.0}
    assert body["computed_at"] is not None
    assert explain(owner, t).json() == body


def test_a_past_day_uses_the_version_that_scored_it_then(owner, workspace, history):
    t = history
    profile = ensure_default_profile(workspace)
    update_profile(owner.actor, profile, {"definition": STRICTER_THEN_LAXER})
    score_workspace(workspace)
    then = explain(owner, t - 20).json()
    # Version 2 would call 3 active days Good; version 1 scored that day, and said Average.
    assert (then["version"]["number"], then["rank"]) == (1, "average")
    assert explain(owner).json()["version"]["number"] == 2


def test_an_attribute_on_a_past_day_is_marked_as_read_as_it_is_now(owner, workspace, history):
    t = history
    AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type=AttributeType.NUMBER
    )
    Account.objects.filter(pk=acme().pk).update(attributes={"seats": 12})
    profile = ensure_default_profile(workspace)
    seats = {"kind": "rules", "metrics": [
        {"source": "usage.active_days_14d", "good": 4, "poor": 1, "missing": "poor"},
        {"source": "attributes.seats", "good": 10, "poor": 2},
    ]}  # fmt: skip
    update_profile(owner.actor, profile, {"definition": seats})
    profile.refresh_from_db()
    HealthSnapshot.objects.filter(account=acme(), day=t - 17).update(
        version=profile.current_version
    )
    body = explain(owner, t - 10).json()
    usage, attribute = body["dimensions"][0]["metrics"]
    assert (usage["read_as_now"], attribute["read_as_now"]) == (False, True)
    assert attribute["value"] == 12.0


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (lambda t: date_of(t + 1).isoformat(), "is after today"),
        (lambda t: date_of(t - 31).isoformat(), "its history starts on"),
        (lambda t: "2024-02-30", "date"),
        (lambda t: "yesterday", "date"),
    ],
)
def test_a_day_that_cannot_be_explained_is_a_422_naming_the_date(owner, history, when, message):
    field, text = error_of(explain(owner, when(history)))
    assert field == "date"
    assert message in text or message == "date"


def test_a_day_scored_by_a_profile_deleted_since_says_so(owner, history):
    t = history
    HealthSnapshot.objects.filter(account=acme(), day=t - 20).update(version=None)
    field, message = error_of(explain(owner, t - 19))
    assert field == "date" and "deleted since" in message and "average" in message


def test_an_account_never_scored_has_no_past_to_explain(owner, workspace, history):
    create_account(owner.actor, {"external_id": "new", "name": "New", "status": "paying"})
    account = Account.objects.get(external_id="new")
    response = owner.api.get(
        f"/api/v1/accounts/{account.pk}/health?date={date_of(history - 3).isoformat()}"
    )
    assert error_of(response) == (
        "date",
        f"the account has no health recorded on or before {date_of(history - 3).isoformat()}; "
        "it has not been scored yet",
    )


def test_a_viewer_reads_any_day_and_an_outsider_gets_404(viewer, outsider, history):
    assert explain(viewer, history - 20).json()["rank"] == "average"
    assert explain(outsider, history - 20).status_code == 404


# --- the profile's health panel ------------------------------------------------------------------


def fragment_url(account, day: int | None = None) -> str:
    url = reverse("health:account_explanation", args=[account.pk])
    return f"{url}?date={date_of(day).isoformat()}" if day is not None else url


def test_the_panel_explains_the_day_in_its_address(owner, history):
    t = history
    html = owner.browser.get(
        f"/accounts/{acme().pk}/?health_date={date_of(t - 20).isoformat()}"
    ).content.decode()
    block = html[html.index('id="health-explanation"') :]
    assert f'data-date="{date_of(t - 20).isoformat()}"' in html
    assert re.search(r'data-testid="explained-day">\s*On <strong>', block)
    assert "Why Average" in block
    assert "What would have lifted it then" in block
    assert re.search(r"<strong>Active days, last 14 days</strong>: 3 → 4", block)
    # The KPIs above still say where the account stands today.
    assert '<span class="badge rank rank-poor rank-big">Poor</span>' in html


def test_htmx_swaps_in_the_explanation_of_a_day_and_the_address_follows(owner, history):
    t = history
    response = owner.browser.get(fragment_url(acme(), t - 25), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="health-explanation"' in html and "Why Good" in html
    assert response["HX-Push-Url"] == (
        f"/accounts/{acme().pk}/?health_date={date_of(t - 25).isoformat()}"
    )
    today = owner.browser.get(fragment_url(acme()), HTTP_HX_REQUEST="true")
    assert "Why Poor" in today.content.decode()
    assert today["HX-Push-Url"] == f"/accounts/{acme().pk}/"


def test_without_htmx_the_fragment_address_opens_the_profile_on_that_day(owner, history):
    response = owner.browser.get(fragment_url(acme(), history - 25))
    assert response.status_code == 302
    assert response["Location"] == (
        f"/accounts/{acme().pk}/?health_date={date_of(history - 25).isoformat()}#health"
    )


def test_a_day_that_cannot_be_explained_is_said_beside_the_date(owner, history):
    t = history
    html = owner.browser.get(fragment_url(acme(), t - 45), HTTP_HX_REQUEST="true").content.decode()
    error = re.search(r'<div class="error" role="alert" id="health-date-error">([^<]*)<', html)
    assert error and "its history starts on" in error.group(1)
    assert f'value="{date_of(t - 45).isoformat()}"' in html and 'aria-invalid="true"' in html
    assert "Why Poor" in html  # today's explanation stays


def test_each_change_of_rank_links_to_the_explanation_of_its_day(owner, history):
    t = history
    html = owner.browser.get(f"/accounts/{acme().pk}/").content.decode()
    links = re.findall(r'hx-get="([^"]+)" hx-target="#health-explanation"', html)
    assert fragment_url(acme(), t - 20) in links and fragment_url(acme(), t - 17) in links
    chart = re.search(r'"explain_url": "([^"]+)"', html)
    assert chart and chart.group(1) == fragment_url(acme())


def test_the_explanation_of_a_day_is_404_for_an_outsider(outsider, history):
    response = outsider.browser.get(fragment_url(acme(), history - 20), HTTP_HX_REQUEST="true")
    assert response.status_code == 404
