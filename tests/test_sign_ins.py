"""Sign-ins that end on the server: idle and absolute timeouts, and what "in force" means."""

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text, update

from loginflow import sign_ins
from loginflow.extensions import db
from loginflow.models import SignIn, User

from .actions import csrf_token, flashes, register, sign_in, sign_out
from .conftest import MakeApp
from .test_security_log import security_lines

IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=12)


def age_sign_in(app: Flask, **ages: timedelta) -> None:
    """Move the newest sign-in's times into the past: e.g. last_seen_at=31 minutes ago."""
    with app.app_context():
        row = db.session.scalar(select(SignIn).order_by(SignIn.id.desc()))
        for column, age in ages.items():
            setattr(row, column, getattr(row, column) - age)
        db.session.commit()


def the_sign_in(app: Flask) -> SignIn:
    with app.app_context():
        return db.session.scalar(select(SignIn).order_by(SignIn.id.desc()))


@pytest.fixture
def signed_in(client: FlaskClient) -> FlaskClient:
    """Alice, signed in without Remember me."""
    assert register(client).status_code == 302
    return client


def test_idle_sign_in_is_revoked_and_the_page_says_why(
    app: Flask, signed_in: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    age_sign_in(app, last_seen_at=IDLE)
    response = signed_in.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account"
    assert the_sign_in(app).revoked_at is not None
    page = signed_in.get(response.headers["Location"]).text
    assert flashes(page) == [
        "You were signed out after 30 minutes without activity. Please sign in again."
    ]
    assert '<p class="flash flash-info" role="status">You were signed out' in page
    assert ("session_timeout", "alice", "127.0.0.1") in security_lines(caplog)
    with signed_in.session_transaction() as session:
        assert "_user_id" not in session


def test_sign_in_is_revoked_twelve_hours_after_the_password(
    app: Flask, signed_in: FlaskClient
) -> None:
    age_sign_in(app, created_at=ABSOLUTE)  # though seen a moment ago
    response = signed_in.get("/")
    assert response.headers["Location"] == "/login?next=/"
    assert flashes(signed_in.get("/login").text) == [
        "You were signed out 12 hours after signing in. Please sign in again."
    ]
    assert the_sign_in(app).revoked_at is not None


def test_a_timed_out_browser_still_gets_the_pages_files_and_then_the_reason(
    app: Flask, signed_in: FlaskClient
) -> None:
    age_sign_in(app, last_seen_at=IDLE)
    response = signed_in.get("/static/style.css")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers  # a file may be kept by a shared cache
    response.close()
    assert signed_in.get("/account").headers["Location"] == "/login?next=/account"
    assert flashes(signed_in.get("/login").text) == [
        "You were signed out after 30 minutes without activity. Please sign in again."
    ]


def test_copied_session_cookie_stops_working_when_its_sign_in_times_out(
    app: Flask, signed_in: FlaskClient
) -> None:
    copy = app.test_client()
    copy.set_cookie("session", signed_in.get_cookie("session").value)
    assert copy.get("/account").status_code == 200
    age_sign_in(app, last_seen_at=IDLE)
    assert copy.get("/account").status_code == 302
    assert signed_in.get("/account").status_code == 302  # the same sign-in: revoked for both


def test_timed_out_form_post_returns_to_the_forms_page_after_sign_in(
    app: Flask, signed_in: FlaskClient
) -> None:
    fields = {"note": "kept for later", "csrf_token": csrf_token(signed_in, "/cookies/")}
    age_sign_in(app, last_seen_at=IDLE)  # the page stayed open half an hour
    referer = {"Referer": "http://localhost/cookies/"}
    response = signed_in.post("/cookies/note", data=fields, headers=referer)
    assert response.headers["Location"] == "/login?next=/cookies/"


def test_active_sign_in_goes_on_and_its_last_seen_moves(app: Flask, signed_in: FlaskClient) -> None:
    age_sign_in(app, last_seen_at=IDLE - timedelta(minutes=1), created_at=ABSOLUTE / 2)
    before = the_sign_in(app).last_seen_at
    assert signed_in.get("/account").status_code == 200
    assert the_sign_in(app).last_seen_at > before + timedelta(minutes=20)
    assert the_sign_in(app).revoked_at is None


def test_remembered_sign_in_that_idles_out_loses_only_its_session(
    app: Flask, client: FlaskClient
) -> None:
    register(client, "alice")
    sign_in(client, remember=True)
    age_sign_in(app, last_seen_at=IDLE, created_at=ABSOLUTE * 2)
    old_remember = client.get_cookie("remember").value
    page = client.get("/account")
    assert page.status_code == 200  # restored on the same request, no detour
    assert "restored from the remember cookie" in page.text
    assert "No: restored from the remember cookie" in page.text  # not fresh
    row = the_sign_in(app)
    assert row.revoked_at is None
    assert row.session_began_by == "remember-me"
    assert client.get_cookie("remember").value != old_remember  # rotated as on any restore
    assert datetime.now(UTC) - row.last_seen_at < timedelta(seconds=5)


def test_remembered_sign_in_ends_like_any_other_once_the_remember_cookie_expired(
    app: Flask, client: FlaskClient
) -> None:
    register(client, "alice")
    sign_in(client, remember=True)
    age_sign_in(app, last_seen_at=IDLE, remember_expires_at=app.config["REMEMBER_ME_DURATION"])
    assert client.get("/account").headers["Location"] == "/login?next=/account"
    assert the_sign_in(app).revoked_at is not None


def test_timeouts_are_settings(make_app: MakeApp) -> None:
    app = make_app(SIGN_IN_IDLE_TIMEOUT=timedelta(seconds=90))
    client = app.test_client()
    register(client)
    age_sign_in(app, last_seen_at=timedelta(seconds=91))
    assert client.get("/account").status_code == 302
    assert flashes(client.get("/login").text) == [
        "You were signed out after 90 seconds without activity. Please sign in again."
    ]


def test_last_seen_is_written_ten_times_per_idle_timeout_when_that_is_short(
    make_app: MakeApp,
) -> None:
    app = make_app(SIGN_IN_IDLE_TIMEOUT=timedelta(seconds=100))
    client = app.test_client()
    register(client)
    age_sign_in(app, last_seen_at=timedelta(seconds=5))
    unchanged = the_sign_in(app).last_seen_at
    client.get("/account")
    assert the_sign_in(app).last_seen_at == unchanged  # within 10 s: no write
    age_sign_in(app, last_seen_at=timedelta(seconds=6))
    client.get("/account")
    assert the_sign_in(app).last_seen_at > unchanged  # 11 s: written


NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ages = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2))


# The app is shared by every example; each removes the row it added.
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seen=ages,
    created_extra=ages,
    remember=st.none() | st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=2)),
)
def test_in_force_and_timeout_agree(
    app: Flask, seen: timedelta, created_extra: timedelta, remember: timedelta | None
) -> None:
    """The SQL that lists and ends sign-ins and the check on each request give one answer."""
    with app.app_context():
        user = db.session.scalar(select(User)) or User(username="alice", password_hash="x")
        row = SignIn(
            user=user,
            password_version=1,
            **SignIn.new_session("password")
            | {
                "last_seen_at": NOW - seen,
                "created_at": NOW - seen - created_extra,
                "remember_expires_at": NOW + remember if remember is not None else None,
            },
        )
        db.session.add(row)
        db.session.commit()
        listed = db.session.scalar(
            select(SignIn.id).where(SignIn.id == row.id, sign_ins.in_force(NOW))
        )
        timed_out = sign_ins.timeout(row, NOW) is not None
        # A remembered sign-in that idled out keeps only its remember cookie: still in force.
        assert (listed is not None) == (not timed_out or row.remembered_at(NOW))
        db.session.delete(row)
        db.session.commit()


# The finest step a stored time takes: a limit is tested on it and one step inside it.
TICK = timedelta(microseconds=1)


def stored_sign_in(**columns: datetime) -> SignIn:
    """A sign-in of a new account, stored with these times (in the app's context)."""
    row = SignIn(
        user=User(username="alice", password_hash="x"),
        password_version=1,
        **SignIn.new_session("password") | columns,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize(
    ("times", "reason"),
    [
        ({"last_seen_at": NOW - IDLE}, "You were signed out after 30 minutes without activity."),
        ({"last_seen_at": NOW - IDLE + TICK}, None),
        ({"created_at": NOW - ABSOLUTE}, "You were signed out 12 hours after signing in."),
        ({"created_at": NOW - ABSOLUTE + TICK}, None),
        # Past the absolute timeout, a remember cookie keeps the sign-in up to its expiry.
        ({"created_at": NOW - ABSOLUTE, "remember_expires_at": NOW + TICK}, None),
        (
            {"created_at": NOW - ABSOLUTE, "remember_expires_at": NOW},
            "You were signed out 12 hours after signing in.",
        ),
    ],
)
def test_a_sign_in_is_over_exactly_at_its_limit(
    app: Flask, times: dict[str, datetime], reason: str | None
) -> None:
    """At the limit, not a moment later: on the request and in the list of sign-ins alike."""
    with app.app_context():
        row = stored_sign_in(**{"created_at": NOW, "last_seen_at": NOW} | times)
        listed = db.session.scalar(
            select(SignIn.id).where(SignIn.id == row.id, sign_ins.in_force(NOW))
        )
        assert sign_ins.timeout(row, NOW) == reason
        assert (listed is not None) == (reason is None)


@pytest.mark.parametrize(
    ("idle", "seen_ago", "written"),
    [
        # A minute, or a tenth of a shorter idle timeout, since it was last written: write.
        (IDLE, timedelta(minutes=1), True),
        (IDLE, timedelta(minutes=1) - TICK, False),
        (timedelta(seconds=100), timedelta(seconds=10), True),
        (timedelta(seconds=100), timedelta(seconds=10) - TICK, False),
    ],
)
def test_last_seen_is_written_once_its_resolution_has_passed_to_the_microsecond(
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    idle: timedelta,
    seen_ago: timedelta,
    written: bool,
) -> None:
    app = make_app(SIGN_IN_IDLE_TIMEOUT=idle)
    client = app.test_client()
    register(client)
    monkeypatch.setattr(sign_ins, "utcnow", lambda: NOW)
    with app.app_context():
        db.session.execute(update(SignIn).values(created_at=NOW, last_seen_at=NOW - seen_ago))
        db.session.commit()
    assert client.get("/account").status_code == 200
    assert the_sign_in(app).last_seen_at == (NOW if written else NOW - seen_ago)


def test_purge_keeps_a_sign_in_revoked_exactly_that_long_ago(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sign_ins, "utcnow", lambda: NOW)
    day = timedelta(days=1)
    with app.app_context():
        alice = User(username="alice", password_hash="x")
        for revoked_at in (NOW - day, NOW - day - TICK):
            times = {"created_at": NOW, "last_seen_at": NOW, "revoked_at": revoked_at}
            db.session.add(
                SignIn(user=alice, password_version=1, **SignIn.new_session("password") | times)
            )
        db.session.commit()
        assert sign_ins.purge(day) == 1
        assert db.session.scalars(select(SignIn.revoked_at)).all() == [NOW - day]


def test_current_outside_a_sign_in_says_the_view_needs_login_required(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(RuntimeError) as error:
        sign_ins.current()
    assert str(error.value) == "Nobody is signed in: the view needs login_required."


@pytest.fixture
def server_nine_hours_ahead_of_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("server_nine_hours_ahead_of_utc")
def test_times_are_stored_in_utc_whatever_the_servers_time_zone(app: Flask) -> None:
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))  # the same moment, 21:00 there
    with app.app_context():
        stored_sign_in(last_seen_at=tokyo)
        stored = db.session.execute(text("SELECT last_seen_at FROM sign_ins")).scalar()
        db.session.expire_all()
        assert str(stored).startswith("2026-06-01 12:00:00")  # text on SQLite, a time elsewhere
        assert db.session.scalar(select(SignIn.last_seen_at)) == NOW


def test_a_user_outside_a_sign_in_has_no_session_id(app: Flask) -> None:
    with pytest.raises(RuntimeError) as error:
        User(username="alice", password_hash="x").get_id()
    assert str(error.value) == "A User gets an id for the session only through a SignIn."


def test_ending_all_revokes_timed_out_sign_ins_too_but_counts_only_those_in_force(
    app: Flask, client: FlaskClient
) -> None:
    register(client)
    sign_in(app.test_client())
    age_sign_in(app, last_seen_at=IDLE)  # out of force, not yet revoked
    with app.app_context():
        alice = db.session.scalar(select(User))
        assert sign_ins.end_all(alice) == 1
        assert None not in db.session.scalars(select(SignIn.revoked_at)).all()


def test_an_old_session_cookie_never_opens_a_later_sign_in_with_its_number(
    app: Flask, client: FlaskClient
) -> None:
    """Deleting the newest rows lets SQLite hand their ids out again; cookies hold no id."""
    register(client, "mallory")
    kept_copy = client.get_cookie("session").value
    sign_out(client)
    with app.app_context():
        sign_ins.purge(timedelta(0))
    victim = app.test_client()
    register(victim, "victim")
    replay = app.test_client()
    replay.set_cookie("session", kept_copy)
    assert replay.get("/account").status_code == 302


def test_a_restore_ends_every_copy_of_the_previous_session_cookie(
    app: Flask, client: FlaskClient
) -> None:
    register(client)
    sign_in(client, remember=True)
    copied = client.get_cookie("session").value
    client.delete_cookie("session")  # the owner's browser restarts and restores
    assert "restored from the remember cookie" in client.get("/account").text
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/account").status_code == 302
    assert client.get("/account").status_code == 200


def test_tabs_that_find_last_seen_stale_at_once_write_it_once(
    app: Flask, signed_in: FlaskClient
) -> None:
    age_sign_in(app, last_seen_at=timedelta(minutes=2))
    updates: list[int] = []

    def count(_conn: object, cursor: Any, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(cursor.rowcount)

    with app.test_request_context():
        row = db.session.scalar(SignIn.live())
        assert sign_ins.keep_alive(row) and sign_ins.keep_alive(row)  # two tabs, one moment
        event.listen(db.engine, "after_cursor_execute", count)
        try:
            app.process_response(app.response_class())
        finally:
            event.remove(db.engine, "after_cursor_execute", count)
    assert updates == [1, 0]


def test_ending_all_but_this_one_spares_a_sign_in_made_by_a_newer_password(
    app: Flask, client: FlaskClient
) -> None:
    register(client)
    sign_in(app.test_client())
    with app.app_context():
        older, newer = db.session.scalars(select(SignIn).order_by(SignIn.id)).all()
        newer.password_version = 2  # made by a password change that raced this request
        db.session.commit()
        assert sign_ins.end_all(older.user, keep=older) == 0
        assert db.session.get(SignIn, newer.id).revoked_at is None


def test_ending_all_but_this_one_leaves_other_accounts_alone(
    app: Flask, client: FlaskClient
) -> None:
    register(client)
    bob = app.test_client()
    register(bob, "bob")
    with app.app_context():
        alice = db.session.scalar(User.named("alice"))
        [row] = db.session.scalars(SignIn.live().where(SignIn.user_id == alice.id)).all()
        assert sign_ins.end_all(alice, keep=row) == 0
    assert bob.get("/account").status_code == 200


def test_ending_everyone_revokes_every_accounts_sign_ins_but_counts_only_those_in_force(
    app: Flask, client: FlaskClient
) -> None:
    register(client)
    sign_in(app.test_client(), remember=True)
    register(app.test_client(), "bob")
    age_sign_in(app, last_seen_at=IDLE)  # bob's: out of force, not yet revoked
    with app.app_context():
        assert sign_ins.end_everyone() == 2
        assert db.session.scalars(select(SignIn.revoked_at)).all().count(None) == 0
        assert sign_ins.end_everyone() == 0
