"""The shapes every API module answers errors with, shared so that each app's API reads the
same: ``{"detail": "...", "errors": [{"field": "...", "message": "..."}]}``.

In lib because apps below accounts (outbox, notifications) answer errors too.
"""

from django.conf import settings
from ninja import Field, Schema
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


class PageFilters(Schema):
    """A cursor-paged list's query: how many, and where the previous page stopped."""

    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
