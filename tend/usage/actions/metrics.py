"""Changes to custom metric definitions (their values arrive through ingestion)."""

from django.db import transaction

from tend.lib.errors import InvalidInput
from tend.usage.models import Metric
from tend.workspaces.access import WRITE, Actor

MAX_LABEL = 200


@transaction.atomic
def rename_metric(actor: Actor, metric: Metric, label) -> Metric:
    """Give a metric the label people read (it starts as its key, written out)."""
    actor.require(WRITE)
    if not isinstance(label, str) or not label.strip():
        raise InvalidInput("label", "is required")
    if len(label.strip()) > MAX_LABEL:
        raise InvalidInput("label", f"is longer than {MAX_LABEL} characters")
    metric.label = label.strip()
    metric.save(update_fields=["label"])
    return metric
