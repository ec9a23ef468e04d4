"""How usage shows up in the accounts app's pages (filled in with the usage pages)."""


def register() -> None:
    """Called from ``UsageConfig.ready``."""
