"""What a raw client can send that a browser would not, against the real server."""

import http.client
from collections.abc import Iterator
from functools import partial
from urllib.parse import urlsplit

from .flows import Account, HttpClient, Request, at_once
from .server import Site
from .test_races import CLIENTS

FORM_TYPE = "application/x-www-form-urlencoded"
BODY_LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH's default
PER_USERNAME = 5  # THROTTLE_SIGN_IN_PER_USERNAME's default: failures a minute


def test_guesses_sent_at_once_are_counted_before_any_is_checked(
    site: Site, account: Account
) -> None:
    """Twenty wrong passwords for one account at the same instant: only as many are
    checked as the limit allows, and the rest are throttled without a password check."""
    guess = {"username": account.username, "password": "not the password"}

    def ready(client: HttpClient) -> Request:
        fields = {"csrf_token": client.csrf_token("/login"), **guess}
        return partial(client.post, "/login", fields)

    answers = at_once([HttpClient(site.url) for _ in range(CLIENTS)], ready)
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [422] * PER_USERNAME + [429] * (CLIENTS - PER_USERNAME), statuses
    # Throttled now, even the right password waits.
    with HttpClient(site.url) as owner:
        right = owner.submit("/login", {"username": account.username, "password": account.password})
    assert right.status == 429


def _chunked_note(site: Site, size: int) -> int:
    """Save a note with a body of ``size`` bytes sent chunked (no Content-Length)."""
    with HttpClient(site.url) as client:
        token = client.csrf_token("/cookies/")
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    head = f"csrf_token={token}&note=from+a+chunked+body&padding=".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        left = size - len(head)
        while left > 0:
            yield b"x" * min(8192, left)
            left -= 8192

    host, port = urlsplit(site.url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        headers = {"Content-Type": FORM_TYPE, "Cookie": cookie}
        connection.request(
            "POST", "/cookies/note", body=chunks(), headers=headers, encode_chunked=True
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_chunked_body_past_the_limit_is_refused_not_cut_short(site: Site) -> None:
    """Werkzeug stops reading an unannounced body at the limit; the site must refuse it
    rather than act on the part it read."""
    assert _chunked_note(site, 1024) == 302  # a small one is read whole
    assert _chunked_note(site, 2 * BODY_LIMIT) == 413
