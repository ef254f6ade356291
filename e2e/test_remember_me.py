"""Remember me: surviving a browser restart, and only for as long as it was promised."""

import re
import time

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from .flows import (
    REMEMBER,
    REMEMBER_ME_DURATION,
    SESSION,
    Account,
    NewContext,
    attributes,
    browser_with_cookies,
    cookie,
    expect_signed_in_as,
    expect_signed_out,
    fact,
    open_account,
    restart_browser,
    set_cookie_headers,
    sign_in_by_script,
)
from .server import Site

TABS = 5


def test_remembered_sign_in_survives_a_browser_restart(
    page: Page, context: BrowserContext, new_context: NewContext, account: Account
) -> None:
    """A restart drops the session cookie; the remember cookie starts a new, non-fresh one."""
    sign_in_by_script(page, account, remember=True)
    expect(fact(page, "Fresh")).to_have_text(re.compile("^Yes:"))
    before = cookie(context, REMEMBER)
    assert before is not None

    restarted = restart_browser(context, new_context)
    assert cookie(restarted, SESSION) is None
    page = restarted.new_page()
    expect_signed_in_as(page, account)

    after = cookie(restarted, REMEMBER)
    assert after is not None
    assert after["value"] != before["value"], "the validator is replaced on every use"
    expect(fact(page, "This session began")).to_contain_text("restored from the remember cookie")
    expect(fact(page, "Fresh")).to_have_text(re.compile("^No:"))


def test_restored_remember_cookie_keeps_its_first_expiry(
    page: Page, context: BrowserContext, new_context: NewContext, account: Account
) -> None:
    """Replacing the validator never extends the cookie: using it daily must not keep it forever."""
    sign_in_by_script(page, account, remember=True)
    first = cookie(context, REMEMBER)
    assert first is not None

    restarted = restart_browser(context, new_context)
    restored = open_account(restarted.new_page())

    [header] = set_cookie_headers(restored, REMEMBER)
    max_age = int(attributes(header)["max-age"])
    assert REMEMBER_ME_DURATION - 60 <= max_age < REMEMBER_ME_DURATION
    rotated = cookie(restarted, REMEMBER)
    assert rotated is not None
    assert rotated["value"] != first["value"]
    assert abs(rotated["expires"] - first["expires"]) <= 2


def test_sign_in_without_remember_me_ends_with_the_browser(
    page: Page, context: BrowserContext, new_context: NewContext, site: Site, account: Account
) -> None:
    """Without Remember me nothing survives a restart, and /account asks to sign in again."""
    sign_in_by_script(page, account)
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert cookie(context, REMEMBER) is None

    restarted = restart_browser(context, new_context)
    assert restarted.cookies() == []
    page = restarted.new_page()
    expect_signed_out(page)
    expect(page).to_have_url(f"{site.url}/login?next=/account")


def test_five_tabs_restored_at_once_with_one_remember_cookie_all_stay_signed_in(
    page: Page, context: BrowserContext, new_context: NewContext, site: Site, account: Account
) -> None:
    """Parallel requests with the same cookie, as a browser restoring tabs sends them,
    are not mistaken for a stolen cookie being replayed."""
    sign_in_by_script(page, account, remember=True)
    original = cookie(context, REMEMBER)
    assert original is not None
    restarted = restart_browser(context, new_context)
    tabs = [restarted.new_page() for _ in range(TABS)]

    # Hold every tab's request until all have been sent, so none sees another's answer.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    restarted.route("**/account", hold)
    for tab in tabs:
        tab.evaluate("url => { location.href = url }", f"{site.url}/account")
    deadline = time.monotonic() + 10
    while len(held) < TABS and time.monotonic() < deadline:
        tabs[0].wait_for_timeout(10)
    assert len(held) == TABS
    sent = [route.request.all_headers().get("cookie", "") for route in held]
    assert all(f"{REMEMBER}={original['value']}" in header for header in sent), sent
    for route in held:
        route.continue_()
    restarted.unroute("**/account", hold)

    for tab in tabs:
        expect(tab).to_have_url(f"{site.url}/account")
        expect(tab.locator("header")).to_contain_text(f"Signed in as {account.username}")
    for tab in tabs:
        tab.reload()
        expect(tab.locator("header")).to_contain_text(f"Signed in as {account.username}")
    expect_signed_in_as(restarted.new_page(), account)
    # The remember cookie the browser was left with is the live one: the next restart works.
    expect_signed_in_as(restart_browser(restarted, new_context).new_page(), account)


@pytest.mark.site_settings(REMEMBER_ME_ROTATION_GRACE=1)
def test_old_remember_cookie_used_after_the_grace_period_ends_the_sign_in(
    page: Page, context: BrowserContext, new_context: NewContext, account: Account
) -> None:
    """A copy of a cookie that has since been replaced can only be a stolen one: the sign-in
    ends for the thief and the owner alike."""
    sign_in_by_script(page, account, remember=True)
    stolen = cookie(context, REMEMBER)
    assert stolen is not None

    owner = restart_browser(context, new_context)
    owner_page = owner.new_page()
    expect_signed_in_as(owner_page, account)
    replaced = cookie(owner, REMEMBER)
    assert replaced is not None
    assert replaced["value"] != stolen["value"]

    grace_over = time.monotonic() + 1.2  # just past FLASK_REMEMBER_ME_ROTATION_GRACE
    # Opened while the grace period runs out; neither sends a request before it has.
    thief = browser_with_cookies(new_context, [stolen]).new_page()
    owner_copy = browser_with_cookies(new_context, [replaced]).new_page()
    time.sleep(max(0.0, grace_over - time.monotonic()))
    expect_signed_out(thief)
    expect_signed_out(owner_page)
    expect_signed_out(owner_copy)
