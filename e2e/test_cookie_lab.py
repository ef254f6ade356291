"""The cookie lab, in a browser: what it sets is what the browser keeps and shows."""

import base64
import math
import re

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

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
PHONE = {"width": 390, "height": 844}
# The colours of a PNG's pixels, decoded by the browser in a blank page (no site, no CSP).
PNG_PIXELS = """async data => {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    const image = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
    const canvas = new OffscreenCanvas(image.width, image.height);
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const rgba = context.getImageData(0, 0, image.width, image.height).data;
    const colours = [];
    for (let i = 0; i < rgba.length; i += 4) colours.push([rgba[i], rgba[i + 1], rgba[i + 2]]);
    return colours;
}"""


def save_theme(page: Page, theme: str, keep_for: str) -> None:
    page.goto("/cookies/")
    page.get_by_label(theme, exact=True).check()
    page.get_by_label(keep_for, exact=True).check()
    page.get_by_role("button", name="Save theme").click()
    expect(page.get_by_role("status").first).to_contain_text("Sent: Set-Cookie: theme=")


def clear_part(page: Page) -> Locator:
    """The part of the note's card that clears the whole session."""
    return page.get_by_role("region", name="Empty the whole session")


def weight(locator: Locator) -> int:
    return int(locator.evaluate("element => getComputedStyle(element).fontWeight"))


def colours(context: BrowserContext, png: bytes) -> list[tuple[int, int, int]]:
    blank = context.new_page()
    try:
        return [tuple(c) for c in blank.evaluate(PNG_PIXELS, base64.b64encode(png).decode())]
    finally:
        blank.close()


def contrast(one: tuple[int, int, int], other: tuple[int, int, int]) -> float:
    """WCAG's contrast ratio of two sRGB colours."""

    def luminance(rgb: tuple[int, int, int]) -> float:
        linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgb(css: str) -> tuple[int, int, int]:
    red, green, blue = (int(n) for n in re.findall(r"\d+", css)[:3])
    return red, green, blue


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
    cleared = clear_part(page).get_by_role("status")
    expect(cleared).to_contain_text("Your sign-in lived in the session")
    expect(cleared).to_contain_text("You are signed out.")
    expect(cleared).to_be_in_viewport()
    expect(page.locator("header")).not_to_contain_text("Signed in as")
    expect_signed_out(page)


def test_clearing_the_session_with_a_remember_cookie_signs_straight_back_in(
    page: Page, context: BrowserContext, account: Account
) -> None:
    sign_in_by_script(page, account, remember=True)
    before = cookie(context, REMEMBER)
    page.goto("/cookies/")
    page.get_by_role("button", name="Clear the whole session").click()
    page.get_by_role("button", name="Clear the whole session").click()
    cleared = clear_part(page).get_by_role("status")
    expect(cleared).to_contain_text("restored from the remember cookie and not fresh")
    expect(page.locator("header")).to_contain_text(f"Signed in as {account.username}")
    after = cookie(context, REMEMBER)
    assert before is not None and after is not None
    assert after["value"] != before["value"]
    # The same page again: signed in still, though not restored on this request.
    page.reload()
    expect(cleared).to_contain_text(f"You are signed in now, as {account.username}")
    expect(cleared).not_to_contain_text("You are signed out")
    expect_signed_in_as(page, account)


def test_session_note_is_kept_then_removed(page: Page) -> None:
    page.goto("/cookies/")
    page.get_by_label("Note", exact=True).fill("kept in the session cookie")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("q.note")).to_have_text("kept in the session cookie")
    expect(page.get_by_label("Session contents")).to_contain_text('"note": "kept in the session')
    page.get_by_role("button", name="Remove note").click()
    expect(page.locator("q.note")).to_have_text("(no note yet)")


def test_on_a_phone_save_note_comes_back_to_the_note_with_its_result(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/cookies/")
    page.get_by_label("Note", exact=True).fill("kept in the session cookie")
    page.get_by_role("button", name="Save note").click()
    expect(page).to_have_url(re.compile(r"/cookies/#session-note$"))
    note = page.get_by_role("region", name="A session note")
    result = note.get_by_role("status")
    expect(result).to_have_text('Saved: session["note"] = the text you typed.')
    expect(result).to_be_in_viewport(ratio=1)
    expect(note.locator("q.note")).to_be_in_viewport(ratio=1)
    expect(page.get_by_role("heading", name="Cookie lab", exact=True)).not_to_be_in_viewport()
    expect(page.get_by_role("status")).to_have_count(1)  # said in the note, not at the top


def test_on_a_phone_a_note_of_only_spaces_is_refused_in_view(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/cookies/")
    page.get_by_label("Note", exact=True).fill("   ")
    page.get_by_role("button", name="Save note").click()
    note = page.get_by_role("region", name="A session note")
    expect(note.get_by_text("Type a note first.")).to_be_in_viewport(ratio=1)
    expect(page.get_by_label("Note", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(note.locator("q.note")).to_have_text("(no note yet)")
    expect(page.get_by_role("status")).to_have_count(0)  # nothing "Saved"


def test_keep_it_for_stays_as_chosen_after_saving(page: Page) -> None:
    save_theme(page, "Dark", "1 year")
    expect(page.get_by_role("region", name="A preference cookie")).to_be_in_viewport()
    expect(page.get_by_label("1 year", exact=True)).to_be_checked()
    expect(page.get_by_label("Dark", exact=True)).to_be_checked()
    page.get_by_role("button", name="Delete theme cookie").click()
    expect(page.get_by_label("Until the browser closes", exact=True)).to_be_checked()


def test_the_session_legend_says_what_each_key_is(page: Page, account: Account) -> None:
    sign_in_by_script(page, account)
    page.goto("/cookies/")
    legend = page.get_by_role("region", name="Your session").locator("dl")
    for key, meaning in {
        "_user_id": "The session token of your sign-in",
        "_fresh": "True if you typed your password",
        "_fresh_at": "When you typed your password",
        "_id": "Flask-Login's fingerprint of this browser",
        "csrf_token": "The forms' CSRF token",
    }.items():
        expect(legend.locator(f"dt:has(> code:text-is('{key}')) + dd")).to_contain_text(meaning)


def test_clearing_a_visitors_session_says_no_sign_in_was_lost(page: Page) -> None:
    page.goto("/cookies/")
    page.get_by_label("Note", exact=True).fill("a visitor's note")
    page.get_by_role("button", name="Save note").click()
    page.get_by_role("button", name="Clear the whole session").click()
    expect(page).to_have_url(re.compile(r"/cookies/\?cleared=1#clear$"))
    cleared = clear_part(page).get_by_role("status")
    expect(cleared).to_contain_text("You were not signed in")
    expect(cleared).to_contain_text("You are still signed out.")
    expect(cleared).not_to_contain_text("Your sign-in")
    expect(cleared).to_be_in_viewport()
    expect(page.locator("header")).not_to_contain_text("Signed in as")
    expect(page.locator("q.note")).to_have_text("(no note yet)")


def test_radio_options_are_lighter_than_their_group_heading(page: Page) -> None:
    page.goto("/cookies/")
    for group, option in (("Theme", "Light"), ("Keep it for", "1 day")):
        heading = page.locator("legend", has_text=group)
        label = page.locator("label", has=page.get_by_label(option, exact=True))
        assert weight(heading) >= 600, group
        assert weight(label) <= 400, option


@pytest.mark.parametrize("theme", ["Light", "Dark"])
def test_unchecked_radios_stand_out_from_the_card(
    page: Page, context: BrowserContext, theme: str
) -> None:
    save_theme(page, theme, "1 day")
    radio = page.get_by_label("1 year", exact=True)
    expect(radio).not_to_be_checked()
    card = page.get_by_role("region", name="A preference cookie")
    background = rgb(card.evaluate("element => getComputedStyle(element).backgroundColor"))
    box = radio.bounding_box()
    assert box is not None
    drawn = colours(context, radio.screenshot())
    # WCAG 1.4.11: what shows a control is there needs 3:1 against what is around it; here
    # a whole ring of it, at least one pixel for each pixel of the circle's circumference.
    # (The browser's own dark radio had a few such pixels in a faint, broken ring.)
    visible = sum(contrast(colour, background) >= 3 for colour in drawn)
    circumference = math.pi * box["width"] * page.evaluate("devicePixelRatio")
    assert visible >= circumference, f"{visible} pixels at 3:1, {circumference:.0f} needed"


def test_clear_the_whole_session_stands_apart_from_remove_note(page: Page) -> None:
    page.goto("/cookies/")
    remove = page.get_by_role("button", name="Remove note")
    clear = clear_part(page).get_by_role("button", name="Clear the whole session")
    expect(clear).to_be_visible()
    expect(clear_part(page).get_by_role("button", name="Remove note")).to_have_count(0)
    above, below = remove.bounding_box(), clear.bounding_box()
    assert above is not None and below is not None
    assert below["y"] - (above["y"] + above["height"]) >= 32  # its own row, well below


def test_the_warning_page_keeps_the_hint_clear_of_the_red_button(
    page: Page, account: Account
) -> None:
    sign_in_by_script(page, account)
    page.goto("/cookies/")
    page.get_by_role("button", name="Clear the whole session").click()
    hint = page.get_by_text("The sign-in itself is not ended on the server")
    button = page.get_by_role("button", name="Clear the whole session")
    above, below = hint.bounding_box(), button.bounding_box()
    assert above is not None and below is not None
    assert below["y"] - (above["y"] + above["height"]) >= 12
    page.get_by_role("link", name="Keep my session").click()
    expect(page).to_have_url(re.compile(r"/cookies/#clear$"))
