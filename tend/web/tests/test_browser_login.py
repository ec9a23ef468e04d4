import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_logs_in_and_lands_on_home(owner, login):
    page = login(owner)
    assert page.url.endswith("/")
    assert page.locator("h1").inner_text() == "Home"
    assert page.locator(".sidebar").inner_text().count("Accounts") >= 1


def test_a_wrong_password_shows_an_error(owner, page):
    page.goto("/login/")
    page.fill("input[name=username]", "owner@acme.test")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "correct email" in page.locator(".flash-error").inner_text().lower()
