"""Every browser a person is signed in on: ending one, ending all, and what a password
change or a timeout does to the others.

Each test is one person with two devices, two browsers the site tells apart by their user
agents: a laptop, where the person acts, and a phone, which finds out at its next page.
"""

import re
import time

import pytest
from playwright.sync_api import Cookie, Locator, Page, Response, expect

from loginflow.auth import SIGN_IN_FAILED

from .flows import (
    REMEMBER,
    SESSION,
    Account,
    HttpClient,
    NewContext,
    cookie,
    expect_signed_in_as,
    expect_signed_out,
    fact,
    form,
    restart_browser,
    session_data,
    sign_in_by_script,
    submit_and_follow,
    submit_by_script,
)
from .server import Site

LAPTOP_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
LAPTOP, PHONE = "Firefox on Linux", "Chrome Mobile on Android"  # as the account page names them
NEW_PASSWORD = "a different horse entirely"
PASSWORD_CHANGED = (
    "Your password is changed. Every other browser where you were signed in is signed out."
)
IDLE_TIMEOUT = 3  # seconds, for the timeout test's server
# FLASK_REMEMBER_ME_ROTATION_GRACE for the test that waits for a replaced token to die, and
# how far past it (seconds) the test replays it.
GRACE, GRACE_MARGIN = 1, 0.2
# Past the idle timeout by this much (seconds) before the idle browser asks again.
IDLE_MARGIN = 0.1


@pytest.fixture
def laptop(new_context: NewContext) -> Page:
    return new_context(user_agent=LAPTOP_AGENT).new_page()


@pytest.fixture
def phone(new_context: NewContext) -> Page:
    return new_context(user_agent=PHONE_AGENT).new_page()


def sign_ins(page: Page) -> Locator:
    """The rows of the account page's table "Where you're signed in", newest first."""
    return page.get_by_role("region", name="Where you're signed in").locator("tbody tr")


def press(page: Page, button: Locator) -> Response:
    """Press a button of the account page; the response to its form's POST."""
    action = button.locator("xpath=ancestor::form").get_attribute("action")
    assert action is not None
    return submit_and_follow(page, button, action)


def change_password(page: Page, current: str, new: str) -> Response:
    """Fill in and send the change form already open on ``page``; the POST's response."""
    fields = form(page)
    fields.get_by_label("Current password").fill(current)
    fields.get_by_label("New password", exact=True).fill(new)
    fields.get_by_label("Confirm new password").fill(new)
    button = fields.get_by_role("button", name="Change password")
    return submit_and_follow(page, button, "/account/password")


def expect_dead(site: Site, *cookies: Cookie) -> None:
    """Copies of ``cookies``, replayed outside any browser, are sent to sign in."""
    with HttpClient(site.url, {c["name"]: c["value"] for c in cookies}) as replay:
        answer = replay.get("/account")
    assert (answer.status, answer.header("location")) == (302, "/login?next=/account")


def expect_sign_in_page(page: Page, site: Site) -> None:
    """``page`` was sent to sign in, to come back to /account, and offers no Sign out."""
    expect(page).to_have_url(f"{site.url}/login?next=/account")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_ending_another_browsers_sign_in_signs_it_out_at_its_next_page(
    laptop: Page, phone: Page, site: Site, account: Account
) -> None:
    """The laptop lists the phone with an End button named for it; once pressed, the page
    the phone shows next is the sign-in page."""
    sign_in_by_script(phone, account)
    sign_in_by_script(laptop, account)

    rows = sign_ins(laptop)
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_role("rowheader")).to_have_text(LAPTOP)
    expect(rows.nth(0)).to_contain_text("This browser")
    expect(rows.nth(0).get_by_role("button")).to_have_count(0)
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text(PHONE)
    # The button names the time in UTC, which the page's script keeps as the time's title
    # when it shows the reader's own time zone.
    signed_in_time = rows.nth(1).locator("time").first
    expect(signed_in_time).to_have_attribute("title", re.compile(r" UTC$"))
    signed_in = signed_in_time.get_attribute("title")
    end = rows.nth(1).get_by_role("button", name="End")
    expect(end).to_have_accessible_name(f"End {PHONE}, signed in {signed_in}")

    press(laptop, end)

    expect(laptop).to_have_url(f"{site.url}/account")
    expect(laptop.get_by_role("status")).to_have_text(f"{PHONE} is signed out.")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("This browser")
    phone.reload()
    expect_sign_in_page(phone, site)


def test_signing_out_everywhere_else_ends_the_other_browsers_remember_cookie_too(
    laptop: Page, phone: Page, new_context: NewContext, site: Site, account: Account
) -> None:
    """The phone, remembered, is out: its session cookie is dead and, after a restart, its
    remember cookie restores nothing. The laptop stays signed in."""
    sign_in_by_script(phone, account, remember=True)
    phone_session = cookie(phone.context, SESSION)
    assert phone_session is not None
    sign_in_by_script(laptop, account)

    press(laptop, laptop.get_by_role("button", name="Sign out everywhere else"))

    expect(laptop).to_have_url(f"{site.url}/account")
    expect(laptop.get_by_role("status")).to_have_text(
        "Signed out of 1 other browser. This browser stays signed in."
    )
    expect(sign_ins(laptop)).to_have_count(1)
    restarted = restart_browser(phone.context, new_context)
    assert cookie(restarted, REMEMBER) is not None, "the restart kept the remember cookie"
    expect_signed_out(restarted.new_page())
    assert cookie(restarted, REMEMBER) is None, "the server tells the browser to drop it"
    expect_dead(site, phone_session)
    expect_signed_in_as(laptop, account)


def test_signing_out_everywhere_signs_out_this_browser_and_every_other(
    laptop: Page, phone: Page, site: Site, account: Account
) -> None:
    """Both browsers, remembered, are out: the laptop at once, the phone at its next page."""
    sign_in_by_script(phone, account, remember=True)
    sign_in_by_script(laptop, account, remember=True)

    press(laptop, laptop.get_by_role("button", name="Sign out everywhere", exact=True))

    expect(laptop).to_have_url(f"{site.url}/")
    expect(laptop.get_by_role("status")).to_have_text("You are signed out everywhere.")
    expect(laptop.locator("header")).not_to_contain_text("Signed in as")
    expect(laptop.get_by_role("button", name="Sign out")).to_have_count(0)
    assert cookie(laptop.context, REMEMBER) is None
    phone.reload()
    expect_sign_in_page(phone, site)
    assert cookie(phone.context, REMEMBER) is None


def test_changing_the_password_signs_out_every_other_browser_and_renews_this_ones_cookies(
    laptop: Page, phone: Page, site: Site, account: Account
) -> None:
    """The phone is out and only the new password signs in; the laptop stays in under a new
    sign-in, so copies of its cookies from before the change are worthless."""
    sign_in_by_script(phone, account, remember=True)
    sign_in_by_script(laptop, account, remember=True)
    before = {c["name"]: c for c in laptop.context.cookies()}

    laptop.get_by_role("link", name="Change password").click()
    expect(laptop).to_have_url(f"{site.url}/account/password")
    change_password(laptop, account.password, NEW_PASSWORD)

    expect(laptop).to_have_url(f"{site.url}/account")
    expect(laptop.get_by_role("status")).to_have_text(PASSWORD_CHANGED)
    expect(laptop.locator("header")).to_contain_text(f"Signed in as {account.username}")
    after = {c["name"]: c for c in laptop.context.cookies()}
    assert after[SESSION]["value"] != before[SESSION]["value"]
    signed_in_as = session_data(after[SESSION]["value"])["_user_id"]
    assert signed_in_as != session_data(before[SESSION]["value"])["_user_id"], "a new sign-in"
    assert after[REMEMBER]["value"] != before[REMEMBER]["value"]
    expect_dead(site, before[SESSION], before[REMEMBER])

    phone.reload()
    expect_sign_in_page(phone, site)
    old = {"username": account.username, "password": account.password}
    refused = submit_by_script(phone, old, "/login")
    assert refused.status == 422
    expect(phone.get_by_role("alert")).to_have_text(SIGN_IN_FAILED)
    submit_by_script(phone, old | {"password": NEW_PASSWORD}, "/login")
    expect(phone).to_have_url(f"{site.url}/account")
    expect(phone.locator("header")).to_contain_text(f"Signed in as {account.username}")


def test_session_restored_from_the_remember_cookie_confirms_the_password_before_a_change(
    laptop: Page, new_context: NewContext, site: Site, account: Account
) -> None:
    """After a restart the session is not fresh: Change password asks for the password
    first, then comes back to the change form, which then works."""
    sign_in_by_script(laptop, account, remember=True)
    page = restart_browser(laptop.context, new_context).new_page()
    page.goto("/account")
    expect(fact(page, "Fresh")).to_have_text(re.compile("^No:"))

    page.get_by_role("link", name="Change password").click()

    expect(page).to_have_url(f"{site.url}/reauth?next=/account/password")
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Please type your password again to continue.")
    fields = form(page)
    fields.get_by_label("Password").fill(account.password)
    submit_and_follow(page, fields.get_by_role("button", name="Confirm"), "/reauth")
    expect(page).to_have_url(f"{site.url}/account/password")
    change_password(page, account.password, NEW_PASSWORD)
    expect(page).to_have_url(f"{site.url}/account")
    expect(page.get_by_role("status")).to_have_text(PASSWORD_CHANGED)


@pytest.mark.site_settings(REMEMBER_ME_ROTATION_GRACE=GRACE)
def test_confirming_the_password_renews_the_session_and_ends_its_copies(
    laptop: Page, new_context: NewContext, site: Site, account: Account
) -> None:
    """A restored session that confirms the password at /reauth goes on, fresh, under a new
    session token of the same sign-in: a copy of the session cookie from before is signed
    out once the grace is over, and the remember cookie stays as it was."""
    sign_in_by_script(laptop, account, remember=True)
    page = restart_browser(laptop.context, new_context).new_page()
    page.goto("/account")
    expect(fact(page, "Fresh")).to_have_text(re.compile("^No:"))
    before = {c["name"]: c for c in page.context.cookies()}

    page.goto("/reauth?next=/account")
    fields = form(page)
    fields.get_by_label("Password").fill(account.password)
    submit_and_follow(page, fields.get_by_role("button", name="Confirm"), "/reauth")
    grace_over = time.monotonic() + GRACE + GRACE_MARGIN

    expect(page).to_have_url(f"{site.url}/account")
    expect(fact(page, "Fresh")).to_have_text(re.compile("^Yes:"))
    expect(fact(page, "This session began")).to_contain_text("with your password")
    expect(sign_ins(page)).to_have_count(1)  # the same sign-in, not a second one
    after = {c["name"]: c for c in page.context.cookies()}
    token = session_data(after[SESSION]["value"])["_user_id"]
    assert token != session_data(before[SESSION]["value"])["_user_id"], "a new session token"
    assert after[REMEMBER] == before[REMEMBER]
    time.sleep(max(0.0, grace_over - time.monotonic()))
    expect_dead(site, before[SESSION])


def test_a_second_click_on_confirm_keeps_the_browser_signed_in_and_fresh(
    laptop: Page, site: Site, account: Account
) -> None:
    """A double click on Confirm: the browser drops the first click's answer, new cookie and
    all, and its second click arrives with the old cookie once the first has drawn the new
    token. It shares the first click's session instead of being signed out."""
    sign_in_by_script(laptop, account)  # without Remember me: nothing would sign it back in
    laptop.goto("/reauth?next=/account")
    fields = form(laptop)
    fields.get_by_label("Password").fill(account.password)
    old = cookie(laptop.context, SESSION)
    assert old is not None
    csrf = fields.locator("input[name=csrf_token]").input_value()
    # The first click, sent with the browser's cookie; its answer never reaches the browser.
    with HttpClient(site.url, {SESSION: old["value"]}) as first_click:
        first = first_click.post(
            "/reauth?next=/account", {"password": account.password, "csrf_token": csrf}
        )
    assert first.status == 302
    shared = session_data(first_click.cookies[SESSION])["_user_id"]

    submit_and_follow(laptop, fields.get_by_role("button", name="Confirm"), "/reauth")

    expect(laptop).to_have_url(f"{site.url}/account")
    expect(fact(laptop, "Fresh")).to_have_text(re.compile("^Yes:"))
    kept = cookie(laptop.context, SESSION)
    assert kept is not None
    assert session_data(kept["value"])["_user_id"] == shared  # either answer would do


@pytest.mark.site_settings(SIGN_IN_IDLE_TIMEOUT=IDLE_TIMEOUT, SIGN_IN_ABSOLUTE_TIMEOUT=3600)
def test_idle_browser_is_signed_out_on_the_server_while_an_active_one_stays_in(
    laptop: Page, phone: Page, site: Site, account: Account
) -> None:
    """Without Remember me, IDLE_TIMEOUT seconds without a page end a sign-in on the server,
    whatever cookie the browser sends; a page a second keeps the other going past that."""
    sign_in_by_script(laptop, account)  # first, so that it is the older sign-in at the end
    sign_in_by_script(phone, account)
    idle_over = time.monotonic() + IDLE_TIMEOUT + IDLE_MARGIN  # the phone's page is in

    while (left := idle_over - time.monotonic()) > 0:
        laptop.wait_for_timeout(min(left, 1) * 1000)
        laptop.reload()
        expect(laptop.locator("header")).to_contain_text(f"Signed in as {account.username}")

    phone.reload()
    expect_sign_in_page(phone, site)
    expect(phone.get_by_role("status")).to_have_text(
        f"You were signed out after {IDLE_TIMEOUT} seconds without activity. Please sign in again."
    )
    laptop.reload()
    expect(laptop).to_have_url(f"{site.url}/account")
    expect(laptop.locator("header")).to_contain_text(f"Signed in as {account.username}")
