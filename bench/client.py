"""Signing in over HTTP, as a browser does: cookies kept by name, CSRF tokens read from forms.

wrk only replays what it is given, so the session and remember cookies it sends, and the
CSRF token of the sign-in form it posts, are made here first, through the sites' own pages.
"""

import http.client
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

PASSWORD = "correct horse battery staple"
# What a browser says it is; wrk sends it too, so every request carries a realistic header.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
TIMEOUT = 60  # seconds: a sign-in waits its turn for a password hash


@dataclass(frozen=True)
class Answer:
    """A response read in full."""

    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def set_cookies(self) -> list[str]:
        """The Set-Cookie headers, literally."""
        return [v for k, v in self.headers if k.lower() == "set-cookie"]


@dataclass
class Browser:
    """One browser's cookie jar and requests, to one site on 127.0.0.1.

    Cookies are kept by name whatever their attributes: production's ``__Host-`` cookies
    are Secure, which a real browser sends only over HTTPS, but the server reads them the
    same over plain HTTP, which is all wrk speaks.
    """

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.getheaders(), response.read().decode())
        finally:
            connection.close()
        for header in answer.set_cookies():
            self._keep(header)
        return answer

    def csrf_token(self, path: str) -> str:
        """The CSRF token of the form at ``path``; the session cookie that goes with it is kept."""
        answer = self.request("GET", path)
        found = CSRF_FIELD.search(answer.body)
        if answer.status != 200 or found is None:
            raise RuntimeError(f"No CSRF token at {path} (status {answer.status}).")
        return found.group(1)

    def sign_in_form(self, username: str, *, remember: bool = False) -> dict[str, str]:
        """The sign-in form as a browser posts it, with this browser's CSRF token."""
        form = {"username": username, "password": PASSWORD, "csrf_token": self.csrf_token("/login")}
        if remember:
            form["remember"] = "y"
        return form

    def sign_in(self, username: str, *, remember: bool = False) -> Answer:
        """Sign in through the form; the redirect it answers with is not followed."""
        answer = self.request("POST", "/login", self.sign_in_form(username, remember=remember))
        if answer.status != 302:
            raise RuntimeError(f"Signing in as {username} answered {answer.status}.")
        return answer

    def cookie_header(self, *names: str) -> str:
        """A Cookie header with ``names``, or with every cookie kept."""
        chosen = names or tuple(self.cookies)
        return "; ".join(f"{name}={self.cookies[name]}" for name in chosen)

    def _keep(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if "max-age=0" in attributes.lower().replace(" ", ""):
            self.cookies.pop(name, None)  # how Flask deletes a cookie
        else:
            self.cookies[name] = value


def cookie_value(answer: Answer, name: str) -> str | None:
    """The value ``answer`` sets for cookie ``name``, if it sets one."""
    for header in answer.set_cookies():
        pair = header.partition(";")[0]
        if pair.startswith(f"{name}="):
            return pair.partition("=")[2]
    return None
