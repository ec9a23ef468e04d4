"""The shapes every API module answers errors with, shared so that each app's API reads the
same: ``{"detail": "...", "errors": [{"field": "...", "message": "..."}]}``.

In lib because apps below accounts (outbox, notifications) answer errors too.
"""

from ninja import Schema
from pydantic import ConfigDict


class ErrorItem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


class Strict(Schema):
    """An input schema that refuses fields it does not know (a typo is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")


# The answers an endpoint that reads or writes one workspace's objects may give besides 200.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
