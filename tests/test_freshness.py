"""A fresh sign-in: the password typed in this browser session, less than FRESH_FOR ago."""

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from loginflow import freshness
from loginflow.extensions import db
from loginflow.models import SignIn, User, utcnow

from .actions import (
    PASSWORD,
    change_password,
    csrf_token,
    flashes,
    go_stale,
    post_from,
    register,
    set_cookie,
    sign_in,
    sign_out,
)
from .conftest import MakeApp
from .test_remember import the_sign_in
from .test_security_log import security_lines


@pytest.fixture
def signed_in(client: FlaskClient) -> FlaskClient:
    assert register(client).status_code == 302
    client.get("/")  # shows the welcome message, so later pages show only their own
    return client


def session_of(client: FlaskClient) -> dict:
    with client.session_transaction() as session:
        return dict(session)


def reauth(client: FlaskClient, password: str, next_path: str = "/account/password"):
    fields = {"password": password, "csrf_token": csrf_token(client, "/reauth")}
    return client.post("/reauth", query_string={"next": next_path}, data=fields)


def test_freshness_lapses_after_fresh_for(app: Flask, signed_in: FlaskClient) -> None:
    assert "Yes: you typed your password" in signed_in.get("/account").text
    go_stale(signed_in, app)
    page = signed_in.get("/account").text
    assert "No: you typed your password more than 15 minutes ago" in page
    assert session_of(signed_in)["_fresh"] is False
    assert "_fresh_at" not in session_of(signed_in)


NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed_ago", "fresh"),
    [(timedelta(minutes=15), False), (timedelta(minutes=15) - timedelta(milliseconds=1), True)],
)
def test_freshness_lapses_exactly_fresh_for_after_the_password(
    signed_in: FlaskClient, monkeypatch: pytest.MonkeyPatch, typed_ago: timedelta, fresh: bool
) -> None:
    monkeypatch.setattr(freshness, "utcnow", lambda: NOW)
    with signed_in.session_transaction() as session:
        session["_fresh_at"] = (NOW - typed_ago).timestamp()
    page = signed_in.get("/account").text
    assert ("Yes: you typed your password" in page) is fresh
    assert session_of(signed_in)["_fresh"] is fresh


def test_a_fresh_session_that_does_not_say_when_is_fresh_no_more(signed_in: FlaskClient) -> None:
    with signed_in.session_transaction() as session:
        del session["_fresh_at"]  # as Flask-Login alone marks a session fresh
    assert "No: you typed your password" in signed_in.get("/account").text
    assert session_of(signed_in)["_fresh"] is False


def test_a_file_fetched_while_the_session_goes_stale_sets_no_cookie(
    app: Flask, signed_in: FlaskClient
) -> None:
    """A file may be kept by caches shared between people: it must never carry a cookie."""
    link = re.search(r'href="(/static/style\.css\?v=\w+)"', signed_in.get("/account").text)
    go_stale(signed_in, app)
    response = signed_in.get(link.group(1))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    response.close()
    assert "No: you typed your password" in signed_in.get("/account").text


def test_fresh_for_is_a_setting(make_app: MakeApp) -> None:
    app = make_app(FRESH_FOR=1)
    client = app.test_client()
    register(client)
    assert client.get("/account/password").status_code == 200
    time.sleep(1.1)
    assert client.get("/account/password").headers["Location"] == "/reauth?next=/account/password"


def test_right_password_makes_the_session_fresh_and_returns(
    app: Flask, signed_in: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    go_stale(signed_in, app)
    redirect = signed_in.get("/account/password")
    assert redirect.headers["Location"] == "/reauth?next=/account/password"
    assert flashes(signed_in.get("/reauth").text) == [
        "Please type your password again to continue."
    ]
    response = reauth(signed_in, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/password"
    session = session_of(signed_in)
    assert session["_fresh"] is True
    assert abs(session["_fresh_at"] - time.time()) < 5
    assert signed_in.get("/account/password").status_code == 200
    # A successful authentication is logged like a sign-in, once.
    reauths = [line for line in security_lines(caplog) if line[0] == "reauth"]
    assert reauths == [("reauth", "alice", "127.0.0.1")]


def test_wrong_password_gets_one_message_and_changes_nothing(
    app: Flask, signed_in: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    go_stale(signed_in, app)
    before = session_of(signed_in)
    response = reauth(signed_in, "not the password at all")
    assert response.status_code == 422
    assert response.text.count("That is not your password.") == 1
    after = session_of(signed_in)
    assert after["_fresh"] is False
    assert after["_user_id"] == before["_user_id"]
    assert ("sign_in_failed", "alice", "127.0.0.1") in security_lines(caplog)


def test_restored_session_is_asked_for_the_password(app: Flask, client: FlaskClient) -> None:
    register(client)
    sign_in(client, remember=True)
    client.delete_cookie("session")  # the browser restarted
    assert client.get("/account/password").headers["Location"] == ("/reauth?next=/account/password")
    assert reauth(client, PASSWORD).headers["Location"] == "/account/password"
    assert client.get("/account/password").status_code == 200


@pytest.mark.parametrize("next_path", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_reauth_returns_only_to_this_site(
    app: Flask, signed_in: FlaskClient, next_path: str
) -> None:
    go_stale(signed_in, app)
    assert reauth(signed_in, PASSWORD, next_path).headers["Location"] == "/account"


def test_reauth_needs_a_sign_in(client: FlaskClient) -> None:
    assert client.get("/reauth").headers["Location"] == "/login?next=/reauth"


def test_wrong_passwords_share_the_accounts_count_with_the_sign_in_page(
    app: Flask, signed_in: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    other_browser = app.test_client()
    sign_in(other_browser)
    go_stale(signed_in, app)
    assert sign_in(app.test_client(), password="wrong guess on the sign-in page").status_code == 422
    assert [reauth(signed_in, f"wrong guess {n}").status_code for n in range(4)] == [422] * 4
    throttled = reauth(signed_in, PASSWORD)  # even the right one, else it would tell
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert session_of(signed_in)["_fresh"] is False
    assert ("throttled", "alice", "127.0.0.1") in security_lines(caplog)
    # Every browser of the account, and the sign-in page, share the one count.
    assert reauth(other_browser, PASSWORD).status_code == 429
    assert sign_in(app.test_client()).status_code == 429


def test_right_passwords_are_not_counted(app: Flask, signed_in: FlaskClient) -> None:
    for _ in range(6):
        assert reauth(signed_in, PASSWORD).status_code == 302


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another client holding a copy of ``client``'s session cookie, as it is now."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def session_sent(app: Flask, response: TestResponse) -> dict:
    """The session that ``response``'s Set-Cookie gives the browser."""
    value = set_cookie(response, "session").partition(";")[0].partition("=")[2]
    return app.session_interface.get_signing_serializer(app).loads(value)


def move_past_the_grace(
    app: Flask, monkeypatch: pytest.MonkeyPatch, late: timedelta = timedelta(microseconds=1)
) -> None:
    """Set the clock that judges replaced session tokens ``late`` past the grace that the
    sign-in's last confirmation began (``late`` may be zero: the grace's last moment)."""
    replaced_at = the_sign_in(app).session_began_at
    moment = replaced_at + app.config["REMEMBER_ME_ROTATION_GRACE"] + late
    monkeypatch.setattr(freshness, "utcnow", lambda: moment)


def test_a_session_cookie_copied_before_reauth_is_signed_out_after_it(
    app: Flask, signed_in: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Used after the re-authentication's grace (REMEMBER_ME_ROTATION_GRACE): within it, a
    copy would catch up, as a second click or another tab's request does."""
    go_stale(signed_in, app)
    copied = copy_of(app, signed_in)
    assert reauth(signed_in, PASSWORD).status_code == 302
    move_past_the_grace(app, monkeypatch, timedelta(seconds=1))
    assert copied.get("/account").headers["Location"] == "/login?next=/account"
    assert signed_in.get("/account/password").status_code == 200  # this browser goes on, fresh


def test_a_second_click_on_confirm_with_the_old_cookie_shares_the_first_clicks_session(
    app: Flask, signed_in: FlaskClient
) -> None:
    """A double click: the browser drops the first click's answer, and with it the new
    cookie, and sends the second with the old one, which arrives once the first has drawn
    the new token. The browser stays signed in, fresh, under that token."""
    go_stale(signed_in, app)
    fields = {"password": PASSWORD, "csrf_token": csrf_token(signed_in, "/reauth")}
    first_click = copy_of(app, signed_in)  # its answer never reaches the browser
    assert first_click.post("/reauth", data=fields).status_code == 302
    second_click = signed_in.post("/reauth", query_string={"next": "/account"}, data=fields)
    assert (second_click.status_code, second_click.location) == (302, "/account")
    live = the_sign_in(app).session_token
    sent = session_sent(app, second_click)
    assert (sent["_user_id"], sent["_fresh"]) == (live, True)
    # The second click drew no token of its own: the first click's answer is as good.
    assert session_of(first_click)["_user_id"] == live
    assert signed_in.get("/account/password").status_code == 200  # signed in and fresh


def test_a_page_asked_for_with_the_replaced_token_within_the_grace_gets_the_current_one(
    app: Flask, signed_in: FlaskClient
) -> None:
    """Another tab's request, sent with the cookie of before the confirmation."""
    other_tab = copy_of(app, signed_in)
    assert reauth(signed_in, PASSWORD).status_code == 302
    response = other_tab.get("/account")
    assert response.status_code == 200
    assert "Signed in as <strong>alice</strong>" in response.text
    sent = session_sent(app, response)
    assert sent["_user_id"] == the_sign_in(app).session_token
    # Not fresh, even though the cookie was: a fresh view asks for the password.
    assert sent["_fresh"] is False
    assert "_fresh_at" not in sent
    password_page = other_tab.get("/account/password")
    assert password_page.location == "/reauth?next=/account/password"


@pytest.mark.parametrize(
    ("late", "let_in"), [(timedelta(0), True), (timedelta(microseconds=1), False)]
)
def test_the_replaced_tokens_grace_ends_to_the_microsecond(
    app: Flask,
    signed_in: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    late: timedelta,
    let_in: bool,
) -> None:
    other_tab = copy_of(app, signed_in)
    assert reauth(signed_in, PASSWORD).status_code == 302
    live = the_sign_in(app).session_token
    move_past_the_grace(app, monkeypatch, late)
    response = other_tab.get("/account")
    if let_in:
        assert response.status_code == 200
        assert session_sent(app, response)["_user_id"] == live
    else:
        assert (response.status_code, response.location) == (302, "/login?next=/account")
        assert session_of(other_tab).get("_user_id") != live
    assert signed_in.get("/account").status_code == 200  # the confirmed browser goes on


def end_from_another_browser(app: Flask, browser: FlaskClient) -> None:
    other = app.test_client()
    sign_in(other)
    post_from(other, "/account/sign-out-everywhere-else")


@pytest.mark.parametrize(
    "end",
    [
        lambda app, browser: sign_out(browser),
        end_from_another_browser,
        lambda app, browser: change_password(browser),
    ],
    ids=["signed out", "ended from another browser", "password changed"],
)
def test_the_replaced_token_of_an_ended_sign_in_opens_nothing(
    app: Flask, signed_in: FlaskClient, end: Callable[[Flask, FlaskClient], object]
) -> None:
    other_tab = copy_of(app, signed_in)
    assert reauth(signed_in, PASSWORD).status_code == 302
    replaced = session_of(other_tab)["_user_id"]
    assert the_sign_in(app).previous_session_token == replaced  # kept for the grace
    end(app, signed_in)  # within it
    response = other_tab.get("/account")
    assert (response.status_code, response.location) == (302, "/login?next=/account")


def test_reauth_renews_the_session_on_the_same_sign_in(app: Flask, client: FlaskClient) -> None:
    """The sign-in is the same row, now confirmed: only its session is drawn anew."""
    register(client)
    sign_in(client, remember=True)
    client.delete_cookie("session")  # the browser restarted and restores, not fresh
    assert "restored from the remember cookie" in client.get("/account").text
    remember_cookie = client.get_cookie("remember").value  # as the restore rotated it
    before = the_sign_in(app)
    response = reauth(client, PASSWORD)
    assert response.status_code == 302
    after = the_sign_in(app)
    assert (after.id, after.created_at) == (before.id, before.created_at)
    assert after.session_token != before.session_token
    assert session_of(client)["_user_id"] == after.session_token
    assert after.session_began_by == "password"
    assert after.session_began_at > before.session_began_at
    assert abs(after.last_seen_at - utcnow()) < timedelta(seconds=5)
    # The remember cookie is the sign-in's, not the session's: untouched.
    assert set_cookie(response, "remember") is None
    assert client.get_cookie("remember").value == remember_cookie
    stored = ("remember_selector", "remember_validator_hash", "remember_expires_at")
    assert [getattr(after, c) for c in stored] == [getattr(before, c) for c in stored]
    page = client.get("/account").text
    assert "with your password" in page
    assert "Yes: you typed your password" in page


def test_a_restore_after_a_confirmation_lets_no_earlier_token_catch_up(
    app: Flask, client: FlaskClient
) -> None:
    """A restore replaces a session that had ended, so it keeps no token for the grace:
    none from before it, whether replaced by the confirmation or timed out, comes back."""
    register(client)
    sign_in(client, remember=True)
    before_confirming = copy_of(app, client)
    assert reauth(client, PASSWORD).status_code == 302
    client.delete_cookie("session")  # the browser restarted, within the grace
    assert "restored from the remember cookie" in client.get("/account").text
    assert the_sign_in(app).previous_session_token is None
    response = before_confirming.get("/account")
    assert (response.status_code, response.location) == (302, "/login?next=/account")


def test_reauth_keeps_what_else_the_session_holds(app: Flask, signed_in: FlaskClient) -> None:
    go_stale(signed_in, app)
    with signed_in.session_transaction() as session:
        session["note"] = "kept"
    token = csrf_token(signed_in, "/reauth")
    assert reauth(signed_in, PASSWORD).status_code == 302
    assert session_of(signed_in)["note"] == "kept"
    # A form opened before the password was typed again, in another tab, still posts.
    assert signed_in.post("/logout", data={"csrf_token": token}).status_code == 302


@pytest.mark.parametrize("rehashed", [False, True], ids=["hash current", "hash outdated"])
def test_tabs_confirming_at_once_share_one_new_session(
    app: Flask, signed_in: FlaskClient, monkeypatch: pytest.MonkeyPatch, rehashed: bool
) -> None:
    """Tab B's whole confirmation runs while tab A's password is being checked: B draws the
    new token, and A, whose compare-and-set then misses, carries B's. With an outdated
    hash, A's check commits a new hash, which reloads A's row with B's token."""
    go_stale(signed_in, app)
    if rehashed:
        app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:2"
    before = the_sign_in(app).session_token
    tab_a, tab_b = copy_of(app, signed_in), copy_of(app, signed_in)
    fields = {"password": PASSWORD, "csrf_token": csrf_token(signed_in, "/reauth")}
    real_password_matches = freshness.password_matches
    answers = []

    def tab_b_confirms_first(user: User, password: str) -> int | None:
        monkeypatch.setattr(freshness, "password_matches", real_password_matches)  # once
        with app.app_context():  # the other tab's request, with its own database session
            answers.append(tab_b.post("/reauth", data=fields))
        return real_password_matches(user, password)

    monkeypatch.setattr(freshness, "password_matches", tab_b_confirms_first)
    answers.append(tab_a.post("/reauth", data=fields))

    assert [answer.status_code for answer in answers] == [302, 302]
    live = the_sign_in(app).session_token
    assert live != before
    # Both responses carry the live token, so either may be the one the browser keeps.
    assert session_of(tab_b)["_user_id"] == session_of(tab_a)["_user_id"] == live
    for tab in (tab_a, tab_b):
        assert tab.get("/account/password").status_code == 200  # signed in and fresh
    # The cookie both tabs sent is dead once the grace is over.
    move_past_the_grace(app, monkeypatch)
    assert signed_in.get("/account").headers["Location"] == "/login?next=/account"


def test_a_sign_in_ended_while_its_password_was_checked_stays_ended(
    app: Flask, signed_in: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    go_stale(signed_in, app)
    real_password_matches = freshness.password_matches

    def ended_elsewhere_meanwhile(user: User, password: str) -> int | None:
        with app.app_context():  # another browser presses End, with its own database session
            db.session.execute(update(SignIn).values(revoked_at=utcnow()))
            db.session.commit()
        return real_password_matches(user, password)

    monkeypatch.setattr(freshness, "password_matches", ended_elsewhere_meanwhile)
    assert reauth(signed_in, PASSWORD).status_code == 302
    assert signed_in.get("/account").headers["Location"] == "/login?next=/account"
    assert the_sign_in(app).revoked_at is not None
