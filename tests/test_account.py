"""The account page: every browser signed in, ending them, and changing the password."""

import logging
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.security import check_password_hash

from loginflow import account
from loginflow.extensions import db
from loginflow.models import SignIn, User

from .actions import (
    NEW_PASSWORD,
    PASSWORD,
    SAFARI_ON_IOS,
    attributes,
    browser,
    change_password,
    flashes,
    go_stale,
    post_from,
    register,
    set_cookie,
    sign_in,
)
from .test_security_log import security_lines

END_BUTTON = re.compile(r'action="(/account/sign-ins/(\d+)/end)"')


@pytest.fixture
def laptop(app: Flask) -> FlaskClient:
    """Alice's first browser: it registered, so its session is fresh."""
    client = browser(app)
    assert register(client).status_code == 302
    return client


@pytest.fixture
def phone(app: Flask, laptop: FlaskClient) -> FlaskClient:
    """Alice's second browser, signed in after the laptop, with Remember me."""
    client = browser(app, SAFARI_ON_IOS)
    assert sign_in(client, remember=True).status_code == 302
    return client


def live_rows(app: Flask) -> list[SignIn]:
    with app.app_context():
        return list(db.session.scalars(select(SignIn).where(SignIn.revoked_at.is_(None))))


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def restarts_signed_in(app: Flask, remember_cookie: str) -> bool:
    """Whether a browser holding only this remember cookie (as after a restart) is signed in."""
    restarted = app.test_client()
    restarted.set_cookie("remember", remember_cookie)
    return is_signed_in(restarted)


def phone_sign_in_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(SignIn.id).where(SignIn.user_agent == SAFARI_ON_IOS))


def sign_in_rows(app: Flask) -> list[tuple[object, ...]]:
    """Every sign-in as the database holds it: its tokens, and whether and when it ended."""
    columns = (
        SignIn.id,
        SignIn.session_token,
        SignIn.remember_selector,
        SignIn.remember_validator_hash,
        SignIn.revoked_at,
    )
    with app.app_context():
        return [tuple(row) for row in db.session.execute(select(*columns).order_by(SignIn.id))]


def end_button_of(page: str) -> str:
    (action, _), *others = END_BUTTON.findall(page)
    assert not others
    return action


def test_account_lists_every_live_sign_in_newest_first(
    app: Flask, laptop: FlaskClient, phone: FlaskClient
) -> None:
    other = app.test_client()
    register(other, "bob")  # someone else's sign-in is never listed
    page = laptop.get("/account").text
    table = page[page.index("Where you're signed in") :]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    assert [re.search(r'scope="row"[^>]*>([^<]+)<', row).group(1) for row in rows] == [
        "Mobile Safari on iOS",
        "Chrome on Linux",
    ]
    phone_row, laptop_row = rows
    assert "Remember me" not in phone_row  # its session began with the password
    assert phone_row.count("<time datetime=") == 3  # signed in, last seen, remembered until
    assert 'aria-label="End Mobile Safari on iOS, signed in ' in phone_row
    assert ">End</button>" in phone_row
    assert "This browser" in laptop_row
    assert "Not remembered" in laptop_row
    assert ">End</button>" not in laptop_row


@pytest.mark.parametrize(
    ("phone_before_laptop", "listed"),
    [
        # Listed by when each signed in, as the page shows it, whatever order they were stored in.
        (timedelta(hours=1), ["Chrome on Linux", "Mobile Safari on iOS"]),
        # Signed in at the same moment: the later one first.
        (timedelta(0), ["Mobile Safari on iOS", "Chrome on Linux"]),
    ],
)
def test_sign_ins_are_listed_by_when_they_signed_in(
    app: Flask,
    laptop: FlaskClient,
    phone: FlaskClient,
    phone_before_laptop: timedelta,
    listed: list[str],
) -> None:
    with app.app_context():
        laptop_row, phone_row = db.session.scalars(select(SignIn).order_by(SignIn.id))
        phone_row.created_at = laptop_row.created_at - phone_before_laptop
        db.session.commit()
    page = laptop.get("/account").text
    table = page[page.index("Where you're signed in") :]
    assert re.findall(r'<th scope="row"[^>]*>([^<]+)<', table) == listed


def test_ended_and_timed_out_sign_ins_are_not_listed(
    app: Flask, laptop: FlaskClient, phone: FlaskClient
) -> None:
    old = browser(app)
    sign_in(old)
    with app.app_context():
        old_row = db.session.scalar(select(SignIn).order_by(SignIn.id.desc()))
        old_row.last_seen_at -= app.config["SIGN_IN_IDLE_TIMEOUT"]
        db.session.commit()
    post_from(laptop, end_button_of(laptop.get("/account").text))  # the phone's; not the old one
    page = laptop.get("/account").text
    assert page.count('scope="row"') == 1  # only this browser
    assert "This browser" in page


def test_ending_another_browser_signs_it_out_and_kills_its_remember_cookie(
    app: Flask, laptop: FlaskClient, phone: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    remembered = phone.get_cookie("remember").value
    response = post_from(laptop, end_button_of(laptop.get("/account").text))
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert flashes(laptop.get("/account").text) == ["Mobile Safari on iOS is signed out."]
    assert phone.get("/account").headers["Location"] == "/login?next=/account"
    assert not restarts_signed_in(app, remembered)
    assert is_signed_in(laptop)
    assert ("sign_ins_ended", "alice", "127.0.0.1") in security_lines(caplog)


def test_another_accounts_or_an_unknown_sign_in_cannot_be_ended(
    app: Flask, laptop: FlaskClient
) -> None:
    bob = app.test_client()
    register(bob, "bob")
    with app.app_context():
        bobs_row = db.session.scalar(SignIn.live().where(User.username == "bob"))
    for sign_in_id in (bobs_row.id, 999_999):
        response = post_from(laptop, f"/account/sign-ins/{sign_in_id}/end")
        assert response.status_code == 404
    assert is_signed_in(bob)


def test_ending_this_browser_or_an_ended_one_changes_nothing_and_says_so(
    app: Flask, laptop: FlaskClient, phone: FlaskClient
) -> None:
    action = end_button_of(laptop.get("/account").text)
    post_from(laptop, action)
    post_from(laptop, action)
    assert flashes(laptop.get("/account").text) == ["Mobile Safari on iOS was already signed out."]
    [this_one] = live_rows(app)
    post_from(laptop, f"/account/sign-ins/{this_one.id}/end")
    assert flashes(laptop.get("/account").text) == [
        "To end this browser&#39;s sign-in, use Sign out."
    ]
    assert is_signed_in(laptop)


def test_ending_needs_the_forms_csrf_token(laptop: FlaskClient, phone: FlaskClient) -> None:
    action = end_button_of(laptop.get("/account").text)
    assert laptop.post(action).status_code == 400
    assert is_signed_in(phone)


def test_sign_out_everywhere_else_keeps_only_this_browser(
    app: Flask, laptop: FlaskClient, phone: FlaskClient
) -> None:
    third = browser(app)
    sign_in(third)
    remembered = phone.get_cookie("remember").value
    response = post_from(laptop, "/account/sign-out-everywhere-else")
    assert response.headers["Location"] == "/account"
    assert flashes(laptop.get("/account").text) == [
        "Signed out of 2 other browsers. This browser stays signed in."
    ]
    assert not is_signed_in(phone)
    assert not is_signed_in(third)
    assert not restarts_signed_in(app, remembered)
    assert [row.user_agent for row in live_rows(app)] == [laptop.environ_base["HTTP_USER_AGENT"]]


@pytest.mark.parametrize(
    ("others", "said"),
    [(0, "Signed out of 0 other browsers."), (1, "Signed out of 1 other browser.")],
)
def test_sign_out_everywhere_else_counts_the_browsers_in_words(
    app: Flask, laptop: FlaskClient, others: int, said: str
) -> None:
    for _ in range(others):
        sign_in(browser(app, SAFARI_ON_IOS))
    post_from(laptop, "/account/sign-out-everywhere-else")
    assert flashes(laptop.get("/account").text) == [f"{said} This browser stays signed in."]


def test_sign_out_everywhere_ends_this_browser_too(
    app: Flask, laptop: FlaskClient, phone: FlaskClient
) -> None:
    remembered = phone.get_cookie("remember").value
    response = post_from(phone, "/account/sign-out-everywhere")
    assert response.headers["Location"] == "/"
    assert attributes(set_cookie(response, "remember"))["max-age"] == "0"
    assert flashes(phone.get("/").text) == ["You are signed out everywhere."]
    assert not is_signed_in(phone)
    assert not is_signed_in(laptop)
    assert live_rows(app) == []
    phone.set_cookie("remember", remembered)
    assert not is_signed_in(phone)


# Each button that ends sign-ins; {phone} is the id of the phone's sign-in.
ENDING_SIGN_INS = {
    "End": "/account/sign-ins/{phone}/end",
    "Sign out everywhere else": "/account/sign-out-everywhere-else",
    "Sign out everywhere": "/account/sign-out-everywhere",
}


@pytest.mark.parametrize("path", ENDING_SIGN_INS.values(), ids=ENDING_SIGN_INS.keys())
def test_ending_sign_ins_asks_a_stale_session_for_the_password_first(
    app: Flask, laptop: FlaskClient, phone: FlaskClient, path: str
) -> None:
    go_stale(laptop, app)
    response = post_from(laptop, path.format(phone=phone_sign_in_id(app)))
    # Back to the page with the button, not to the POST, which a redirect cannot repeat.
    assert response.headers["Location"] == "/reauth?next=/account"
    assert len(live_rows(app)) == 2
    assert is_signed_in(phone)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", ENDING_SIGN_INS.values(), ids=ENDING_SIGN_INS.keys())
def test_ending_sign_ins_refuses_get_and_head_and_ends_nothing(
    app: Flask, laptop: FlaskClient, phone: FlaskClient, path: str, method: str
) -> None:
    """A link or an image on another site sends a GET, with no CSRF token to check."""
    before = sign_in_rows(app)
    response = laptop.open(path.format(phone=phone_sign_in_id(app)), method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    assert set_cookie(response, "remember") is None
    assert sign_in_rows(app) == before
    assert len(live_rows(app)) == 2
    assert is_signed_in(laptop)
    assert is_signed_in(phone)


def test_password_change_signs_out_every_other_browser_and_starts_this_one_anew(
    app: Flask, laptop: FlaskClient, phone: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    [laptop_row] = [row for row in live_rows(app) if "Linux" in row.user_agent]
    remembered = phone.get_cookie("remember").value
    old_session = laptop.get_cookie("session").value
    response = change_password(laptop)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert set_cookie(response, "remember") is None  # the laptop was not remembered
    assert laptop.get_cookie("session").value != old_session
    assert flashes(laptop.get("/account").text) == [
        "Your password is changed. Every other browser where you were signed in is signed out."
    ]
    [new_row] = live_rows(app)
    assert new_row.id != laptop_row.id
    assert new_row.session_began_by == "password"
    with laptop.session_transaction() as session:
        assert session["_user_id"] == new_row.session_token
        assert session["_fresh"] is True
    assert not is_signed_in(phone)
    assert not restarts_signed_in(app, remembered)
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert check_password_hash(stored, NEW_PASSWORD)
    other = app.test_client()
    assert sign_in(other).status_code == 422
    assert sign_in(other, password=NEW_PASSWORD).status_code == 302
    assert security_lines(caplog)[:3] == [
        ("sign_ins_ended", "alice", "127.0.0.1"),
        ("password_changed", "alice", "127.0.0.1"),
        ("sign_in", "alice", "127.0.0.1"),
    ]


def test_password_change_gives_a_remembered_browser_a_new_remember_cookie(
    app: Flask, laptop: FlaskClient, phone: FlaskClient
) -> None:
    old_cookie = phone.get_cookie("remember").value
    response = change_password(phone)
    cookie = set_cookie(response, "remember")
    assert attributes(cookie)["max-age"] == str(
        int(app.config["REMEMBER_ME_DURATION"].total_seconds())
    )
    assert phone.get_cookie("remember").value != old_cookie
    assert restarts_signed_in(app, phone.get_cookie("remember").value)
    phone.set_cookie("remember", old_cookie)
    phone.delete_cookie("session")
    assert not is_signed_in(phone)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"current": "not my password at all"},
            "current_password",
            "That is not your current password.",
        ),
        ({"new": PASSWORD}, "new_password", "Choose a password different from your current one."),
        ({"new": "too short"}, "new_password", "Use 12 to 128 characters; any characters will do."),
        ({"new": "passwordpassword"}, "new_password", "That password is easy to guess."),
        (
            {"new": "alice violet kettle"},
            "new_password",
            "Leave your username out of your password.",
        ),
        (
            {"confirm": "violet kettle drumming seaweeds"},
            "confirm",
            "The two new passwords differ.",
        ),
        ({"new": "x" * 129}, "new_password", "Use 12 to 128 characters; any characters will do."),
    ],
)
def test_refused_password_change_says_why_and_changes_nothing(
    app: Flask,
    laptop: FlaskClient,
    phone: FlaskClient,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    with app.app_context():
        before = db.session.scalar(select(User.password_hash))
    response = change_password(laptop, **fields)
    assert response.status_code == 422
    error = re.search(rf'id="{field}-error">([^<]*)<', response.text).group(1)
    assert error.startswith(message)
    assert response.text.count('class="error"') == 1
    with app.app_context():
        assert db.session.scalar(select(User.password_hash)) == before
    assert len(live_rows(app)) == 2
    assert is_signed_in(phone)


def test_password_page_needs_a_sign_in_and_a_fresh_session(app: Flask, laptop: FlaskClient) -> None:
    anonymous = app.test_client()
    assert anonymous.get("/account/password").headers["Location"] == (
        "/login?next=/account/password"
    )
    assert laptop.get("/account/password").status_code == 200
    go_stale(laptop, app)
    assert laptop.get("/account/password").headers["Location"] == ("/reauth?next=/account/password")
    fields = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = post_from(laptop, "/account/password", "/account", **fields)  # nor post to it
    assert response.headers["Location"] == "/reauth?next=/account"  # the page it came from
    with app.app_context():
        assert check_password_hash(db.session.scalar(select(User.password_hash)), PASSWORD)


def test_wrong_current_passwords_are_throttled_per_account(
    app: Flask, laptop: FlaskClient, phone: FlaskClient
) -> None:
    codes = [change_password(laptop, current=f"wrong guess {n}").status_code for n in range(5)]
    assert codes == [422] * 5
    assert change_password(laptop).status_code == 429
    with phone.session_transaction() as session:
        assert session["_fresh"] is True
    # The same account from another browser: the same count.
    assert change_password(phone).status_code == 429
    bob = app.test_client()
    register(bob, "bob")
    assert change_password(bob).status_code == 302


@pytest.mark.parametrize("sign_in_id", [2**63, 10**30])
def test_an_id_too_large_for_the_database_is_no_sign_in(
    laptop: FlaskClient, sign_in_id: int
) -> None:
    assert post_from(laptop, f"/account/sign-ins/{sign_in_id}/end").status_code == 404


def test_a_change_that_loses_a_race_sets_no_cookie_and_changes_nothing(
    app: Flask, laptop: FlaskClient, phone: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another browser changed the password or ended this sign-in meanwhile, or this is the
    second click of a double click, whose first click's new cookies must stand."""
    monkeypatch.setattr(account, "change_password", lambda *_, **__: None)
    response = change_password(laptop)
    assert response.headers["Location"] == "/account"
    assert response.headers.getlist("Set-Cookie") == []
    assert is_signed_in(phone)
    with app.app_context():
        assert check_password_hash(db.session.scalar(select(User.password_hash)), PASSWORD)


def test_a_sign_in_newer_than_this_browsers_password_cannot_be_ended_from_it(
    app: Flask, laptop: FlaskClient, phone: FlaskClient
) -> None:
    """The laptop's page was loaded before the phone changed the password."""
    with app.app_context():
        db.session.execute(
            update(SignIn).where(SignIn.user_agent == SAFARI_ON_IOS).values(password_version=2)
        )
        db.session.commit()
        phone_row = db.session.scalar(select(SignIn).where(SignIn.user_agent == SAFARI_ON_IOS))
    assert post_from(laptop, f"/account/sign-ins/{phone_row.id}/end").status_code == 404
    with app.app_context():
        assert db.session.get(SignIn, phone_row.id).revoked_at is None
