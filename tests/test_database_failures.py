"""A failing database: a friendly 503, readable pages where possible, nothing half-written.

A real SQLite file, made to fail the two ways a database does: another connection holds
the write lock (writes are refused, reads go on), or the file cannot be opened at all.
"""

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from loginflow.extensions import db
from loginflow.models import SignIn, User, utcnow

from .actions import PASSWORD, csrf_token, go_stale, register, set_cookie, sign_in
from .conftest import MakeApp

# About SQLite's own locks and files.
pytestmark = pytest.mark.sqlite_only


UNAVAILABLE = "The site cannot reach its database just now."


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder / "loginflow.sqlite"


@pytest.fixture
def file_app(make_app: MakeApp, database_file: Path) -> Flask:
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database_file}",
        # Give up on a locked database at once instead of SQLite's default 5 seconds.
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.05}, "pool_pre_ping": True},
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as a deployed site
    return app


@contextmanager
def write_locked(database_file: Path) -> Iterator[None]:
    """Another connection holds the write lock: reads still work, writes are refused."""
    holder = sqlite3.connect(database_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextmanager
def unreachable(app: Flask, database_file: Path) -> Iterator[None]:
    """The database cannot be opened at all, as with a server that refuses connections."""
    with app.app_context():
        db.engine.dispose()
    folder = database_file.parent
    folder.rename(folder.with_name("away"))
    try:
        yield
    finally:
        folder.with_name("away").rename(folder)


def make_last_seen_stale(app: Flask) -> None:
    with app.app_context():
        db.session.execute(update(SignIn).values(last_seen_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()


def test_signed_in_page_stays_readable_when_only_the_last_seen_write_fails(
    file_app: Flask, database_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = file_app.test_client()
    register(client)
    make_last_seen_stale(file_app)
    with write_locked(database_file):
        response = client.get("/account")
    assert response.status_code == 200
    assert "Signed in as <strong>alice</strong>" in response.text
    assert "Could not note a sign-in as seen: OperationalError" in caplog.text


def test_a_timed_out_sign_in_ends_even_when_its_revocation_cannot_be_written(
    file_app: Flask, database_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = file_app.test_client()
    register(client)
    copy = file_app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    with file_app.app_context():
        idle = file_app.config["SIGN_IN_IDLE_TIMEOUT"]
        db.session.execute(update(SignIn).values(last_seen_at=utcnow() - idle))
        db.session.commit()
    with write_locked(database_file):
        response = client.get("/account")
    assert response.headers["Location"] == "/login?next=/account"
    assert "Could not revoke a timed-out sign-in: OperationalError" in caplog.text
    with file_app.app_context():
        assert db.session.scalar(select(SignIn.revoked_at)) is None  # not written...
    assert copy.get("/account").status_code == 302  # ...and out of force by its times alone


def test_refused_write_gives_the_503_page_and_no_cookie_for_the_rolled_back_row(
    file_app: Flask, database_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = file_app.test_client()
    register(client)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    with write_locked(database_file):
        response = sign_in(client, remember=True)
    assert response.status_code == 503
    assert UNAVAILABLE in response.text
    assert response.headers["Retry-After"] == "30"
    assert "Traceback" not in response.text
    assert set_cookie(response, "remember") is None
    assert client.get("/account").status_code == 302  # not signed in
    assert [r.message for r in caplog.records if r.name == "loginflow.errors"] == [
        "Database unavailable: OperationalError"
    ]
    with file_app.app_context():
        assert db.session.scalars(select(SignIn).where(SignIn.revoked_at.is_(None))).all() == []
    # The site recovers by itself once the lock is gone.
    assert sign_in(client, remember=True).status_code == 302
    assert client.get("/account").status_code == 200


def test_refused_write_of_a_signed_in_browser_gets_the_503_page_without_a_sign_out_button(
    file_app: Flask, database_file: Path
) -> None:
    client = file_app.test_client()
    register(client)
    token = csrf_token(client, "/")
    with write_locked(database_file):
        response = client.post("/logout", data={"csrf_token": token})  # the revocation fails
    assert response.status_code == 503
    assert UNAVAILABLE in response.text
    assert "Signed in as" not in response.text  # a Sign out button would only fail again
    assert client.get("/account").status_code == 200  # still signed in


def test_refused_write_at_reauth_gives_the_503_page_and_leaves_the_session_as_it_was(
    file_app: Flask, database_file: Path
) -> None:
    client = file_app.test_client()
    register(client)
    go_stale(client, file_app)
    fields = {"password": PASSWORD, "csrf_token": csrf_token(client, "/reauth")}
    session_cookie = client.get_cookie("session").value
    with write_locked(database_file):
        response = client.post("/reauth", data=fields)  # the new session token is refused
    assert response.status_code == 503
    assert UNAVAILABLE in response.text
    assert set_cookie(response, "session") is None  # no token the database does not hold
    assert client.get_cookie("session").value == session_cookie
    assert "No: you typed your password" in client.get("/account").text  # signed in, not fresh
    assert client.post("/reauth", data=fields).status_code == 302  # once the lock is gone
    assert "Yes: you typed your password" in client.get("/account").text


def test_refused_registration_gives_the_503_page_and_creates_nobody(
    file_app: Flask, database_file: Path
) -> None:
    client = file_app.test_client()
    token = csrf_token(client)
    data = {"username": "bob", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
    with write_locked(database_file):
        response = client.post("/register", data=data)
    assert response.status_code == 503
    with file_app.app_context():
        assert db.session.scalar(select(User).where(User.username == "bob")) is None


def test_unreachable_database_gives_the_503_page_then_recovers(
    file_app: Flask, database_file: Path
) -> None:
    client = file_app.test_client()
    register(client)
    with unreachable(file_app, database_file):
        response = client.get("/account")
        assert response.status_code == 503
        assert UNAVAILABLE in response.text
        assert "Signed in as" not in response.text  # who it is cannot be known
        static = client.get("/static/style.css")
        assert static.status_code == 200  # files need no database
        static.close()
    assert client.get("/account").status_code == 200


def test_restore_during_a_write_outage_leaves_pages_readable_and_the_cookie_alone(
    file_app: Flask, database_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = file_app.test_client()
    register(client)
    sign_in(client, remember=True)
    remember = client.get_cookie("remember").value
    client.delete_cookie("session")
    with write_locked(database_file), caplog.at_level(logging.ERROR):
        response = client.get("/")
    assert response.status_code == 200
    assert "You are not signed in." in response.text
    assert set_cookie(response, "remember") is None  # neither rotated nor deleted
    assert "Could not restore a sign-in: OperationalError" in caplog.text
    assert client.get_cookie("remember").value == remember
    assert "Hello, alice" in client.get("/").text  # restored once the database is back


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/no/such/page", 404), ("GET", "/logout", 405), ("POST", "/logout", 400)],
)
def test_error_pages_render_for_a_signed_in_browser_while_the_database_is_unreachable(
    file_app: Flask, database_file: Path, method: str, path: str, status: int
) -> None:
    client = file_app.test_client()
    register(client)
    with unreachable(file_app, database_file):
        response = client.open(path, method=method)
    assert response.status_code == status
    assert "Error" in response.text
    assert "Signed in as" not in response.text  # who it is cannot be known
    assert response.headers["Content-Security-Policy"]
    assert client.get("/account").status_code == 200  # still signed in afterwards
