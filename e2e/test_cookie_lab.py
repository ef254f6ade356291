"""The cookie lab, in a browser: what it sets is what the browser keeps and shows."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .flows import (
    REMEMBER,
    SESSION,
    Account,
    NewContext,
    cookie,
    expect_signed_in_as,
    expect_signed_out,
    expires_in,
    restart_browser,
    sign_in_by_script,
)

LIFETIMES = {"1 minute": 60, "1 day": 24 * 3600, "1 year": 365 * 24 * 3600}


def save_theme(page: Page, theme: str, keep_for: str) -> None:
    page.goto("/cookies/")
    page.get_by_label(theme, exact=True).check()
    page.get_by_label(keep_for, exact=True).check()
    page.get_by_role("button", name="Save theme").click()
    expect(page.get_by_role("status").first).to_contain_text("Sent: Set-Cookie: theme=")


@pytest.mark.parametrize("keep_for", LIFETIMES)
def test_theme_cookie_expires_after_the_chosen_lifetime(
    page: Page, context: BrowserContext, keep_for: str
) -> None:
    save_theme(page, "Dark", keep_for)
    theme = cookie(context, "theme")
    assert theme is not None
    assert theme["value"] == "dark"
    assert abs(expires_in(theme) - LIFETIMES[keep_for]) <= 60
    assert theme["httpOnly"] is False
    assert theme["sameSite"] == "Lax"
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")


def test_theme_until_the_browser_closes_is_gone_after_a_restart(
    page: Page, context: BrowserContext, new_context: NewContext
) -> None:
    save_theme(page, "Dark", "Until the browser closes")
    theme = cookie(context, "theme")
    assert theme is not None
    assert theme["expires"] == -1
    restarted = restart_browser(context, new_context)
    assert cookie(restarted, "theme") is None
    page = restarted.new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")


def test_theme_kept_for_a_day_survives_a_restart(
    page: Page, context: BrowserContext, new_context: NewContext
) -> None:
    save_theme(page, "Dark", "1 day")
    restarted = restart_browser(context, new_context)
    page = restarted.new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")


def test_deleting_the_theme_cookie_removes_it_from_the_browser(
    page: Page, context: BrowserContext
) -> None:
    save_theme(page, "Dark", "1 year")
    page.get_by_role("button", name="Delete theme cookie").click()
    expect(page.get_by_role("status").first).to_contain_text("Max-Age=0")
    assert cookie(context, "theme") is None
    expect(page.locator("html")).to_have_attribute("data-theme", "light")


def test_page_scripts_see_the_theme_but_no_http_only_cookie(
    page: Page, context: BrowserContext, account: Account
) -> None:
    sign_in_by_script(page, account, remember=True)
    save_theme(page, "Dark", "1 day")
    held = {c["name"]: c for c in context.cookies()}
    assert {SESSION, REMEMBER, "theme"} <= set(held)

    script_view = page.locator("#script-cookies")
    expect(script_view).to_contain_text("theme=dark")
    shown = script_view.inner_text()
    for name, kept in held.items():
        if kept["httpOnly"]:
            assert f"{name}=" not in shown, name
        else:
            assert f"{name}={kept['value']}" in shown, name


def test_clearing_the_whole_session_warns_then_signs_out(page: Page, account: Account) -> None:
    sign_in_by_script(page, account)
    page.goto("/cookies/")
    page.get_by_role("button", name="Clear the whole session").click()
    expect(page.get_by_role("heading", name="Clear the whole session?")).to_be_visible()
    expect(page.get_by_text("Your sign-in lives in the session")).to_be_visible()
    page.get_by_role("button", name="Clear the whole session").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect_signed_out(page)


def test_clearing_the_session_with_a_remember_cookie_signs_straight_back_in(
    page: Page, context: BrowserContext, account: Account
) -> None:
    sign_in_by_script(page, account, remember=True)
    before = cookie(context, REMEMBER)
    page.goto("/cookies/")
    page.get_by_role("button", name="Clear the whole session").click()
    page.get_by_role("button", name="Clear the whole session").click()
    expect(page.get_by_text("restored from the remember cookie and not fresh")).to_be_visible()
    after = cookie(context, REMEMBER)
    assert before is not None and after is not None
    assert after["value"] != before["value"]
    expect_signed_in_as(page, account)


def test_session_note_is_kept_then_removed(page: Page) -> None:
    page.goto("/cookies/")
    page.get_by_label("Note", exact=True).fill("kept in the session cookie")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("q.note")).to_have_text("kept in the session cookie")
    expect(page.get_by_label("Session contents")).to_contain_text('"note": "kept in the session')
    page.get_by_role("button", name="Remove note").click()
    expect(page.locator("q.note")).to_have_text("(no note yet)")
