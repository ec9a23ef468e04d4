import pytest

from tend.health.actions.profiles import ensure_default_profile


@pytest.fixture(autouse=True)
def _classic_profile(request):
    """Workspaces from the personas are made without the workspace_created signal; give the
    main one its default profile as a new workspace would have."""
    if "workspace" in request.fixturenames:
        ensure_default_profile(request.getfixturevalue("workspace"))
