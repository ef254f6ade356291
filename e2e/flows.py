"""What a person does in the browser, and how to read what the browser kept."""

import base64
import http.client
import json
import re
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit
from uuid import uuid4

from playwright.sync_api import BrowserContext, Cookie, Locator, Page, Response, Route, expect

from loginflow.config import TestingConfig
from tests.actions import CSRF_FIELD, PASSWORD, attributes

# The test servers run TestingConfig, so its names and its default duration are what they use.
SESSION = TestingConfig.SESSION_COOKIE_NAME
REMEMBER = TestingConfig.REMEMBER_ME_COOKIE_NAME
REMEMBER_ME_DURATION = int(TestingConfig.REMEMBER_ME_DURATION.total_seconds())
CSRF_FAILED = "This form expired, please try again"
HTTP_TIMEOUT = 10  # seconds, for each request made outside the browser
READY_TIMEOUT = 30  # seconds for every client of ``at_once`` to reach the start line
# Fills the page's own form by field name and sends it as its submit button would.
FILL_AND_SUBMIT = """values => {
    const form = document.querySelector("main form");
    for (const [name, value] of Object.entries(values)) {
        const field = form.elements.namedItem(name);
        if (field.type === "checkbox") field.checked = value; else field.value = value;
    }
    form.requestSubmit();
}"""

NewContext = Callable[..., BrowserContext]


@dataclass(frozen=True)
class Account:
    username: str
    password: str = PASSWORD


def new_username() -> str:
    """Unique per call, so tests never share a user and run in any order."""
    return f"user-{uuid4().hex[:16]}"


@dataclass(frozen=True)
class Answer:
    """A response read in full by ``HttpClient``."""

    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        return found[0] if found else None

    def set_cookie_headers(self, name: str) -> list[str]:
        """The literal Set-Cookie headers for ``name``."""
        return _set_cookies(self.headers, name)


class HttpClient:
    """The site over one plain HTTP connection, outside any browser, keeping its cookies.

    For what a browser cannot do on cue: many requests sent at the same instant, or a
    request carrying exactly the cookies a test chooses and nothing else.
    """

    def __init__(self, base_url: str, cookies: Mapping[str, str] | None = None) -> None:
        host, port = urlsplit(base_url).netloc.split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT)
        self.cookies = dict(cookies or {})

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()

    def connect(self) -> None:
        """Open the connection now, if it is not open, so that the next request leaves at once."""
        if self.connection.sock is None:
            self.connection.connect()

    def get(self, path: str) -> Answer:
        return self._send("GET", path)

    def post(self, path: str, fields: Mapping[str, str]) -> Answer:
        return self._send("POST", path, fields)

    def csrf_token(self, path: str) -> str:
        """Open the form at ``path``: its CSRF token, valid with the session cookie now kept."""
        token = CSRF_FIELD.search(self.get(path).body)
        assert token, f"the form at {path} has no CSRF token"
        return token.group(1)

    def submit(self, path: str, fields: Mapping[str, str]) -> Answer:
        """Open the form at ``path`` and post ``fields`` with its CSRF token, as a browser would."""
        return self.post(path, {"csrf_token": self.csrf_token(path), **fields})

    def _send(self, method: str, path: str, fields: Mapping[str, str] | None = None) -> Answer:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        answer = Answer(response.status, response.getheaders(), response.read().decode())
        for header in _set_cookies(answer.headers):
            name, _, value = header.split(";")[0].partition("=")
            if attributes(header).get("max-age") == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return answer


Request = Callable[[], Answer]


def at_once(clients: Sequence[HttpClient], ready: Callable[[HttpClient], Request]) -> list[Answer]:
    """Send one request from each client, all at the same instant; the answers in order.

    ``ready`` does what may be done ahead (opening a form) and gives the request to send.
    Each client waits on its open connection at a barrier, so no request leaves early.
    The clients' connections are closed afterwards; their cookies stay readable.
    """
    start = threading.Barrier(len(clients), timeout=READY_TIMEOUT)

    def race(client: HttpClient) -> Answer:
        try:
            request = ready(client)
            client.connect()
        except BaseException:
            start.abort()  # the others stop waiting at once
            raise
        start.wait()
        return request()

    try:
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            return list(pool.map(race, clients))
    finally:
        for client in clients:
            client.close()


def create_account(base_url: str) -> Account:
    """Register over plain HTTP, posting what the form would, outside any test browser.

    Registering signs in, so that client signs out again: the account is signed in
    nowhere, and the browser starts signed out. Only the registration test needs the page.
    """
    account = Account(new_username())
    with HttpClient(base_url, registered_cookies(base_url, account)) as client:
        signed_out = client.post("/logout", {"csrf_token": client.csrf_token("/account")})
    assert signed_out.status == 302, f"signing out after registering failed: {signed_out.status}"
    return account


def registered_cookies(base_url: str, account: Account) -> dict[str, str]:
    """Register ``account`` over plain HTTP; the cookies a browser would now hold.

    Signed in, with the welcome message waiting in the session for the next page.
    """
    with HttpClient(base_url) as client:
        created = client.submit("/register", registration(account))
    assert created.status == 302, f"registering {account.username} failed: {created.status}"
    return client.cookies


def registration(account: Account) -> dict[str, str]:
    """The registration form's fields, filled in for ``account``."""
    return {"username": account.username, "password": account.password, "confirm": account.password}


def signed_in_cookies(base_url: str, account: Account, *, remember: bool = False) -> dict[str, str]:
    """Sign in over plain HTTP, as the form would; the cookies a browser would now hold."""
    fields = {"username": account.username, "password": account.password}
    if remember:
        fields["remember"] = "y"
    with HttpClient(base_url) as client:
        signed_in = client.submit("/login", fields)
    assert signed_in.status == 302, f"signing in {account.username} failed: {signed_in.status}"
    return client.cookies


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


def sign_in_by_script(
    page: Page, account: Account, *, remember: bool = False, path: str = "/login"
) -> Response:
    """Sign in where signing in is only the way in: the form at ``path``, filled by script.

    The browser still sends the form and takes the cookies itself; what is left out is the
    simulated typing, which costs more than the rest together and which ``sign_in`` proves.
    """
    page.goto(path, wait_until="domcontentloaded")  # the form is there: no need for its styles
    values = {"username": account.username, "password": account.password, "remember": remember}
    return submit_by_script(page, values, "/login")


def submit_by_script(page: Page, values: Mapping[str, str | bool], action: str) -> Response:
    """Fill the page's own form by field name and send it as its button would; like
    ``submit_and_follow``, the response to the POST to ``action``, once its page is there."""
    return _send_and_follow(page, lambda: page.evaluate(FILL_AND_SUBMIT, values), action)


def sign_out(page: Page) -> Response:
    """Press the header's Sign out button; the response to its POST."""
    button = page.get_by_role("button", name="Sign out", exact=True)
    return submit_and_follow(page, button, "/logout")


def submit_and_follow(page: Page, button: Locator, action: str) -> Response:
    """Click ``button``, wait for the POST to ``action`` and the page it redirects to.

    A redirect off the site is not followed, so the test can say where it went.
    """
    return _send_and_follow(page, button.click, action)


def _send_and_follow(page: Page, send: Callable[[], object], action: str) -> Response:
    def is_the_post(response: Response) -> bool:
        return response.request.method == "POST" and urlsplit(response.url).path == action

    with page.expect_response(is_the_post) as posted:
        send()
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
    return _set_cookies([(h["name"], h["value"]) for h in response.headers_array()], name)


def _set_cookies(headers: list[tuple[str, str]], name: str | None = None) -> list[str]:
    """The Set-Cookie headers among ``headers``: all, or those for cookie ``name``."""
    return [
        value
        for key, value in headers
        if key.lower() == "set-cookie" and (name is None or value.startswith(f"{name}="))
    ]


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
    expect(page).to_have_url(re.compile(r"/login\?next=/account$"))
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
