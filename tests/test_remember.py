"""The remember cookie: what it holds, how it restores a session, and how theft ends it."""

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from loginflow import remember, sign_ins
from loginflow.extensions import db
from loginflow.models import SignIn, User, utcnow

from .actions import attributes, register, set_cookie, sign_in, sign_out, sql_statements
from .conftest import MakeApp
from .test_security_log import security_lines


@pytest.fixture
def remembered(signed_up: FlaskClient) -> str:
    """The remember cookie's value after alice signs in with Remember me."""
    sign_in(signed_up, remember=True)
    return signed_up.get_cookie("remember").value


def the_sign_in(app: Flask) -> SignIn:
    with app.app_context():
        return db.session.scalar(select(SignIn).order_by(SignIn.id.desc()))


def update_sign_in(app: Flask, **values: object) -> None:
    with app.app_context():
        row = db.session.scalar(select(SignIn).order_by(SignIn.id.desc()))
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()


def restarted(app: Flask, remember_cookie: str) -> FlaskClient:
    """A browser after a restart: no session cookie, only the remember cookie."""
    browser = app.test_client()
    browser.set_cookie("remember", remember_cookie)
    return browser


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def test_remember_cookie_has_max_age_and_is_http_only(signed_up: FlaskClient) -> None:
    response = sign_in(signed_up, remember=True)
    cookie = attributes(set_cookie(response, "remember"))
    assert cookie["max-age"] == "1209600"  # 14 days
    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert "secure" not in cookie  # development and tests run on plain http://127.0.0.1
    # Flask-Login's own remember cookie is never used.
    assert set_cookie(response, "remember_token") is None


def test_remember_cookie_fits_in_a_browser_as_issued_and_as_rotated(make_app: MakeApp) -> None:
    name = "r" * 64  # the longest cookie name the settings allow
    client = make_app(REMEMBER_ME_COOKIE_NAME=name).test_client()
    register(client)
    issued = set_cookie(sign_in(client, remember=True), name)
    client.delete_cookie("session")  # the browser restarts: the cookie is rotated
    rotated = set_cookie(client.get("/account"), name)
    for header in (issued, rotated):
        # Name and value (ASVS 3.3.5), and even with its attributes (RFC 6265's minimum).
        assert len(header.partition(";")[0].encode()) < len(header.encode()) < 4096


def test_remember_cookie_is_random_and_only_its_hash_is_stored(app: Flask, remembered: str) -> None:
    selector, validator = remembered.split(":")
    assert "alice" not in remembered.lower()
    assert len(validator) >= 43  # 256 random bits
    # Short enough for its column, which PostgreSQL enforces (SQLite does not).
    assert len(selector) <= SignIn.__table__.c.remember_selector.type.length
    row = the_sign_in(app)
    assert row.remember_selector == selector
    assert row.remember_validator_hash == hashlib.sha256(validator.encode()).hexdigest()
    with app.app_context():
        rows = db.session.execute(select(SignIn.__table__)).all()
        stored = " ".join(str(value) for row in rows for value in row)
    assert validator not in stored


def test_restore_signs_in_with_a_new_session_that_is_not_fresh(app: Flask, remembered: str) -> None:
    browser = restarted(app, remembered)
    response = browser.get("/account")
    assert response.status_code == 200
    assert "restored from the remember cookie" in response.text
    assert "No: restored from the remember cookie" in response.text
    with browser.session_transaction() as session:
        assert session["_fresh"] is False
        assert session["_user_id"] == the_sign_in(app).session_token  # the same SignIn, anew
    assert the_sign_in(app).session_began_by == "remember-me"


def test_restore_rotates_the_validator_and_keeps_the_expiry(app: Flask, remembered: str) -> None:
    update_sign_in(app, remember_expires_at=utcnow() + timedelta(seconds=100))
    response = restarted(app, remembered).get("/")
    header = set_cookie(response, "remember")
    new_selector, new_validator = header.split(";")[0].removeprefix("remember=").split(":")
    old_selector, old_validator = remembered.split(":")
    assert new_selector == old_selector
    assert new_validator != old_validator
    assert 95 <= int(attributes(header)["max-age"]) <= 100  # what was left, not a new 14 days
    assert (
        the_sign_in(app).remember_validator_hash
        == hashlib.sha256(new_validator.encode()).hexdigest()
    )


def test_replaced_validator_is_accepted_only_within_the_grace_period(
    app: Flask, remembered: str
) -> None:
    assert is_signed_in(restarted(app, remembered))
    # A tab restored at the same moment with the same old cookie is not theft...
    second_tab = restarted(app, remembered)
    response = second_tab.get("/account")
    assert response.status_code == 200
    assert set_cookie(response, "remember") is None  # the first response carries the new one
    assert the_sign_in(app).revoked_at is None


def test_replaced_validator_after_the_grace_period_revokes_the_sign_in(
    app: Flask, remembered: str
) -> None:
    owner = restarted(app, remembered)
    assert is_signed_in(owner)
    update_sign_in(app, remember_rotated_at=utcnow() - timedelta(minutes=5))
    thief = restarted(app, remembered)
    response = thief.get("/account")
    assert response.status_code == 302
    assert attributes(set_cookie(response, "remember"))["max-age"] == "0"
    assert the_sign_in(app).revoked_at is not None
    # The owner is signed out too: the sign-in was compromised, both sessions end.
    assert not is_signed_in(owner)


@pytest.mark.parametrize(
    "forge",
    [lambda cookie: cookie.split(":")[0] + ":forged-validator", lambda cookie: cookie + ":more"],
    ids=["another validator", "the validator and more"],
)
def test_forged_validator_revokes_the_sign_in(
    app: Flask, remembered: str, forge: Callable[[str], str]
) -> None:
    response = restarted(app, forge(remembered)).get("/")
    assert response.status_code == 200
    assert "You are not signed in." in response.text
    assert the_sign_in(app).revoked_at is not None
    assert not is_signed_in(restarted(app, remembered))


@pytest.mark.parametrize(
    "value",
    ["", "no-colon", ":", "unknown:selector", "a:b:c", "nul\x00in0selector:v", "é" * 16 + ":v"],
)
def test_unusable_remember_cookie_is_deleted_quietly(app: Flask, value: str) -> None:
    response = restarted(app, value).get("/")
    assert response.status_code == 200
    assert attributes(set_cookie(response, "remember"))["max-age"] == "0"


def test_expired_remember_token_does_not_restore(app: Flask, remembered: str) -> None:
    update_sign_in(app, remember_expires_at=utcnow() - timedelta(seconds=1))
    browser = restarted(app, remembered)
    response = browser.get("/account")
    assert response.status_code == 302
    assert attributes(set_cookie(response, "remember"))["max-age"] == "0"


def test_a_restore_costs_three_statements_the_rotation_one_write(
    app: Flask, remembered: str
) -> None:
    browser = restarted(app, remembered)
    with sql_statements(app) as statements:
        assert is_signed_in(browser)
    # The sign-in with its user; the compare-and-set of the validator and the new session;
    # both again in one statement after the commit; then /account's list of sign-ins.
    assert [s.split()[0] for s in statements] == ["SELECT", "UPDATE", "SELECT", "SELECT"]
    assert all("JOIN users" in s for s in (statements[0], statements[2]))


def test_restored_session_survives_without_further_rotation(app: Flask, remembered: str) -> None:
    browser = restarted(app, remembered)
    assert is_signed_in(browser)
    # Now the session cookie carries the sign-in: no more restores or rotations.
    response = browser.get("/account")
    assert response.status_code == 200
    assert set_cookie(response, "remember") is None


def test_sign_out_after_restore_ends_it_for_good(app: Flask, remembered: str) -> None:
    browser = restarted(app, remembered)
    assert is_signed_in(browser)
    current = browser.get_cookie("remember").value
    sign_out(browser)
    assert browser.get_cookie("remember") is None
    assert not is_signed_in(restarted(app, current))


def test_rotation_lost_to_a_concurrent_request_sets_no_cookie(app: Flask, remembered: str) -> None:
    validator = remembered.split(":")[1]
    with app.test_request_context("/", headers={"Cookie": f"remember={remembered}"}):
        row = db.session.scalar(select(SignIn))
        presented = hashlib.sha256(validator.encode()).hexdigest()
        row.remember_validator_hash = "0" * 64  # another request replaced it meanwhile
        db.session.commit()
        assert remember._rotate(row, presented, utcnow()) is False
        db.session.refresh(row)
        assert row.remember_validator_hash == "0" * 64
        response = app.process_response(app.response_class())
    assert set_cookie(response, "remember") is None


def test_a_request_that_loses_the_rotation_inside_redeem_is_let_in_by_the_grace_period(
    app: Flask, remembered: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_rotate = remember._rotate

    def rotated_by_another_request_first(row: SignIn, presented: str, now: datetime) -> bool:
        with app.test_request_context():  # the other tab, a moment earlier
            assert real_rotate(db.session.get(SignIn, row.id), presented, now)
        return real_rotate(row, presented, now)

    monkeypatch.setattr(remember, "_rotate", rotated_by_another_request_first)
    browser = restarted(app, remembered)
    response = browser.get("/account")
    assert response.status_code == 200
    assert set_cookie(response, "remember") is None  # the winner sent the new cookie
    assert the_sign_in(app).revoked_at is None


@pytest.mark.parametrize(
    "lost_the_rotation", [False, True], ids=["rotating", "let in by the grace period"]
)
def test_a_restore_under_way_when_its_sign_in_is_ended_signs_nobody_in(
    app: Flask,
    remembered: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    lost_the_rotation: bool,
) -> None:
    """flask sign-ins end --all (or End, sign out, a password change) commits after the
    restore read the sign-in and before it rotates: the sign-in stays ended, and the log
    says no restore and no theft."""
    caplog.set_level(logging.INFO, logger="loginflow.security")
    real_rotate = remember._rotate

    def ended_meanwhile(row: SignIn, presented: str, now: datetime) -> bool:
        with app.test_request_context():  # another tab, then the operator, a moment earlier
            if lost_the_rotation:
                assert real_rotate(db.session.get(SignIn, row.id), presented, now)
            sign_ins.end_everyone()
        return real_rotate(row, presented, now)

    monkeypatch.setattr(remember, "_rotate", ended_meanwhile)
    response = restarted(app, remembered).get("/account")
    assert (response.status_code, response.location) == (302, "/login?next=/account")
    assert attributes(set_cookie(response, "remember"))["max-age"] == "0"  # deleted
    assert [event for event, _, _ in security_lines(caplog)][-1] == "every_sign_in_ended"


def test_the_server_keeps_the_remember_expiry_it_gave_the_browser(
    app: Flask, signed_up: FlaskClient
) -> None:
    sign_in(signed_up, remember=True)
    expected = utcnow() + app.config["REMEMBER_ME_DURATION"]
    assert abs(the_sign_in(app).remember_expires_at - expected) < timedelta(seconds=5)


def test_a_remember_cookie_ends_at_its_expiry_to_the_microsecond(
    app: Flask, remembered: str
) -> None:
    row = the_sign_in(app)
    assert row.remembered_at(row.remember_expires_at - timedelta(microseconds=1))
    assert not row.remembered_at(row.remember_expires_at)


@pytest.mark.parametrize(
    ("late", "let_in"), [(timedelta(0), True), (timedelta(microseconds=1), False)]
)
def test_the_grace_period_ends_to_the_microsecond(
    app: Flask, remembered: str, monkeypatch: pytest.MonkeyPatch, late: timedelta, let_in: bool
) -> None:
    assert is_signed_in(restarted(app, remembered))  # rotates
    rotated_at = the_sign_in(app).remember_rotated_at
    moment = rotated_at + app.config["REMEMBER_ME_ROTATION_GRACE"] + late
    monkeypatch.setattr(remember, "utcnow", lambda: moment)
    assert is_signed_in(restarted(app, remembered)) is let_in  # the replaced cookie
    assert (the_sign_in(app).revoked_at is None) is let_in  # past the grace: a stolen copy


def test_flask_logins_own_remember_cookie_signs_nobody_in(app: Flask, remembered: str) -> None:
    browser = app.test_client()
    with app.app_context():
        user_id = db.session.scalar(select(User.id))
    browser.set_cookie("remember_token", f"{user_id}|forged")
    assert not is_signed_in(browser)


def test_tabs_restored_at_once_share_one_session(app: Flask, remembered: str) -> None:
    """Each tab of a restarted browser sends the same remember cookie at the same moment."""
    tabs = [restarted(app, remembered) for _ in range(3)]
    for tab in tabs:
        assert is_signed_in(tab)  # the first rotates; the others come within the grace period
    tokens = set()
    for tab in tabs:
        with tab.session_transaction() as session:
            tokens.add(session["_user_id"])
    assert len(tokens) == 1  # no tab's restore ended another's session
    response = tabs[0].get("/account")
    assert response.status_code == 200
    assert set_cookie(response, "remember") is None  # its session works: no second restore


@pytest.mark.parametrize("value", [":", ":validator", "selector:"])
def test_a_remember_cookie_missing_a_part_restores_nothing(
    app: Flask, remembered: str, value: str
) -> None:
    selector, validator = remembered.split(":")
    browser = app.test_client()
    browser.set_cookie(
        "remember", value.replace("selector", selector).replace("validator", validator)
    )
    assert not is_signed_in(browser)
    assert the_sign_in(app).revoked_at is None  # a malformed cookie is no sign of theft
