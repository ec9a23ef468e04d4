"""``PATCH /metrics/{metric}``: rename a custom metric (listing and series are in ``reads``)."""

from ninja import Field, Router, Schema

from tend.lib.api_schemas import ERRORS
from tend.usage.actions.metrics import MAX_LABEL, rename_metric
from tend.usage.api.reads import MetricOut
from tend.usage.models import Metric
from tend.workspaces.access import READ, get_for

router = Router(tags=["usage"])


class MetricPatch(Schema):
    # Optional here so that an unknown metric is a 404 whatever the body; the action says
    # that a label is required.
    label: str | None = Field(None, max_length=MAX_LABEL)


@router.patch(
    "/metrics/{metric}",
    response={200: MetricOut, **ERRORS},
    summary="Rename a custom metric",
    description="`metric` is the metric's key, which never changes; the label is what pages show.",
)
def patch_metric(request, metric: str, payload: MetricPatch):
    actor = request.auth
    found = get_for(actor, Metric, READ, key=metric)
    found = rename_metric(actor, found, payload.label)
    return {"key": found.key, "label": found.label, "created_at": found.created_at}
