"""Signing out: nothing the browser kept, nor any copy of it, signs in again."""

from playwright.sync_api import BrowserContext, Page, expect

from .flows import (
    REMEMBER,
    SESSION,
    Account,
    NewContext,
    attributes,
    browser_with_cookies,
    cookie,
    expect_signed_in_as,
    expect_signed_out,
    open_account,
    session_data,
    set_cookie_headers,
    sign_in_by_script,
    sign_out,
)
from .server import Site


def test_sign_out_deletes_the_remember_cookie_and_the_user_from_the_session(
    page: Page, context: BrowserContext, site: Site, account: Account
) -> None:
    """After Sign out the browser holds no remember cookie and no signed-in user."""
    sign_in_by_script(page, account, remember=True)
    signed_in = cookie(context, SESSION)
    assert signed_in is not None
    assert "_user_id" in session_data(signed_in["value"])

    posted = sign_out(page)

    [deleted] = set_cookie_headers(posted, REMEMBER)
    # Deleted with the attributes it was set with, or the browser would keep the original.
    sent = attributes(deleted)
    assert {"max-age": "0", "path": "/", "httponly": "", "samesite": "Lax"}.items() <= sent.items()
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert cookie(context, REMEMBER) is None
    session = cookie(context, SESSION)
    assert session is None or "_user_id" not in session_data(session["value"])
    expect_signed_out(page)


def test_back_after_sign_out_does_not_show_the_account_page(
    page: Page, site: Site, account: Account
) -> None:
    """Pages are not kept by the browser, so Back asks the server, which says sign in."""
    sign_in_by_script(page, account)
    shown = open_account(page)
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert shown.header_value("cache-control") == "no-store"
    sign_out(page)
    expect(page).to_have_url(f"{site.url}/")

    page.go_back()

    expect(page).to_have_url(f"{site.url}/login?next=/account")
    expect(page.get_by_role("heading", name="Your account")).to_have_count(0)
    expect(page.get_by_text(account.username)).to_have_count(0)


def test_replayed_session_cookie_is_dead_after_sign_out(
    page: Page, context: BrowserContext, new_context: NewContext, account: Account
) -> None:
    """A copy of the session cookie works until Sign out and never after it."""
    sign_in_by_script(page, account)
    copied = cookie(context, SESSION)
    assert copied is not None
    expect_signed_in_as(browser_with_cookies(new_context, [copied]).new_page(), account)

    sign_out(page)

    expect_signed_out(browser_with_cookies(new_context, [copied]).new_page())


def test_replayed_remember_cookie_is_dead_after_sign_out(
    page: Page, context: BrowserContext, new_context: NewContext, account: Account
) -> None:
    """A copy of the remember cookie taken before Sign out restores nothing after it."""
    sign_in_by_script(page, account, remember=True)
    copied = cookie(context, REMEMBER)
    assert copied is not None

    sign_out(page)

    replay = browser_with_cookies(new_context, [copied])
    expect_signed_out(replay.new_page())
    assert cookie(replay, REMEMBER) is None, "the server tells the browser to drop a dead cookie"
