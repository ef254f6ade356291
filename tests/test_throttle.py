"""Throttling: failed sign-ins per username and per address, sign-ups per address."""

import logging
import re
import socket
import time
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from loginflow import throttle
from loginflow.throttle import COUNTERS_UNAVAILABLE, Throttled, render_throttled

from .actions import PASSWORD, csrf_token, register, sign_in
from .conftest import MakeApp
from .test_security_log import security_lines

TOO_MANY = re.compile(r"Too many attempts\. Please try again in (\d+) (seconds|minutes)\.")


def fail_sign_in(client: FlaskClient, username: str = "alice") -> int:
    return sign_in(client, username, "wrong password").status_code


def test_right_password_waits_once_a_username_is_throttled(
    signed_up: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert [fail_sign_in(signed_up) for _ in range(5)] == [422] * 5
    response = sign_in(signed_up)  # the right password, 5 failures later
    assert response.status_code == 429
    said = TOO_MANY.search(response.text)
    assert said
    assert said.groups() == (response.headers["Retry-After"], "seconds")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert signed_up.get("/account").status_code == 302  # not signed in
    assert "event=throttled user=alice ip=127.0.0.1" in caplog.text


def test_throttled_page_links_back_to_the_form(signed_up: FlaskClient) -> None:
    for _ in range(5):
        fail_sign_in(signed_up)
    data = {"username": "alice", "password": PASSWORD, "csrf_token": csrf_token(signed_up)}
    response = signed_up.post("/login", data=data, headers={"Referer": "http://localhost/login"})
    assert response.status_code == 429
    assert '<a class="button" href="/login">Try again</a>' in response.text


def test_throttle_counts_usernames_in_any_letter_case(signed_up: FlaskClient) -> None:
    for username in ("alice", "ALICE", "Alice", " alice", "aLiCe"):
        assert fail_sign_in(signed_up, username) == 422
    assert fail_sign_in(signed_up, "AlIcE") == 429


def test_successful_sign_ins_are_not_counted(signed_up: FlaskClient) -> None:
    for _ in range(8):
        assert sign_in(signed_up).status_code == 302
    assert fail_sign_in(signed_up) == 422


def test_throttling_one_username_leaves_others_alone(signed_up: FlaskClient) -> None:
    register(signed_up, "bob")
    for _ in range(5):
        fail_sign_in(signed_up, "alice")
    assert sign_in(signed_up, "bob").status_code == 302


def test_one_address_is_throttled_across_usernames(signed_up: FlaskClient) -> None:
    codes = [fail_sign_in(signed_up, f"nobody{n}") for n in range(21)]
    assert codes == [422] * 20 + [429]


def test_registrations_are_limited_per_address(client: FlaskClient) -> None:
    codes = [register(client, f"user{n}").status_code for n in range(11)]
    assert codes == [302] * 10 + [429]
    refused = register(client, "user99")
    assert 3540 <= int(refused.headers["Retry-After"]) <= 3600
    assert TOO_MANY.search(refused.text).group(2) == "minutes"


def test_throttling_can_be_switched_off(make_app: MakeApp) -> None:
    client = make_app(RATELIMIT_ENABLED=False).test_client()
    register(client)
    codes = [fail_sign_in(client) for _ in range(7)]
    assert codes == [422] * 7
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_limits_are_settings(make_app: MakeApp) -> None:
    client = make_app(THROTTLE_SIGN_IN_PER_USERNAME="2 per minute").test_client()
    register(client)
    assert [fail_sign_in(client) for _ in range(3)] == [422, 422, 429]


def behind_a_proxy(client: FlaskClient, forwarded_for: str) -> FlaskClient:
    """Requests arrive from the proxy at 10.0.0.1, naming the client it forwards."""
    client.environ_base |= {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded_for}
    return client


ONE_PER_ADDRESS = {
    "THROTTLE_SIGN_IN_PER_ADDRESS": "2 per minute",
    "THROTTLE_SIGN_IN_PER_USERNAME": "100 per minute",
}


def test_behind_a_trusted_proxy_each_client_it_forwards_is_counted_apart(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(TRUSTED_PROXIES=1, **ONE_PER_ADDRESS)
    guesser = behind_a_proxy(app.test_client(), "203.0.113.5")
    assert [fail_sign_in(guesser, "nobody") for _ in range(3)] == [422, 422, 429]
    assert "event=throttled user=- ip=203.0.113.5" in caplog.text
    other = behind_a_proxy(app.test_client(), "198.51.100.7")
    assert fail_sign_in(other, "nobody") == 422  # another person behind the same proxy


def test_without_a_trusted_proxy_a_forged_forwarded_for_dodges_nothing(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(**ONE_PER_ADDRESS)
    statuses = [
        fail_sign_in(behind_a_proxy(app.test_client(), f"192.0.2.{n}"), "nobody") for n in range(3)
    ]
    assert statuses == [422, 422, 429]
    assert "event=throttled user=- ip=10.0.0.1" in caplog.text


def unreachable_counters(app: Flask) -> None:
    """The app's counters move to a Redis that refuses connections (a port nobody serves)."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    storage = storage_from_string(f"redis://127.0.0.1:{port}", wrap_exceptions=True)
    app.extensions["throttle"] = FixedWindowRateLimiter(storage)


def test_unreachable_counters_refuse_password_forms_with_503_and_nothing_else(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as a deployed site
    signed_in = app.test_client()
    register(signed_in)
    unreachable_counters(app)
    client = app.test_client()
    assert client.get("/login").status_code == 200  # a page that counts nothing
    assert signed_in.get("/account").status_code == 200
    for attempt in (
        sign_in(client),
        sign_in(client, "alice", "wrong password"),
        register(client, "bob"),
    ):
        assert attempt.status_code == 503
        assert attempt.headers["Retry-After"] == "30"
        assert COUNTERS_UNAVAILABLE in attempt.text
    data = {"username": "alice", "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    paused = client.post("/login", data=data, headers={"Referer": "http://localhost/login"})
    assert '<a class="button" href="/login">Try again</a>' in paused.text  # back to the form
    assert client.get("/account").status_code == 302  # the right password did not sign in
    assert caplog.messages.count("Throttle counters unavailable: ConnectionError") == 4
    assert "Traceback" not in caplog.text


def test_a_place_that_cannot_be_given_back_leaves_the_answer_as_it_was(
    signed_up: FlaskClient, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with app.app_context():
        counting = throttle.counters()
    assert counting is not None
    take = counting.hit

    def hit(*place: Any, cost: int = 1) -> bool:
        if cost < 0:
            raise StorageError(ConnectionError("gone"))
        return take(*place, cost=cost)

    counting.hit = hit  # type: ignore[method-assign]
    response = sign_in(signed_up)
    assert response.status_code == 302  # signed in all the same
    assert signed_up.get("/account").status_code == 200
    assert "Could not give back a throttle place: ConnectionError" in caplog.messages


@pytest.mark.parametrize(
    ("seconds", "wait"),
    [
        (1, "1 second"),
        (2, "2 seconds"),
        (119, "119 seconds"),
        (120, "2 minutes"),
        (121, "3 minutes"),
        (3600, "60 minutes"),
    ],
)
def test_the_wait_is_told_in_seconds_under_two_minutes_then_in_minutes_rounded_up(
    app: Flask, seconds: int, wait: str
) -> None:
    with app.test_request_context("/login", method="POST"):
        response = render_throttled(Throttled(seconds))
    assert response.status_code == 429
    assert f"Too many attempts. Please try again in {wait}." in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == str(seconds)


def test_a_sign_in_form_without_a_username_is_refused_like_any_other(
    signed_up: FlaskClient,
) -> None:
    data = {"password": PASSWORD, "csrf_token": csrf_token(signed_up)}
    assert signed_up.post("/login", data=data).status_code == 422


def test_sign_ups_without_a_username_are_throttled_and_logged_without_a_name(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    data = {"password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf_token(client)}
    codes = [client.post("/register", data=data).status_code for _ in range(11)]
    assert codes == [422] * 10 + [429]
    assert security_lines(caplog) == [("throttled", "-", "127.0.0.1")]


def test_the_wait_is_at_least_a_second_even_as_the_window_ends(
    signed_up: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(5):
        fail_sign_in(signed_up)
    # The throttle's own clock reads a moment past the window's end: nothing left to wait.
    later = time.time() + 3600
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: later))
    response = sign_in(signed_up)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert "Too many attempts. Please try again in 1 second." in response.text
