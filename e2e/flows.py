"""What a person does in the browser, and how to read what the browser kept."""

import base64
import http.client
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit
from uuid import uuid4

from playwright.sync_api import BrowserContext, Cookie, Locator, Page, Response, Route, expect

PASSWORD = "correct horse battery staple"
SESSION = "session"
REMEMBER = "remember"
REMEMBER_ME_DURATION = 14 * 24 * 3600  # seconds: the site's default
SIGN_IN_FAILED = "Invalid username or password."
CSRF_FAILED = "This form expired, please try again"

NewContext = Callable[..., BrowserContext]


@dataclass(frozen=True)
class Account:
    username: str
    password: str = PASSWORD


def new_username() -> str:
    """Unique per call, so tests never share a user and run in any order."""
    return f"user-{uuid4().hex[:16]}"


def create_account(base_url: str) -> Account:
    """Register over plain HTTP, posting what the form would, outside any test browser.

    The browser then starts signed out; only the registration test needs the page itself.
    """
    account = Account(new_username())
    host, port = urlsplit(base_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", "/register")
        form = connection.getresponse()
        page = form.read().decode()
        cookie = form.getheader("Set-Cookie", "").split(";")[0]
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert token, "the registration form has no CSRF token"
        body = urlencode(
            {
                "csrf_token": token.group(1),
                "username": account.username,
                "password": account.password,
                "confirm": account.password,
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        connection.request("POST", "/register", body=body, headers=headers)
        created = connection.getresponse()
        created.read()
    finally:
        connection.close()
    assert created.status == 302, f"registering {account.username} failed: {created.status}"
    return account


def form(page: Page) -> Locator:
    """The page's own form, not the header's Sign out form or links named like its button."""
    return page.locator("main form")


def register(page: Page, account: Account) -> None:
    """Fill in and send the registration form, and wait for the page it leads to."""
    page.goto("/register")
    fields = form(page)
    fields.get_by_label("Username").fill(account.username)
    fields.get_by_label("Password", exact=True).fill(account.password)
    fields.get_by_label("Confirm password").fill(account.password)
    submit_and_follow(page, fields.get_by_role("button", name="Create account"), "/register")


def sign_in(
    page: Page, account: Account, *, remember: bool = False, path: str | None = "/login"
) -> Response:
    """Sign in through the form at ``path`` (None: the page already open); the POST's response."""
    if path is not None:
        page.goto(path)
    fields = form(page)
    fields.get_by_label("Username").fill(account.username)
    fields.get_by_label("Password", exact=True).fill(account.password)
    fields.get_by_label("Remember me").set_checked(remember)
    return submit_and_follow(page, fields.get_by_role("button", name="Sign in"), "/login")


def sign_out(page: Page) -> Response:
    """Press the header's Sign out button; the response to its POST."""
    button = page.get_by_role("button", name="Sign out", exact=True)
    return submit_and_follow(page, button, "/logout")


def submit_and_follow(page: Page, button: Locator, action: str) -> Response:
    """Click ``button``, wait for the POST to ``action`` and the page it redirects to.

    A redirect off the site is not followed, so the test can say where it went.
    """

    def is_the_post(response: Response) -> bool:
        return response.request.method == "POST" and urlsplit(response.url).path == action

    with page.expect_response(is_the_post) as posted:
        button.click()
    response = posted.value
    location = response.header_value("location")
    target = urljoin(response.url, location) if location is not None else None
    if target is not None and urlsplit(target).netloc == urlsplit(response.url).netloc:
        page.wait_for_url(target)
    else:
        page.wait_for_load_state()
    return response


def record_departures(context: BrowserContext, site_url: str) -> list[str]:
    """Every URL off the site that ``context`` goes on to request, answered with a stub page.

    No request leaves this machine, and a test can assert that none was even tried.
    """
    departures: list[str] = []
    origin = urlsplit(site_url).netloc

    def leaves_the_site(url: str) -> bool:
        return urlsplit(url).netloc != origin

    def stub(route: Route) -> None:
        departures.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>Left the site</h1>")

    context.route(leaves_the_site, stub)
    return departures


def set_cookie_headers(response: Response, name: str) -> list[str]:
    """The literal Set-Cookie headers for ``name`` that the browser received."""
    return [
        header["value"]
        for header in response.headers_array()
        if header["name"].lower() == "set-cookie" and header["value"].startswith(f"{name}=")
    ]


def cookie_attributes(header: str) -> set[str]:
    """The attributes of a Set-Cookie header as written: {"HttpOnly", "Max-Age=60", ...}."""
    _, *attributes = (part.strip() for part in header.split(";"))
    return set(attributes)


def cookie(context: BrowserContext, name: str) -> Cookie | None:
    """The browser's cookie called ``name``, if it holds one."""
    found = [c for c in context.cookies() if c["name"] == name]
    assert len(found) <= 1, found
    return found[0] if found else None


def session_data(value: str) -> dict[str, Any]:
    """The contents of a Flask session cookie: signed, not encrypted, so anyone can read it.

    The value is base64 JSON (zlib-compressed when it starts with "."), a timestamp and
    a signature, separated by dots.
    """
    compressed = value.startswith(".")
    payload = value.removeprefix(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(data) if compressed else data)


def forge_session(value: str, **changes: Any) -> str:
    """``value`` with its contents changed but its timestamp and signature kept."""
    data = session_data(value) | changes
    payload = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    _, timestamp, signature = value.removeprefix(".").split(".")
    return f"{payload}.{timestamp}.{signature}"


def restart_browser(context: BrowserContext, new_context: NewContext) -> BrowserContext:
    """Close the browser and open it again: only cookies with an expiry survive."""
    kept = [c for c in context.cookies() if c["expires"] > 0]
    context.close()
    restarted = new_context()
    restarted.add_cookies(kept)
    return restarted


def browser_with_cookies(new_context: NewContext, cookies: list[Cookie]) -> BrowserContext:
    """Another browser holding exactly ``cookies`` (copied, stolen or forged)."""
    browser = new_context()
    browser.add_cookies(cookies)
    held = {c["name"]: c["value"] for c in browser.cookies()}
    assert held == {c["name"]: c["value"] for c in cookies}, "the browser refused a cookie"
    return browser


def open_account(page: Page) -> Response:
    """Open /account; the response that ended the redirects."""
    response = page.goto("/account")
    assert response is not None
    return response


def expect_signed_in_as(page: Page, account: Account) -> None:
    """/account opens and shows this user's name: the server took the session."""
    open_account(page)
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator("header")).to_contain_text(f"Signed in as {account.username}")


def expect_signed_out(page: Page) -> Response:
    """/account sends the browser to sign in, and the header offers Sign in, not Sign out."""
    response = open_account(page)
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    return response


def statuses(response: Response) -> list[int]:
    """Every status on the way to ``response``, first request first."""
    chain = [response.status]
    request = response.request.redirected_from
    while request is not None:
        earlier = request.response()
        assert earlier is not None
        chain.insert(0, earlier.status)
        request = request.redirected_from
    return chain


def fact(page: Page, name: str) -> Locator:
    """The value next to ``name`` in the account page's list of facts."""
    return page.locator(f"dt:text-is('{name}') + dd")


def expires_in(cookie_: Cookie) -> float:
    """Seconds from now until the browser drops ``cookie_``."""
    return cookie_["expires"] - time.time()
