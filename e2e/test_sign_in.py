"""Registering and signing in: the cookies the browser is given, and where it goes next."""

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from loginflow.auth import SIGN_IN_FAILED

from .flows import (
    REMEMBER,
    REMEMBER_ME_DURATION,
    SESSION,
    Account,
    attributes,
    cookie,
    expect_signed_out,
    expires_in,
    new_username,
    register,
    session_data,
    set_cookie_headers,
    sign_in,
)
from .server import Site


def test_registering_signs_in_with_a_session_cookie_that_ends_with_the_browser(
    page: Page, context: BrowserContext, site: Site
) -> None:
    """A new account is signed in at once, and only until the browser closes."""
    account = Account(new_username())
    register(page, account)

    expect(page).to_have_url(f"{site.url}/account")
    expect(page.locator("header")).to_contain_text(f"Signed in as {account.username}")
    session = cookie(context, SESSION)
    assert session is not None
    assert "_user_id" in session_data(session["value"])
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["expires"] == -1, "a session cookie has no expiry: it ends with the browser"
    assert cookie(context, REMEMBER) is None


def test_remember_me_sets_an_http_only_cookie_for_fourteen_days(
    page: Page, context: BrowserContext, account: Account
) -> None:
    """The remember cookie is set with Max-Age, so its lifetime counts from its arrival."""
    posted = sign_in(page, account, remember=True)

    [header] = set_cookie_headers(posted, REMEMBER)
    sent = attributes(header)
    assert {
        "max-age": "1209600",
        "httponly": "",
        "samesite": "Lax",
        "path": "/",
    }.items() <= sent.items()
    remember = cookie(context, REMEMBER)
    assert remember is not None
    assert remember["httpOnly"] is True
    assert remember["sameSite"] == "Lax"
    assert abs(expires_in(remember) - REMEMBER_ME_DURATION) <= 60
    session = cookie(context, SESSION)
    assert session is not None
    assert session["expires"] == -1


@pytest.mark.site_settings(REMEMBER_ME_DURATION=120)
def test_remember_cookie_lasts_as_long_as_the_site_is_set_to_remember(
    page: Page, context: BrowserContext, account: Account
) -> None:
    """FLASK_REMEMBER_ME_DURATION (seconds) is the cookie's Max-Age, not a fixed 14 days."""
    posted = sign_in(page, account, remember=True)

    [header] = set_cookie_headers(posted, REMEMBER)
    assert attributes(header)["max-age"] == "120"
    remember = cookie(context, REMEMBER)
    assert remember is not None
    assert abs(expires_in(remember) - 120) <= 10


def test_unknown_user_and_wrong_password_get_the_same_answer(page: Page, account: Account) -> None:
    """Nothing on the page or in the status tells whether an account exists."""
    unknown = sign_in(page, Account(new_username(), account.password))
    expect(page.get_by_role("alert")).to_have_text(SIGN_IN_FAILED)
    unknown_page = page.locator("main").inner_text()

    wrong = sign_in(page, Account(account.username, "not the right password"))
    expect(page.get_by_role("alert")).to_have_text(SIGN_IN_FAILED)

    assert page.locator("main").inner_text() == unknown_page
    assert wrong.status == unknown.status
    expect_signed_out(page)


def test_sign_in_returns_to_the_page_that_asked_for_it(
    page: Page, site: Site, account: Account
) -> None:
    """/account sends a signed-out visitor to sign in with next=/account, and back there."""
    page.goto("/account")
    expect(page).to_have_url(f"{site.url}/login?next=/account")

    posted = sign_in(page, account, path=None)

    assert posted.header_value("location") == "/account"
    expect(page).to_have_url(f"{site.url}/account")


def test_sign_in_follows_next_to_any_page_of_the_site(
    page: Page, site: Site, account: Account
) -> None:
    """next is honoured, not just the default destination, for a path on this site."""
    sign_in(page, account, path="/login?" + urlencode({"next": "/?from=sign-in"}))

    expect(page).to_have_url(f"{site.url}/?from=sign-in")
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
