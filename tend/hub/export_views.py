"""Data → Exports: every dataset the apps offer, each downloadable as CSV, XLSX or Parquet
(the read right is enough: the same data the pages show)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tend.hub.exports import FORMAT_LABELS, FORMATS, export_dataset
from tend.lib import datasets
from tend.lib.errors import InvalidInput
from tend.workspaces.access import READ


def _actor(request):
    actor = getattr(request, "actor", None)
    if actor is None:
        raise Http404("No workspace.")
    actor.require(READ)
    return actor


@login_required
@require_GET
def export_list(request):
    actor = _actor(request)
    rows = [
        {"dataset": dataset, "columns": dataset.columns(actor.workspace)}
        for dataset in datasets.datasets()
    ]
    formats = [(key, FORMAT_LABELS[key]) for key in FORMATS]
    return render(request, "hub/exports.html", {"rows": rows, "formats": formats})


@login_required
@require_GET
def export_download(request, key: str):
    actor = _actor(request)
    try:
        return export_dataset(actor, key, request.GET.get("format"))
    except InvalidInput as exc:
        # A link the page made never lands here: the address was typed or built by hand.
        return JsonResponse(
            {"detail": exc.message, "errors": [{"field": exc.field, "message": exc.message}]},
            status=400,
        )
