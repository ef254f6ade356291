"""Every page, signed out and signed in, in both themes: nothing axe finds inaccessible,
and nothing the Content-Security-Policy has to refuse.

Each page is its own case, but a browser walks each (state, theme) once, on first
demand, and remembers what it found: one page load and one axe run per page and theme.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from loginflow.auth import SIGN_IN_FAILED

from .flows import (
    Account,
    form,
    new_username,
    registered_cookies,
    sign_in_by_script,
    signed_in_cookies,
    submit_and_follow,
    submit_by_script,
)

THEMES = ("light", "dark")
# Chromium words a refusal "... violates the following Content Security Policy directive"
# (before version 13x: "Refused to ..."); Firefox begins "Content-Security-Policy: ...".
CSP_REFUSAL = re.compile("Content[ -]Security[ -]Policy|Refused to")
# axe's default rules (WCAG A and AA, and best practices); only what it finds broken.
AXE_RUN = f"axe.run({json.dumps({'resultTypes': ['violations']})}).then(found => found.violations)"
AXE_SCRIPT = Axe().axe_script


@dataclass(frozen=True)
class Visit:
    """A page to check: how a person brings it up, and the heading that shows it is up."""

    open: Callable[[Page], object]
    heading: str | re.Pattern[str]


def go(path: str) -> Callable[[Page], object]:
    return lambda page: page.goto(path)


def send_with_three_errors(path: str, bad: dict[str, str]) -> Callable[[Page], None]:
    """Send the form at ``path`` filled with ``bad``: the page comes back with three errors."""

    def visit(page: Page) -> None:
        page.goto(path)
        assert submit_by_script(page, bad, path).status == 422
        expect(form(page).locator("[aria-invalid=true]")).to_have_count(3)

    return visit


register_with_errors = send_with_three_errors(
    "/register", {"username": "x", "password": "password", "confirm": "something else"}
)


def fail_to_sign_in(page: Page) -> None:
    sign_in_by_script(page, Account(new_username(), "not the right password"))
    expect(page.get_by_role("alert")).to_have_text(SIGN_IN_FAILED)


def account_with_two_sign_ins(page: Page) -> None:
    page.goto("/account")
    expect(page.get_by_role("button", name=re.compile("^End "))).to_be_visible()


change_password_with_errors = send_with_three_errors(
    "/account/password",
    {"current_password": "", "new_password": "short", "confirm": "something else"},
)


def clear_session_warning(page: Page) -> None:
    page.goto("/cookies/")
    button = page.get_by_role("button", name="Clear the whole session")
    submit_and_follow(page, button, "/cookies/clear")


PAGES: dict[str, dict[str, Visit]] = {
    "signed-out": {
        "home": Visit(go("/"), "A login flow, done right"),
        "register": Visit(go("/register"), "Create account"),
        "register-with-errors": Visit(register_with_errors, "Create account"),
        # Reached as most people reach it, sent from /account, with the flash that asks.
        "sign-in": Visit(go("/account"), "Sign in"),
        "sign-in-failed": Visit(fail_to_sign_in, "Sign in"),
        "cookie-lab": Visit(go("/cookies/"), "Cookie lab"),
        "not-found": Visit(go("/no/such/page"), "Page not found"),
    },
    "signed-in": {
        # First: the account was just registered, so this page also shows the welcome flash;
        # and it is signed in on a second browser too, so it lists two sign-ins, one with End.
        "account": Visit(account_with_two_sign_ins, "Your account"),
        "home": Visit(go("/"), re.compile("^Hello, ")),
        "cookie-lab": Visit(go("/cookies/"), "Cookie lab"),
        "change-password": Visit(go("/account/password"), "Change password"),
        "change-password-with-errors": Visit(change_password_with_errors, "Change password"),
        # Opened directly, so without the flash that a stale session arrives with.
        "reauth": Visit(go("/reauth?next=/account/password"), "Confirm your password"),
        "clear-session-warning": Visit(clear_session_warning, "Clear the whole session?"),
        "not-found": Visit(go("/no/such/page"), "Page not found"),
    },
}
CASES = [
    pytest.param(state, theme, name, id=f"{state}-{theme}-{name}")
    for state, pages in PAGES.items()
    for theme in THEMES
    for name in pages
]


@dataclass(frozen=True)
class Findings:
    violations: list[str]  # axe's, one line per rule and element
    refusals: list[str]  # the console's CSP refusals, and uncaught script errors


Walk = Callable[[str, str], dict[str, Findings]]


@pytest.fixture(scope="module")
def walk(browser: Browser, base_url: str) -> Walk:
    """What each page showed, by page name, for a state and theme; walked on first demand.

    A walk that broke off is not tried again: its other pages fail at once, saying why.
    """
    walked: dict[tuple[str, str], dict[str, Findings]] = {}
    broke_off: dict[tuple[str, str], str] = {}

    def findings(state: str, theme: str) -> dict[str, Findings]:
        if (state, theme) in broke_off:
            pytest.fail(f"the {state} {theme} walk broke off: {broke_off[state, theme]}")
        if (state, theme) not in walked:
            try:
                walked[state, theme] = walk_pages(browser, base_url, state, theme)
            except Exception as error:
                broke_off[state, theme] = f"{type(error).__name__}: {error}"
                raise
        return walked[state, theme]

    return findings


def walk_pages(browser: Browser, base_url: str, state: str, theme: str) -> dict[str, Findings]:
    """Open each page of ``state`` in one browser holding the ``theme`` cookie; axe each."""
    cookies = {"theme": theme}
    if state == "signed-in":
        account = Account(new_username())
        cookies |= registered_cookies(base_url, account)
        signed_in_cookies(base_url, account)  # another browser, for /account to list
    context = browser.new_context(base_url=base_url)
    try:
        context.add_cookies([{"name": k, "value": v, "url": base_url} for k, v in cookies.items()])
        inject_axe(context)
        page = context.new_page()
        refusals = watch_for_refusals(page)
        found = {}
        for name, visit in PAGES[state].items():
            refusals.clear()
            visit.open(page)
            expect(page.get_by_role("heading", level=1)).to_have_text(visit.heading)
            expect(page.locator("html")).to_have_attribute("data-theme", theme)
            violations = [line for rule in page.evaluate(AXE_RUN) for line in describe(rule)]
            found[name] = Findings(violations, list(refusals))
        return found
    finally:
        context.close()


def inject_axe(context: BrowserContext) -> None:
    """Put axe into every page ``context`` opens, before the page's own scripts.

    Through the DevTools protocol, as page.evaluate does, to which the page's CSP does not
    apply; the browser is not told to bypass CSP, so the pages' own content still obeys it.
    """
    context.add_init_script(AXE_SCRIPT)


def watch_for_refusals(page: Page) -> list[str]:
    """A list that fills with what ``page``'s console says the CSP refused, and script errors."""
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if CSP_REFUSAL.search(message.text):
            seen.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    return seen


def describe(rule: dict[str, Any]) -> list[str]:
    """One line per element breaking an axe rule: the rule, its impact, where, and why."""
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at {', '.join(node['target'])}: "
        + " ".join(node.get("failureSummary", "").split())
        for node in rule["nodes"]
    ]


@pytest.mark.parametrize(("state", "theme", "name"), CASES)
def test_page_has_no_accessibility_violations(
    walk: Walk, state: str, theme: str, name: str
) -> None:
    violations = walk(state, theme)[name].violations
    assert not violations, f"{name}, {state}, {theme} theme:\n" + "\n".join(violations)


@pytest.mark.parametrize(("state", "theme", "name"), CASES)
def test_page_needs_nothing_the_content_security_policy_refuses(
    walk: Walk, state: str, theme: str, name: str
) -> None:
    refusals = walk(state, theme)[name].refusals
    assert not refusals, f"{name}, {state}, {theme} theme:\n" + "\n".join(refusals)


def test_csp_refuses_an_inline_script_and_says_so_but_lets_axe_in(page: Page) -> None:
    """The checks above can fail: this browser enforces the policy and its console reports a
    refusal, while axe, put in through the DevTools protocol either way, is not refused."""
    inject_axe(page.context)
    refusals = watch_for_refusals(page)
    shown = page.goto("/")
    assert shown is not None
    assert "script-src 'self'" in (shown.header_value("content-security-policy") or "")

    with page.expect_console_message(lambda message: bool(CSP_REFUSAL.search(message.text))):
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injected = true";
                document.head.append(script);
            }"""
        )

    assert page.evaluate("typeof window.injected") == "undefined"
    assert refusals, "the watcher saw the refusal"
    assert page.evaluate(AXE_RUN) == []
    assert Axe().run(page).violations_count == 0  # axe's own way in: page.evaluate
