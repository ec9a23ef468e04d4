"""The profile editor: kind, dimensions, metrics, grading, weights, missing values, ranks,
parents and the assignment condition, with the live preview beside it.

One form holds the whole profile (:mod:`tend.health.views.profile_form` names its fields).

* **Structural edits** (add, remove or move a dimension, metric or clause; a new metric,
  grading or kind picked) post the form with ``op`` and get the form back re-drawn — the
  form's inner HTML through htmx, or the whole page without JavaScript. Nothing is saved.
* **Live preview**: every edit posts the form to :func:`profile_preview` (htmx, debounced),
  which checks the draft as saving would and answers the preview panel: distributions of
  the draft against the saved profile, how many accounts would change rank, the top movers
  — or the errors, which ``static/health/editor.js`` puts beside their fields.
* **Save** (``op=save``) checks and saves: a changed definition becomes a new version with
  the note; errors come back beside their fields (422).
"""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tend.accounts.models import AttributeDefinition, AttributeType, ObjectType
from tend.accounts.views.accounts.common import member_required
from tend.health import sources
from tend.health.actions import preview as previewing
from tend.health.actions import profiles as actions
from tend.health.conditions import profile_catalog
from tend.health.queries import scored_counts
from tend.health.scoring import DefinitionError, parse_definition
from tend.health.sources import CATEGORY
from tend.health.views import profile_form as form
from tend.health.views.profiles import profile_for
from tend.lib.conditions import InvalidCondition, Shape, field_operators
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN

RANK_ORDER = ("good", "average", "poor", "unscored")
RANK_LABELS = {"good": "Good", "average": "Average", "poor": "Poor", "unscored": "No score"}


# --- what the form shows ---------------------------------------------------------------------


def _under(errors: dict, prefix: str) -> dict:
    """The errors of the fields named ``prefix…``, by the rest of their name."""
    return {k.removeprefix(prefix): v for k, v in errors.items() if k.startswith(prefix)}


def _metric_view(
    i: int, j: int, row: form.MetricRow, choices: dict, weighted: bool, errors: dict
) -> dict:
    choice = choices.get(row.source)
    is_category = choice is not None and choice.kind == CATEGORY
    categories = []
    if is_category:
        known = list(choice.categories)
        known += [v for v in row.categories if v not in known]
        categories = [(value, row.categories.get(value, "")) for value in known]
    params = []
    for name in choice.params if choice else ():
        params.append(
            {
                "name": name,
                "value": row.params.get(name) or form.PARAM_DEFAULTS[name],
                "choices": form.CHOICES.get("aggregate" if name == "aggregate" else name),
            }
        )
    return {
        "i": i,
        "j": j,
        "prefix": f"d-{i}-m-{j}-",
        "row": row,
        "choice": choice,
        "known": choice is not None,
        "is_category": is_category,
        "grading": "categories" if is_category else row.grading,
        "linear_allowed": weighted,
        "categories": categories,
        "params": params,
        "errors": _under(errors, f"d-{i}-m-{j}-"),
        "higher": row.direction != "lower",
    }


def _clause_view(k: int, clause: form.Clause, catalog, errors: dict) -> dict:
    spec = catalog.get(clause.field)
    # The field's own operators (``segment`` takes only in / not in), without the change
    # operators: a profile's assignment is about accounts as they are.
    ops = [o for o in field_operators(spec) if not o.is_change] if spec is not None else []
    operator = next((o for o in ops if o.name == clause.op), ops[0] if ops else None)
    return {
        "k": k,
        "clause": clause,
        "spec": spec,
        "known": spec is not None or not clause.field,
        "ops": ops,
        "op": operator.name if operator else clause.op,
        "shape": operator.shape.value if operator else Shape.ONE.value,
        "options": list(spec.options) if spec is not None and spec.options else [],
        "input": "number" if spec is not None and spec.type == "number" else "text",
        "hint": _hint(spec, operator),
        "errors": _under(errors, f"c-{k}-"),
    }


def _hint(spec, operator) -> str:
    if spec is None or operator is None:
        return ""
    if operator.shape == Shape.MANY:
        return "Separate values with commas"
    if operator.shape == Shape.DAYS:
        return "days"
    if spec.type in ("date", "datetime") and operator.shape in (Shape.ONE, Shape.TWO):
        return "YYYY-MM-DD"
    return ""


def editor_context(request, profile, state: form.EditorState, errors: dict | None = None):
    workspace = profile.workspace
    choice_list = sources.choices(workspace)
    choices = {c.source: c for c in choice_list}
    weighted = state.kind == "weighted"
    errors = errors or {}
    sums = form.weight_sums(state)
    dimensions = [
        {
            "i": i,
            "row": d,
            "metrics": [
                _metric_view(i, j, m, choices, weighted, errors) for j, m in enumerate(d.metrics)
            ],
            "errors": {
                k: v for k, v in _under(errors, f"d-{i}-").items() if not k.startswith("m-")
            },
            "sum": sums[f"d-{i}-metrics"],
            "first": i == 0,
            "last": i == len(state.dimensions) - 1,
        }
        for i, d in enumerate(state.dimensions)
    ]
    catalog = profile_catalog(workspace)
    numeric_attributes = list(
        AttributeDefinition.objects.filter(
            workspace=workspace,
            object_type=ObjectType.ACCOUNT,
            type__in=[AttributeType.NUMBER, AttributeType.CURRENCY],
        ).order_by("position", "label")
    )
    version = profile.current_version
    return {
        "profile": profile,
        "state": state,
        "dimensions": dimensions,
        "choice_groups": form.grouped_choices(choice_list),
        "catalog_groups": catalog.groups(),
        "clauses": [_clause_view(k, c, catalog, errors) for k, c in enumerate(state.clauses)],
        "numeric_attributes": numeric_attributes,
        "sums": sums,
        "dimensions_sum": sums["dimensions"],
        "points": [
            {
                "name": f"points_{grade}",
                "label": f"Points for {label}",
                "value": getattr(state, f"points_{grade}"),
                "error": errors.get(f"points_{grade}", ""),
            }
            for grade, label in form.CHOICES["grades"]
        ],
        "scale": _scale(state),
        "errors": errors,
        "general_errors": errors.get("", []),
        "condition_error": errors.get("condition_json") or errors.get("condition") or "",
        "options": form.CHOICES,
        "version": version,
        "next_number": (version.number + 1) if version else 1,
        "can_admin": request.actor.can(ADMIN),
        "editor_url": reverse("health:profile", kwargs={"profile_id": profile.pk}),
        "preview_url": reverse("health:profile_preview", kwargs={"profile_id": profile.pk}),
        "accounts": scored_counts(workspace, [profile.pk]).get(profile.pk, 0),
    }


def _scale(state: form.EditorState) -> dict | None:
    """Widths (in %) of the Poor, Average and Good zones of the 0–100 score."""
    good, poor = form.number(state.thresholds_good), form.number(state.thresholds_poor)
    if not isinstance(good, int | float) or not isinstance(poor, int | float):
        return None
    if not 0 <= poor <= good <= 100:
        return None
    return {"poor": poor, "average": good - poor, "good": 100 - good}


# --- errors ----------------------------------------------------------------------------------


def _errors_of(exc: InvalidInput, state: form.EditorState) -> dict:
    """Field → message for the form (every clause of a condition; one definition error)."""
    found: dict = {}
    items = exc.as_dicts() if isinstance(exc, InvalidCondition) else [exc.as_dict()]
    for item in items:
        name = form.error_field(item["field"], state)
        if name:
            found.setdefault(name, item["message"])
        else:
            found.setdefault("", []).append(f"{item['field']}: {item['message']}")
    return found


def _draft(request, profile, state: form.EditorState) -> tuple[dict, dict]:
    """The definition and condition the form describes, and errors found before any check
    (a JSON condition that does not parse)."""
    workspace = profile.workspace
    choices = {c.source: c for c in sources.choices(workspace)}
    draft = {"definition": form.definition_from_state(state, choices)}
    if not profile.is_default:
        condition, error = form.condition_from_state(state, profile_catalog(workspace))
        if error:
            return draft, {error[0]: error[1]}
        draft["condition"] = condition
    return draft, {}


# --- views -----------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def profile_editor(request, profile_id: int):
    profile = profile_for(request, profile_id)
    if request.method == "GET":
        definition = profile.current_version.definition if profile.current_version else {}
        state = form.state_from_profile(profile, definition)
        return render(request, "health/editor.html", editor_context(request, profile, state))
    request.actor.require(ADMIN)
    state = form.state_from_post(request.POST)
    op = request.POST.get("op", "")
    if op == "save":
        return _save(request, profile, state)
    form.change_kind(state, request.POST.get("kind_was") or state.kind)
    form.apply(state, op)
    context = editor_context(request, profile, state)
    if request.htmx:
        return render(request, "health/editor_form.html", context)
    return render(request, "health/editor.html", context)


def _same_definition(a: dict, b: dict) -> bool:
    try:
        return parse_definition(a) == parse_definition(b)
    except DefinitionError:
        return False


def _save(request, profile, state: form.EditorState):
    draft, errors = _draft(request, profile, state)
    if not errors:
        data = {"name": state.name, "description": state.description}
        if "condition" in draft:
            data["condition"] = draft["condition"]
        current = profile.current_version.definition if profile.current_version else None
        changed = current is None or not _same_definition(current, draft["definition"])
        if changed:
            data.update(definition=draft["definition"], note=state.note)
        try:
            actions.update_profile(request.actor, profile, data)
        except InvalidInput as exc:
            errors = _errors_of(exc, state)
        else:
            profile.refresh_from_db()
            number = profile.current_version.number
            messages.success(
                request,
                f"Saved as version {number}; accounts are being scored again."
                if changed
                else "Saved. The definition did not change, so there is no new version.",
            )
            url = reverse("health:profile", kwargs={"profile_id": profile.pk})
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    context = editor_context(request, profile, state, errors)
    context["save_failed"] = True
    template = "health/editor_form.html" if request.htmx else "health/editor.html"
    return render(request, template, context, status=422)


@member_required
@require_POST
def profile_preview(request, profile_id: int):
    """The preview panel for the posted form: nothing is saved (read access is enough)."""
    profile = profile_for(request, profile_id)
    state = form.state_from_post(request.POST)
    draft, errors = _draft(request, profile, state)
    result = None
    if not errors:
        try:
            result = previewing.preview(request.actor, profile, draft)
        except InvalidInput as exc:
            errors = _errors_of(exc, state)
    field_errors = {k: v for k, v in errors.items() if k}
    context = {
        "profile": profile,
        "result": result,
        "errors": field_errors,
        "general_errors": errors.get("", []),
        "error_messages": [
            f"{form.field_words(name, state)}: {message}" for name, message in field_errors.items()
        ]
        + errors.get("", []),
        "errors_json": json.dumps(field_errors),
        "sums_json": json.dumps(form.weight_sums(state)),
        "version": profile.current_version,
    }
    if result is not None:
        context.update(_preview_view(result))
    return render(request, "health/editor_preview.html", context)


def _bars(distribution: dict, total: int) -> list[dict]:
    return [
        {
            "rank": rank,
            "label": RANK_LABELS[rank],
            "count": distribution[rank],
            "share": round(100 * distribution[rank] / total, 1) if total else 0,
        }
        for rank in RANK_ORDER
    ]


def _preview_view(result: previewing.Preview) -> dict:
    groups = []
    for key, title, total in (
        ("paying", "Paying accounts", result.paying_accounts),
        ("all", "All accounts", result.accounts),
    ):
        pair = getattr(result, key)
        groups.append(
            {
                "key": key,
                "title": title,
                "total": total,
                "current": _bars(pair["current"], total),
                "draft": _bars(pair["draft"], total),
                "deltas": [
                    {
                        "rank": rank,
                        "label": RANK_LABELS[rank],
                        "current": pair["current"][rank],
                        "draft": pair["draft"][rank],
                        "delta": pair["draft"][rank] - pair["current"][rank],
                    }
                    for rank in RANK_ORDER
                ],
            }
        )
    return {
        "groups": groups,
        "transitions": [
            {**t, "from_label": RANK_LABELS[t["from"]], "to_label": RANK_LABELS[t["to"]]}
            for t in result.transitions
        ],
    }
