"""Forms as a person meets them: where the cursor goes after an error, what is announced,
what is marked, and targets big enough for a finger."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from .flows import (
    PASSWORD,
    Account,
    NewContext,
    fact,
    form,
    new_username,
    sign_in_by_script,
    submit_and_follow,
)

PHONE = {"width": 390, "height": 844}
FINGER = 44  # pixels: the smallest target a finger hits reliably (WCAG 2.5.5)


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement.id")


def test_register_errors_are_announced_shown_in_red_and_focus_the_password(page: Page) -> None:
    page.goto("/register")
    fields = form(page)
    fields.get_by_label("Username").fill(new_username())
    fields.get_by_label("Password", exact=True).fill(PASSWORD)
    fields.get_by_label("Confirm password").fill(PASSWORD + " but different")
    submit_and_follow(page, fields.get_by_role("button", name="Create account"), "/register")

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Confirm password: The two passwords differ.")
    expect(summary).to_contain_text("the password boxes are empty again")
    # Both boxes were emptied, so the cursor waits in the first of them.
    assert focused_id(page) == "password"
    confirm = fields.get_by_label("Confirm password")
    expect(confirm).to_have_attribute("aria-invalid", "true")
    expect(confirm).to_have_accessible_description("The two passwords differ.")
    red = page.evaluate("getComputedStyle(document.querySelector('.error')).color")
    assert confirm.evaluate("e => getComputedStyle(e).borderTopColor") == red

    summary.get_by_role("link", name="Confirm password").click()
    assert focused_id(page) == "confirm"


def test_a_failed_sign_in_puts_the_cursor_in_the_password_box(page: Page, account: Account) -> None:
    page.goto("/login")
    fields = form(page)
    fields.get_by_label("Username").fill(account.username)
    fields.get_by_label("Password", exact=True).fill("not the password at all")
    submit_and_follow(page, fields.get_by_role("button", name="Sign in"), "/login")
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
    assert focused_id(page) == "password"
    expect(fields.get_by_label("Username")).to_have_value(account.username)
    expect(fields.get_by_label("Remember me")).to_have_accessible_description(
        "Stay signed in on this device for 14 days, even after the browser closes. "
        "Not on a shared computer."
    )


def test_the_nav_marks_this_page_and_a_skip_link_leads_past_it(page: Page) -> None:
    page.goto("/cookies/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Cookie lab")).to_have_attribute("aria-current", "page")
    expect(nav.locator("[aria-current]")).to_have_count(1)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("signed_in", [False, True])
def test_header_targets_are_big_enough_for_a_finger_on_a_phone(
    page: Page, account: Account, signed_in: bool
) -> None:
    page.set_viewport_size(PHONE)
    if signed_in:
        page.goto("/login")
        fields = form(page)
        fields.get_by_label("Username").fill(account.username)
        fields.get_by_label("Password", exact=True).fill(account.password)
        submit_and_follow(page, fields.get_by_role("button", name="Sign in"), "/login")
    else:
        page.goto("/")
    targets = page.locator("header").locator("a, button")
    assert targets.count() >= 3
    for target in targets.all():
        box = target.bounding_box()
        assert box is not None
        name = target.inner_text()
        assert box["height"] >= FINGER, f"{name!r} is {box['height']} px tall"


def test_times_are_shown_in_the_readers_time_zone_with_utc_kept(
    new_context: NewContext, account: Account
) -> None:
    page = new_context(timezone_id="Asia/Kolkata", locale="en-GB").new_page()
    sign_in_by_script(page, account)
    page.goto("/account")
    created = fact(page, "Account created").locator("time")
    expect(created).to_have_attribute("title", re.compile(r" UTC$"))
    expect(created).to_contain_text("GMT+5:30")
    utc = datetime.fromisoformat(created.get_attribute("datetime"))
    shown = utc.astimezone(timezone(timedelta(hours=5, minutes=30)))
    expect(created).to_contain_text(shown.strftime("%H:%M"))
