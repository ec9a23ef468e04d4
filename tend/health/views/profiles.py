"""Health settings: the profiles in the order they are tried, a new profile, moving one,
making one the default, deleting one, and each profile's version history with compare and
roll back. The editor with its live preview is :mod:`tend.health.views.editor`.

Every member reads these pages; changes need an admin seat (the actions check it). Another
workspace's profile answers 404.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.accounts.views.accounts.common import member_required
from tend.health import compare as comparing
from tend.health import sources
from tend.health.actions import profiles as actions
from tend.health.actions.profiles import CLASSIC_DEFINITION
from tend.health.conditions import profile_catalog
from tend.health.models import HealthProfile, ProfileVersion
from tend.health.queries import scored_counts
from tend.health.scoring import DefinitionError, parse_definition
from tend.health.views.profile_form import (
    STARTER_METRIC,
    condition_words,
    definition_summary,
)
from tend.lib.conditions import validate
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, READ, get_for

PAGE_SIZE = 50
VERSIONS_PAGE_SIZE = 25
BLANK_WEIGHTED = {
    "kind": "weighted",
    "dimensions": [
        {
            "key": "usage",
            "label": "Usage",
            "weight": 100,
            "metrics": [{**STARTER_METRIC, "weight": 100}],
        }
    ],
}


def profile_for(request, profile_id: int, right: str = READ) -> HealthProfile:
    queryset = HealthProfile.objects.select_related("current_version__created_by__user")
    return get_for(request.actor, queryset, right, pk=profile_id)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@member_required
@require_GET
def profile_list(request):
    """The profiles in the order they are tried (the default last), each with the condition
    in words, its current version and how many accounts it scored."""
    actor = request.actor
    workspace = actor.workspace
    actions.ensure_default_profile(workspace)
    queryset = (
        HealthProfile.objects.filter(workspace=workspace)
        .select_related("current_version__created_by__user")
        .order_by("is_default", "position", "id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    profiles = list(page.object_list)
    counts = scored_counts(workspace, [p.pk for p in profiles])
    catalog = profile_catalog(workspace)
    missing = _missing_metrics(workspace, profiles)
    last_position = HealthProfile.objects.filter(workspace=workspace, is_default=False).count() - 1
    rows = []
    for profile in profiles:
        problems = validate(profile.condition, catalog) if profile.condition else []
        rows.append(
            {
                "profile": profile,
                "order": "—" if profile.is_default else profile.position + 1,
                "condition": condition_words(profile.condition, catalog),
                "condition_problem": problems[0].message if problems else "",
                "summary": definition_summary(profile.current_version.definition)
                if profile.current_version
                else "",
                "accounts": counts.get(profile.pk, 0),
                "missing_metrics": missing.get(profile.pk, []),
            }
        )
    context = {
        "rows": rows,
        "page": page,
        "last_position": last_position,
        "can_admin": actor.can(ADMIN),
        "total_scored": sum(counts.values()),
    }
    return render(request, "health/profiles.html", context)


def _missing_metrics(workspace, profiles: list[HealthProfile]) -> dict[int, list[str]]:
    """Per profile, the metrics its current version uses that no longer exist (an attribute
    or custom metric deleted since it was saved): they score as missing values. Only the
    sources the profiles use are asked what they offer (usage asks no query)."""
    used: dict[int, set[str]] = {}
    for profile in profiles:
        if profile.current_version is None:
            continue
        try:
            definition = parse_definition(profile.current_version.definition)
        except DefinitionError:
            continue
        used[profile.pk] = {rule.source for rule in definition.metrics}
    asked = {sources.source_for(key) for keys in used.values() for key in keys}
    known = {c.source for source in asked if source for c in source.choices(workspace)}
    return {pk: sorted(keys - known) for pk, keys in used.items() if keys - known}


@member_required
@require_http_methods(["GET", "POST"])
def profile_new(request):
    """A new profile, started from a copy of an existing one, the classic rule or a blank
    weighted profile. It has no condition yet, so it scores nobody until it is given one."""
    actor = request.actor
    actor.require(ADMIN)
    workspace = actor.workspace
    copyable = list(
        HealthProfile.objects.filter(workspace=workspace, current_version__isnull=False)
        .select_related("current_version")
        .order_by("is_default", "position", "id")[:PAGE_SIZE]
    )
    starts = [
        ("weighted", "A weighted profile with one usage dimension"),
        ("classic", "The classic usage rule"),
        *((f"copy-{p.pk}", f"A copy of “{p.name}”") for p in copyable),
    ]
    error, name, start = None, "", "weighted"
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()
        start = request.POST.get("start") or "weighted"
        copies = {f"copy-{p.pk}": p for p in copyable}
        if start == "classic":
            definition = CLASSIC_DEFINITION
        elif start in copies:
            definition = copies[start].current_version.definition
        else:
            definition = BLANK_WEIGHTED
        note = f"Copied from “{copies[start].name}”" if start in copies else "First version"
        try:
            profile = actions.create_profile(
                actor, {"name": name, "definition": definition, "note": note}
            )
        except InvalidInput as exc:
            error = exc
        else:
            messages.success(
                request,
                f"Profile “{profile.name}” created. Give it a condition: until then it scores no account.",
            )
            return redirect("health:profile", profile_id=profile.pk)
    context = {"starts": starts, "error": error, "name": name, "start": start}
    return render(request, "health/profiles_new.html", context, status=422 if error else 200)


@member_required
@require_POST
def profile_move(request, profile_id: int):
    """Try a profile one place earlier or later (the list's arrows)."""
    profile = profile_for(request, profile_id, ADMIN)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction"))
    if step is None or profile.is_default:
        messages.error(request, "Only profiles other than the default move, up or down.")
    else:
        actions.update_profile(
            request.actor, profile, {"position": max(0, profile.position + step)}
        )
    return redirect("health:profiles")


@member_required
@require_POST
def profile_make_default(request, profile_id: int):
    profile = profile_for(request, profile_id, ADMIN)
    actions.make_default(request.actor, profile)
    messages.success(
        request,
        f"“{profile.name}” now scores every account no other profile claims. The previous "
        "default is tried first and scores nobody until it has a condition.",
    )
    return redirect("health:profiles")


@member_required
@require_http_methods(["GET", "POST"])
def profile_delete(request, profile_id: int):
    profile = profile_for(request, profile_id, ADMIN)
    if profile.is_default:
        messages.error(
            request,
            "The default profile scores every other account: make another profile the default first.",
        )
        return redirect("health:profiles")
    if request.method == "POST":
        rescored = actions.delete_profile(request.actor, profile)
        messages.success(
            request,
            f"Profile “{profile.name}” deleted; {_plural(rescored, 'account')} it scored "
            f"{'was' if rescored == 1 else 'were'} scored again by the next profile or the default.",
        )
        return redirect("health:profiles")
    count = scored_counts(profile.workspace, [profile.pk]).get(profile.pk, 0)
    return render(request, "health/profiles_delete.html", {"profile": profile, "count": count})


# --- Versions --------------------------------------------------------------------------------


@member_required
@require_GET
def profile_versions(request, profile_id: int):
    """Every version, newest first, with its note and author; compare any two, roll back."""
    profile = profile_for(request, profile_id)
    queryset = ProfileVersion.objects.filter(profile=profile).select_related("created_by__user")
    page = Paginator(queryset.order_by("-number"), VERSIONS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    versions = list(page.object_list)
    rows = [
        {"version": v, "summary": definition_summary(v.definition), "previous": v.number - 1}
        for v in versions
    ]
    latest = profile.current_version.number if profile.current_version else 0
    context = {
        "profile": profile,
        "rows": rows,
        "page": page,
        "can_admin": request.actor.can(ADMIN),
        "latest": latest,
        "newest": versions[0].number if versions else 0,
    }
    return render(request, "health/profiles_versions.html", context)


def _number(raw, default: int) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


@member_required
@require_GET
def profile_compare(request, profile_id: int):
    """Two versions side by side: settings, then each dimension and metric, what changed
    marked."""
    profile = profile_for(request, profile_id)
    newest = ProfileVersion.objects.filter(profile=profile).order_by("-number").first()
    top = newest.number if newest else 1
    to = _number(request.GET.get("to"), top)
    since = _number(request.GET.get("from"), max(1, to - 1))
    found = {
        v.number: v
        for v in ProfileVersion.objects.filter(
            profile=profile, number__in=[since, to]
        ).select_related("created_by__user")
    }
    missing = [n for n in (since, to) if n not in found]
    diff = None
    if not missing:
        diff = comparing.compare(found[since].definition, found[to].definition)
        labels = {c.source: c.label for c in sources.choices(profile.workspace)}
        for setting in diff["settings"]:
            for side in ("before", "after"):
                if isinstance(setting[side], float):
                    setting[side] = f"{setting[side]:g}"
        for dimension in diff["dimensions"]:
            for metric in dimension["metrics"]:
                if metric["label"] == metric["source"]:
                    metric["label"] = labels.get(metric["source"], metric["source"])
                metric["sides"] = [
                    _metric_side(metric[side], metric["changes"], dimension["key"] == "rules")
                    for side in ("before", "after")
                ]
    context = {
        "profile": profile,
        "since": found.get(since),
        "to": found.get(to),
        "from_number": since,
        "to_number": to,
        "top": top,
        "missing": missing,
        "diff": diff,
        "can_admin": request.actor.can(ADMIN),
    }
    return render(request, "health/profiles_compare.html", context, status=404 if missing else 200)


SIDE_LABELS = {
    "weight": "Weight",
    "grading": "Grading",
    "direction": "Better when",
    "good": "Good",
    "poor": "Poor",
    "low": "Low bound",
    "high": "High bound",
    "categories": "Grades",
    "missing": "When missing",
}
VALUE_WORDS = {
    "higher": "higher",
    "lower": "lower",
    "thresholds": "thresholds",
    "linear": "linear",
    "categories": "by value",
    "ignore": "ignored",
    "poor": "counts as Poor",
    "average": "counts as Average",
}


def _metric_side(fields: dict | None, changes: list[str], rules: bool) -> list[dict] | None:
    """One side of a metric in the comparison: its settings that apply, as words."""
    if fields is None:
        return None
    shown = []
    for name, label in SIDE_LABELS.items():
        value = fields.get(name)
        if value is None or (rules and name == "weight"):
            continue
        if name == "categories":
            value = ", ".join(f"{k}: {v.capitalize()}" for k, v in value.items())
        elif name == "weight":
            value = f"{value:g}%"
        elif isinstance(value, float):
            value = f"{value:g}"
        else:
            value = VALUE_WORDS.get(value, value)
        shown.append({"label": label, "value": value, "changed": name in changes})
    return shown


@member_required
@require_POST
def profile_rollback(request, profile_id: int, number: int):
    profile = profile_for(request, profile_id, ADMIN)
    version = ProfileVersion.objects.filter(profile=profile, number=number).first()
    if version is None:
        messages.error(request, f"The profile has no version {number}.")
        return redirect("health:profile_versions", profile_id=profile.pk)
    try:
        new = actions.roll_back(request.actor, profile, version)
    except InvalidInput as exc:
        messages.error(
            request,
            f"Version {number} cannot be restored: {exc.message} ({exc.field}). "
            "Edit the profile instead and choose another metric.",
        )
    else:
        messages.success(
            request, f"Rolled back: version {new.number} has the definition of version {number}."
        )
    return redirect(reverse("health:profile_versions", kwargs={"profile_id": profile.pk}))
