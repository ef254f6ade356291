"""What an attacker can try with cookies, links and forms, and that none of it works."""

import secrets
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .flows import (
    CSRF_FAILED,
    REMEMBER,
    SESSION,
    Account,
    NewContext,
    browser_with_cookies,
    cookie,
    create_account,
    expect_signed_in_as,
    expect_signed_out,
    forge_session,
    record_departures,
    session_data,
    sign_in_by_script,
    statuses,
)
from .server import Site

# Each is read by some browser or URL parser as another host, a script, or not a path.
HOSTILE_NEXT = {
    "protocol-relative": "//evil.example",
    "slash-backslash": "/\\evil.example",
    "backslash-slash": "\\/evil.example",
    "three-slashes": "///evil.example",
    "leading-space": " //evil.example",
    "tab-between-slashes": "/\t/evil.example",
    "percent-encoded-slashes": "%2F%2Fevil.example",
    "scheme-without-slashes": "https:evil.example",
    "absolute-url": "https://evil.example/",
    "lookalike-host": "http://127.0.0.1.evil.example/",
    "javascript-url": "javascript:alert(1)",
}


def _other_selector(value: str) -> str:
    return ("A" if value[0] != "A" else "B") + value[1:]


TAMPERED_REMEMBER: dict[str, Callable[[str], str]] = {
    "unknown-selector": _other_selector,
    "selector-without-validator": lambda value: value.partition(":")[0],
    "validator-without-selector": lambda value: ":" + value.partition(":")[2],
    "not-a-remember-cookie": lambda value: "not-a-remember-cookie",
}


def test_tampered_session_cookie_signs_out_without_an_error_page(
    page: Page, context: BrowserContext, new_context: NewContext, site: Site, account: Account
) -> None:
    """Rewriting the session to point at someone else's sign-in breaks its signature."""
    victim = new_context()
    sign_in_by_script(victim.new_page(), create_account(site.url))
    victim_session = cookie(victim, SESSION)
    assert victim_session is not None
    victim_sign_in = session_data(victim_session["value"])["_user_id"]
    sign_in_by_script(page, account)
    own = cookie(context, SESSION)
    assert own is not None

    forged = forge_session(own["value"], _user_id=victim_sign_in)
    context.add_cookies([{**own, "value": forged}])
    assert cookie(context, SESSION) == {**own, "value": forged}

    landed = expect_signed_out(page)
    assert statuses(landed) == [302, 200]


@pytest.mark.parametrize("tamper", TAMPERED_REMEMBER.values(), ids=TAMPERED_REMEMBER.keys())
def test_tampered_remember_cookie_signs_out_without_an_error_page(
    page: Page,
    context: BrowserContext,
    new_context: NewContext,
    account: Account,
    tamper: Callable[[str], str],
) -> None:
    """A remember cookie that does not name a sign-in and prove it restores nothing."""
    sign_in_by_script(page, account, remember=True)
    genuine = cookie(context, REMEMBER)
    assert genuine is not None

    restarted = browser_with_cookies(new_context, [{**genuine, "value": tamper(genuine["value"])}])

    landed = expect_signed_out(restarted.new_page())
    assert statuses(landed) == [302, 200]


def test_forged_validator_for_a_real_selector_ends_that_sign_in(
    page: Page, context: BrowserContext, new_context: NewContext, account: Account
) -> None:
    """A wrong validator for a known selector means the cookie leaked: that sign-in ends,
    so neither the forger nor the genuine cookie restores it, and the open session ends too."""
    sign_in_by_script(page, account, remember=True)
    genuine = cookie(context, REMEMBER)
    assert genuine is not None
    selector = genuine["value"].partition(":")[0]

    forged = f"{selector}:{secrets.token_urlsafe(32)}"
    landed = expect_signed_out(
        browser_with_cookies(new_context, [{**genuine, "value": forged}]).new_page()
    )
    assert statuses(landed) == [302, 200]

    expect_signed_out(browser_with_cookies(new_context, [genuine]).new_page())
    expect_signed_out(page)


@pytest.mark.parametrize("target", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_hostile_next_never_leads_off_the_site(
    page: Page, context: BrowserContext, site: Site, account: Account, target: str
) -> None:
    """A link to /login whose next points elsewhere ends on this site: through the form,
    and again when the browser opening it is already signed in and redirected at once."""
    departures = record_departures(context, site.url)
    link = "/login?" + urlencode({"next": target})

    posted = sign_in_by_script(page, account, path=link)

    assert posted.header_value("location") == "/account"
    expect(page).to_have_url(f"{site.url}/account")

    page.goto(link)

    expect(page).to_have_url(f"{site.url}/account")
    assert departures == []


CSRF_TOKENS = {"missing": {}, "wrong": {"csrf_token": "not-the-token"}}


@pytest.mark.parametrize("token", CSRF_TOKENS.values(), ids=CSRF_TOKENS.keys())
def test_sign_in_post_without_the_csrf_token_is_refused(
    page: Page, context: BrowserContext, account: Account, token: dict[str, str]
) -> None:
    """Another site cannot sign someone in to an account of its choosing (login CSRF)."""
    # The browser holds a session with a CSRF token, as after opening the form once.
    page.goto("/login")
    credentials = {"username": account.username, "password": account.password, "remember": "y"}

    refused = page.request.post("/login", form=credentials | token)

    assert refused.status == 400
    assert CSRF_FAILED in refused.text()
    assert cookie(context, REMEMBER) is None
    expect_signed_out(page)


@pytest.mark.parametrize("token", CSRF_TOKENS.values(), ids=CSRF_TOKENS.keys())
def test_sign_out_post_without_the_csrf_token_is_refused(
    page: Page, context: BrowserContext, account: Account, token: dict[str, str]
) -> None:
    """Another site cannot sign someone out: the session and the remember cookie stay."""
    sign_in_by_script(page, account, remember=True)
    remembered = cookie(context, REMEMBER)
    assert remembered is not None

    refused = page.request.post("/logout", form=token)

    assert refused.status == 400
    assert CSRF_FAILED in refused.text()
    assert cookie(context, REMEMBER) == remembered
    expect_signed_in_as(page, account)
