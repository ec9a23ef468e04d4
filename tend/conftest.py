"""Fixtures shared by every app's tests: personas and scope handling."""

import pytest
from django_scopes import scopes_disabled

from tend.test import make_persona, make_workspace
from tend.workspaces.models import Seat


@pytest.fixture(autouse=True, scope="session")
def _no_persistent_connections():
    """The live server answers each request in a thread of its own; with persistent
    connections those threads would keep PostgreSQL sessions open past the test run, and the
    test database could not be dropped."""
    from django.db import connections

    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = 0
        connections[alias].settings_dict["CONN_MAX_AGE"] = 0
    yield


@pytest.fixture(autouse=True)
def _test_code_runs_unscoped():
    """Test bodies set up and inspect data across workspaces; requests scope themselves."""
    with scopes_disabled():
        yield


@pytest.fixture
def workspace(db):
    return make_workspace("Acme CS")


@pytest.fixture
def owner(workspace):
    """An admin of the main workspace."""
    return make_persona(workspace, Seat.ADMIN, "owner@acme.test")


@pytest.fixture
def practitioner(workspace):
    return make_persona(workspace, Seat.PRACTITIONER, "practitioner@acme.test")


@pytest.fixture
def contributor(workspace):
    return make_persona(workspace, Seat.CONTRIBUTOR, "contributor@acme.test")


@pytest.fixture
def viewer(workspace):
    """A teammate with the lesser, read-only seat."""
    return make_persona(workspace, Seat.VIEWER, "viewer@acme.test")


@pytest.fixture
def other_workspace(db):
    return make_workspace("Globex CS")


@pytest.fixture
def outsider(other_workspace):
    """An admin of another workspace: must see nothing of ours."""
    return make_persona(other_workspace, Seat.ADMIN, "outsider@globex.test")


# --- Browser tests: Playwright driving Debian's Chromium --------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium():
    """One Chromium per test module. Missing Chromium fails loudly: a skipped test proves nothing.

    Not per session: while Playwright's sync API is running it keeps an event loop in this
    thread, and later non-browser tests then leave a PostgreSQL session open that stops the
    test database from being dropped.
    """
    import os

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM}: run 'make test' (it installs it) "
            "or 'apt-get install chromium'.",
            pytrace=False,
        )
    # Playwright's sync API runs an event loop in this thread; the ORM calls that tests make
    # between page actions are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    browser = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    manager.stop()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser context (no cookies) pointed at the live server."""
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page):
    """Log a persona in through the real login form; returns the page."""
    from tend.test import PASSWORD

    def _login(persona):
        page.goto("/login/")
        page.fill("input[name=username]", persona.member.user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return _login
