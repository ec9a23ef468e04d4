"""The one error type actions raise for bad input: it names the field."""


class InvalidInput(ValueError):
    """Input that an action refuses. ``field`` is a dotted path such as ``attributes.plan``.

    The API answers it with 422 and ``{"detail": …, "errors": [{"field", "message"}]}``; HTML
    forms show the message beside the field.
    """

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def as_dict(self) -> dict:
        return {"field": self.field, "message": self.message}
